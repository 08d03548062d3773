/**
 * What the SM-SR's outbox destinations mean; the relay (@rsp/persistence OutboxRelay) delivers them at
 * least once, right after the commit or by its poll, with the outbox's backoff and dead letters
 * (docs/services.md "Notifications to MNOs").
 *
 * Destinations:
 * - `svc:{pattern}`: an MQTT service request (ES3 callback to an SM-DP, `smdp/{smdpId}/es3/Handle…`);
 *   delivered when the SM-DP replies (any data; a transport error retries);
 * - `mqtt:{topic}`: a QoS 1 publish (ES4 `rsp/v1/mno/{mnoId}/es4/notify`);
 * - `http://…` / `https://…`: a webhook POST of the JSON payload; delivered on a 2xx answer.
 */
import type { MqttClient } from 'mqtt';
import type { RspRequester } from '@rsp/mqtt-transport';
import type { OutboxMessage } from '@rsp/persistence';

export interface SmSrDeliveryOptions {
  requester: RspRequester;
  mqtt: MqttClient;
  /** Per-delivery timeout (ms); default 5000. */
  timeoutMs?: number;
}

export function smSrOutboxDelivery(options: SmSrDeliveryOptions): (message: OutboxMessage) => Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return async ({ destination, payload }) => {
    if (destination.startsWith('svc:')) {
      await options.requester.request(destination.slice('svc:'.length), payload, { timeoutMs });
      return;
    }
    if (destination.startsWith('mqtt:')) {
      await options.mqtt.publishAsync(destination.slice('mqtt:'.length), JSON.stringify(payload), { qos: 1 });
      return;
    }
    if (/^https?:\/\//.test(destination)) {
      const response = await fetch(destination, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`webhook answered HTTP ${response.status}`);
      return;
    }
    throw new Error('unsupported outbox destination');
  };
}
