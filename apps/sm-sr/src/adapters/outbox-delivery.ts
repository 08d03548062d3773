/**
 * The outbox worker: claims due notifications and delivers them at least once, with the backoff and
 * dead letters of @rsp/persistence's Outbox (docs/services.md "Notifications to MNOs").
 *
 * Destinations:
 * - `svc:{pattern}`: an MQTT service request (ES3 callback to an SM-DP, `smdp/{smdpId}/es3/Handle…`);
 *   delivered when the SM-DP replies (any data; a transport error retries);
 * - `mqtt:{topic}`: a QoS 1 publish (ES4 `rsp/v1/mno/{mnoId}/es4/notify`);
 * - `http://…` / `https://…`: a webhook POST of the JSON payload; delivered on a 2xx answer.
 */
import type { MqttClient } from 'mqtt';
import type { RspRequester } from '@rsp/mqtt-transport';
import type { Outbox, OutboxMessage } from '@rsp/persistence';
import { describe } from '../domain/function-runner';
import type { SmSrLogger } from '../domain/model';

export interface OutboxWorkerOptions {
  outbox: Outbox;
  requester: RspRequester;
  mqtt: MqttClient;
  logger: SmSrLogger;
  /** Poll period (ms); default 500. */
  pollMs?: number;
  /** Per-delivery timeout (ms); default 5000. */
  timeoutMs?: number;
}

export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: OutboxWorkerOptions) {}

  start(): void {
    const period = this.options.pollMs ?? 500;
    const loop = () => {
      if (this.stopped) return;
      this.running = this.drain().then(() => undefined).finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(loop, period);
      });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: deliver everything due now. Returns how many were delivered. */
  async drain(): Promise<number> {
    let delivered = 0;
    try {
      for (;;) {
        const batch = await this.options.outbox.claimDue(undefined, 20);
        if (batch.length === 0) break;
        const results = await Promise.all(batch.map((message) => this.deliverOne(message)));
        delivered += results.filter(Boolean).length;
        if (this.stopped) break;
      }
    } catch (error) {
      if (!this.stopped) this.options.logger.error(`outbox: ${describe(error)}`);
    }
    return delivered;
  }

  private async deliverOne(message: OutboxMessage): Promise<boolean> {
    try {
      await this.deliver(message.destination, message.payload);
      await this.options.outbox.markDelivered(message.id);
      return true;
    } catch (error) {
      const updated = await this.options.outbox.markFailed(message.id, error);
      const where = message.destination.startsWith('http') ? new URL(message.destination).origin : message.destination;
      if (updated.status === 'dead') this.options.logger.error(`outbox: ${where} dead-lettered after ${updated.attempts} attempts: ${describe(error)}`);
      else this.options.logger.warn(`outbox: ${where} attempt ${updated.attempts} failed (${describe(error)}); retry at ${updated.nextAttemptAt.toISOString()}`);
      return false;
    }
  }

  private async deliver(destination: string, payload: unknown): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? 5000;
    if (destination.startsWith('svc:')) {
      await this.options.requester.request(destination.slice('svc:'.length), payload, { timeoutMs });
      return;
    }
    if (destination.startsWith('mqtt:')) {
      await this.options.mqtt.publishAsync(destination.slice('mqtt:'.length), JSON.stringify(payload), { qos: 1 });
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
  }
}
