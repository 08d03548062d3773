/**
 * The one outbox relay every service runs: it delivers what the service's transactions enqueued, at
 * least once. Two ways in:
 *
 * | way | when | statements per message |
 * |---|---|---|
 * | `deliverNow` | right after the enqueuing transaction committed (Outbox.transaction) | the INSERT, then one UPDATE per batch |
 * | poll | every `pollMs`: retries after backoff, messages of a crashed process, plain `enqueue`s | claim + read + UPDATE |
 *
 * What a destination means (MQTT topic, ES service request, webhook…) is the service's `deliver`; the
 * relay owns retries (Outbox backoff), dead letters and logging. Log lines name a webhook by its origin
 * only (its path or query may carry a token).
 */
import type { Outbox } from './outbox';
import type { OutboxMessage } from './entities/outbox-message.entity';

export interface OutboxRelayLogger {
  warn(message: string): void;
  error(message: string): void;
}

export interface OutboxRelayOptions {
  outbox: Outbox;
  /** Delivers one message; resolves once the destination has it (throw = retry later). */
  deliver: (message: OutboxMessage) => Promise<void>;
  logger: OutboxRelayLogger;
  /** Poll period (ms). Default 500. */
  pollMs?: number;
  /** Messages claimed per poll statement. Default 20. */
  batchSize?: number;
  /**
   * Deliveries are recorded together: one UPDATE for every message delivered within this window (ms).
   * A crash inside it only means those messages are delivered once more (at least once). Default 5.
   */
  markWindowMs?: number;
}

export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<number> | undefined;
  private pollAgain = false;
  private readonly direct = new Set<Promise<unknown>>();
  private delivered: string[] = [];
  private marking: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: OutboxRelayOptions) {}

  /** Starts polling and takes the outbox's committed messages from now on. */
  start(): void {
    this.options.outbox.attach(this);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.options.outbox.attach(undefined);
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([this.polling, ...this.direct]);
    await this.marking;
  }

  /** Delivers messages this process has just committed, claimed, without a poll. */
  deliverNow(messages: readonly OutboxMessage[]): void {
    if (this.stopped) return; // still claimed: a poll after the lease delivers them
    const run = this.deliverAll(messages).catch((error: unknown) => this.options.logger.error(`outbox: ${describe(error)}`));
    this.direct.add(run);
    void run.finally(() => this.direct.delete(run));
  }

  /** A poll round now (or right after the running one). */
  kick(): void {
    if (this.stopped) return;
    if (this.polling) this.pollAgain = true;
    else void this.drain();
  }

  /** One poll round: everything due now. Returns how many were delivered. */
  drain(): Promise<number> {
    this.polling ??= this.pollRound().finally(() => {
      this.polling = undefined;
      if (this.pollAgain && !this.stopped) {
        this.pollAgain = false;
        this.kick();
      }
    });
    return this.polling;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.drain().finally(() => this.schedule(this.options.pollMs ?? 500));
    }, delayMs);
  }

  private async pollRound(): Promise<number> {
    let delivered = 0;
    try {
      for (;;) {
        const batch = await this.options.outbox.claimDue(undefined, this.options.batchSize ?? 20);
        if (batch.length === 0) break;
        delivered += await this.deliverAll(batch);
        if (this.stopped) break;
      }
    } catch (error) {
      if (!this.stopped) this.options.logger.error(`outbox: ${describe(error)}`);
    }
    return delivered;
  }

  /** Delivers claimed messages in parallel; one UPDATE for the delivered ones, a retry schedule for the others. */
  private async deliverAll(messages: readonly OutboxMessage[]): Promise<number> {
    const outcomes = await Promise.all(
      messages.map(async (message) => {
        try {
          await this.options.deliver(message);
          return { message, error: undefined };
        } catch (error) {
          return { message, error: error ?? new Error('delivery failed') };
        }
      }),
    );
    const delivered = outcomes.filter((outcome) => outcome.error === undefined).map((outcome) => outcome.message.id);
    await this.recordDelivered(delivered);
    for (const { message, error } of outcomes) {
      if (error === undefined) continue;
      const updated = await this.options.outbox.markFailed(message.id, error);
      const where = destinationForLog(message.destination);
      if (updated.status === 'dead') this.options.logger.error(`outbox: ${where} dead-lettered after ${updated.attempts} attempts: ${describe(error)}`);
      else this.options.logger.warn(`outbox: ${where} attempt ${updated.attempts} failed (${describe(error)}); retry at ${updated.nextAttemptAt.toISOString()}`);
    }
    return delivered.length;
  }

  /** Joins the deliveries of one window into one UPDATE; resolves once it is written. */
  private recordDelivered(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    this.delivered.push(...ids);
    this.marking ??= new Promise<void>((resolve) => setTimeout(resolve, this.options.markWindowMs ?? 5)).then(async () => {
      const batch = this.delivered;
      this.delivered = [];
      this.marking = undefined;
      try {
        await this.options.outbox.markAllDelivered(batch);
      } catch (error) {
        // Still claimed: after the lease a poll delivers them again (at least once).
        this.options.logger.error(`outbox: recording ${batch.length} deliveries failed: ${describe(error)}`);
      }
    });
    return this.marking;
  }
}

/** A destination as a log line may show it: a webhook by its origin only. */
export function destinationForLog(destination: string): string {
  if (!/^https?:\/\//.test(destination)) return destination;
  try {
    return new URL(destination).origin;
  } catch {
    return 'webhook';
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${(error as { code?: unknown }).code ?? error.name}: ${error.message}`;
  return String(error);
}
