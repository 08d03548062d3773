/**
 * What the SM-DP's outbox destinations mean (docs/services.md "Notifications to MNOs"): `mqtt:{topic}`
 * is published at QoS 1, anything else is POSTed as JSON to the MNO's webhook. The relay
 * (@rsp/persistence OutboxRelay) delivers them at least once, retries with the outbox's backoff and
 * dead-letters after the last attempt.
 */
import type { MqttClient } from 'mqtt';
import type { OutboxMessage } from '@rsp/persistence';
import { MQTT_DESTINATION_PREFIX } from '../domain/notifier';

export interface SmDpDeliveryOptions {
  mqtt: MqttClient;
  /** Webhook timeout (ms). Default 5000. */
  webhookTimeoutMs?: number;
}

export function smDpOutboxDelivery(options: SmDpDeliveryOptions): (message: OutboxMessage) => Promise<void> {
  return async (message) => {
    const body = JSON.stringify(message.payload);
    if (message.destination.startsWith(MQTT_DESTINATION_PREFIX)) {
      await options.mqtt.publishAsync(message.destination.slice(MQTT_DESTINATION_PREFIX.length), body, { qos: 1 });
      return;
    }
    const response = await fetch(message.destination, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(options.webhookTimeoutMs ?? 5000),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`webhook answered HTTP ${response.status}`);
  };
}
