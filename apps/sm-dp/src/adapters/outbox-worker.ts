/**
 * Delivers the SM-DP's outbox (docs/services.md "Notifications to MNOs"): `mqtt:{topic}` destinations
 * are published at QoS 1, anything else is POSTed as JSON to the MNO's webhook. A failure is retried
 * with the outbox's backoff and dead-lettered after the last attempt. One small polling loop.
 */
import type { MqttClient } from 'mqtt';
import type { Outbox, OutboxMessage } from '@rsp/persistence';
import type { Logger } from '../domain/download-service';
import { MQTT_DESTINATION_PREFIX } from '../domain/notifier';

export interface OutboxWorkerOptions {
  /** Poll period (ms). Default 500. */
  intervalMs?: number;
  /** Webhook timeout (ms). Default 5000. */
  webhookTimeoutMs?: number;
}

export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly outbox: Outbox,
    private readonly mqtt: MqttClient,
    private readonly logger: Logger,
    private readonly options: OutboxWorkerOptions = {},
  ) {}

  start(): void {
    this.schedule();
  }

  /** Runs one delivery round now (tests, and the loop itself). */
  async drain(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.drain()
        .catch((error: unknown) => this.logger.error(`outbox round failed: ${(error as Error).message}`))
        .finally(() => this.schedule());
    }, this.options.intervalMs ?? 500);
  }

  private async round(): Promise<void> {
    for (const message of await this.outbox.claimDue()) {
      if (this.stopped) return;
      try {
        await this.deliver(message);
        await this.outbox.markDelivered(message.id);
      } catch (error) {
        const updated = await this.outbox.markFailed(message.id, error);
        if (updated.status === 'dead') this.logger.error(`notification ${message.id} dead-lettered after ${updated.attempts} attempts`);
      }
    }
  }

  private async deliver(message: OutboxMessage): Promise<void> {
    const body = JSON.stringify(message.payload);
    if (message.destination.startsWith(MQTT_DESTINATION_PREFIX)) {
      await this.mqtt.publishAsync(message.destination.slice(MQTT_DESTINATION_PREFIX.length), body, { qos: 1 });
      return;
    }
    const response = await fetch(message.destination, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(this.options.webhookTimeoutMs ?? 5000),
    });
    if (!response.ok) throw new Error(`webhook answered HTTP ${response.status}`);
  }
}
