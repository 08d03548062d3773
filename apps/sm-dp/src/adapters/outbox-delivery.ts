/**
 * What the SM-DP's outbox destinations mean (docs/services.md "Notifications to MNOs"): `mqtt:{topic}`
 * is published at QoS 1, `rsp:download-compensation` runs a failed download's compensation again
 * (its DeleteISDP had failed: docs/services.md "ES2 DownloadProfile"), anything else is POSTed as JSON to
 * the MNO's webhook. The relay (@rsp/persistence OutboxRelay) delivers them at least once, retries with
 * the outbox's backoff and dead-letters after the last attempt.
 */
import type { DataSource } from 'typeorm';
import type { MqttClient } from 'mqtt';
import type { Outbox, OutboxMessage } from '@rsp/persistence';
import type { CompensationRetryQueue } from '../domain/download-service';
import { MQTT_DESTINATION_PREFIX } from '../domain/notifier';

/** The outbox destination of a compensation to run again; not a URL, so never taken for a webhook. */
export const COMPENSATION_DESTINATION = 'rsp:download-compensation';

/** The first retry of a compensation waits this long; the outbox's backoff paces the next ones. */
const FIRST_COMPENSATION_RETRY_MS = 1000;

/** CompensationRetryQueue over the outbox: one message per compensation, picked up by the relay's poll. */
export function outboxCompensationRetry(outbox: Outbox, dataSource: DataSource): CompensationRetryQueue {
  return {
    async retryLater(transactionId) {
      const rows = outbox.prepare([{ destination: COMPENSATION_DESTINATION, payload: { transactionId }, notBefore: new Date(Date.now() + FIRST_COMPENSATION_RETRY_MS) }], false);
      await outbox.insert(dataSource, rows);
    },
  };
}

export interface SmDpDeliveryOptions {
  mqtt: MqttClient;
  /** Runs a download's compensation again (DownloadService.retryCompensation); throws while it cannot. */
  compensate?: (transactionId: string) => Promise<void>;
  /** Webhook timeout (ms). Default 5000. */
  webhookTimeoutMs?: number;
}

export function smDpOutboxDelivery(options: SmDpDeliveryOptions): (message: OutboxMessage) => Promise<void> {
  return async (message) => {
    if (message.destination === COMPENSATION_DESTINATION) {
      const transactionId = (message.payload as { transactionId?: unknown } | null)?.transactionId;
      if (typeof transactionId !== 'string' || !options.compensate) throw new Error('compensation message without a transaction or a handler');
      await options.compensate(transactionId);
      return;
    }
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
