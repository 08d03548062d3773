/**
 * Transactional outbox: messages are written in the caller's transaction, then claimed and delivered
 * (at least once) by a worker, retried with exponential backoff and jitter, dead-lettered after N attempts.
 *
 * With a relay attached (outbox-relay.ts), a message enqueued through {@link Outbox.transaction} is
 * written already claimed by this process and handed to the relay the moment its transaction commits:
 * delivered without waiting for a poll and without the claim statements. Should the process die first,
 * the claim runs out (`leaseMs`) and any instance's poll delivers it: still at least once.
 */
import { randomUUID } from 'node:crypto';
import { In, type DataSource, type EntityManager } from 'typeorm';
import { OutboxMessage } from './entities/outbox-message.entity';
import { PersistenceError } from './errors';
import { runStatement } from './prepared';
import { driverOf, insertRows, insertRowsStatement, placeholder, tableOf, toDbValue, type WriteStatement } from './sql';

/** What a caller enqueues. */
export interface OutboxInput {
  /** Webhook URL or MQTT topic (the worker decides by its form). */
  readonly destination: string;
  /** Any non-null JSON value. */
  readonly payload: unknown;
  /** Earliest delivery instant; default now. */
  readonly notBefore?: Date;
}

/** Retry policy: delay = min(maxDelayMs, baseDelayMs·2^(attempts−1)), then jittered to [½·delay, delay]. */
export interface BackoffPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Failed attempts after which the message is dead-lettered (status `dead`). */
  readonly maxAttempts: number;
}

/** Options of {@link Outbox}. */
export interface OutboxOptions {
  readonly backoff?: BackoffPolicy;
  /** How long a claim is exclusive; a crashed worker's messages come back after it. Default 60 s. */
  readonly leaseMs?: number;
  /** Injectable clock. */
  readonly now?: () => Date;
  /** Injectable random in [0, 1) for the jitter. */
  readonly random?: () => number;
}

/** Default policy: 1 s, 2 s, 4 s … capped at 5 min, dead after 8 failures. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseDelayMs: 1000, maxDelayMs: 5 * 60 * 1000, maxAttempts: 8 };

/** Delay (ms) before the next try after `attempts` failures (attempts ≥ 1), with "equal jitter". */
export function backoffDelay(policy: BackoffPolicy, attempts: number, random: () => number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}

/** Where committed messages go at once (outbox-relay.ts). */
export interface CommittedMessageSink {
  deliverNow(messages: readonly OutboxMessage[]): void;
}

/** Outbox over a DataSource with `OutboxMessage` among its entities. */
export class Outbox {
  private readonly backoff: BackoffPolicy;
  private sink: CommittedMessageSink | undefined;
  /** The messages each open {@link transaction} enqueued, by its manager. */
  private readonly collecting = new WeakMap<EntityManager, OutboxMessage[]>();
  private readonly leaseMs: number;
  private readonly now: () => Date;
  private readonly random: () => number;

  constructor(
    private readonly dataSource: DataSource,
    options: OutboxOptions = {},
  ) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
  }

  /** Committed messages go to `sink` at once (the relay calls this when it starts). */
  attach(sink: CommittedMessageSink | undefined): void {
    this.sink = sink;
  }

  /**
   * Runs `work` in one transaction; the messages it enqueues are handed to the attached relay as soon as
   * it commits. Same as `dataSource.transaction` otherwise.
   */
  async transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    const enqueued: OutboxMessage[] = [];
    const result = await this.dataSource.transaction((tx) => {
      this.collecting.set(tx, enqueued);
      return work(tx);
    });
    this.committed(enqueued);
    return result;
  }

  /** Adds a message inside the caller's transaction (`dataSource.transaction(tx => …)`): sent only if it commits. */
  async enqueue(tx: EntityManager, input: OutboxInput): Promise<OutboxMessage> {
    const collected = this.collecting.get(tx);
    const [message] = this.prepare([input], collected !== undefined);
    await insertRows(tx, OutboxMessage, [message as OutboxMessage]);
    collected?.push(message as OutboxMessage);
    return message as OutboxMessage;
  }

  /**
   * Rows for `inputs`, to write with {@link insert} in the caller's transaction; `forRelay`: claimed by
   * this process when a relay is attached (then hand them to {@link committed} after the commit).
   */
  prepare(inputs: readonly OutboxInput[], forRelay: boolean): OutboxMessage[] {
    const now = this.now();
    const claimed = forRelay && this.sink !== undefined ? new Date(now.getTime() + this.leaseMs) : null;
    return inputs.map((input) =>
      Object.assign(new OutboxMessage(), {
        id: randomUUID(),
        destination: input.destination,
        payload: input.payload,
        status: 'pending' as const,
        attempts: 0,
        nextAttemptAt: input.notBefore ?? now,
        claimedUntil: input.notBefore && input.notBefore > now ? null : claimed,
        deliveredAt: null,
        lastError: null,
        createdAt: now,
      }),
    );
  }

  /** Writes prepared messages (one INSERT) on `target`: the caller's transaction manager or the DataSource. */
  insert(target: DataSource | EntityManager, messages: readonly OutboxMessage[]): Promise<void> {
    return insertRows(target, OutboxMessage, messages);
  }

  /** {@link insert} as a statement for runWrites (atomic-writes.ts), with the caller's other writes; `messages` not empty. */
  insertStatement(messages: readonly OutboxMessage[]): WriteStatement {
    return insertRowsStatement(this.dataSource, OutboxMessage, messages);
  }

  /** After the commit: the claimed ones among `messages` go to the relay now. */
  committed(messages: readonly OutboxMessage[]): void {
    const claimed = messages.filter((message) => message.claimedUntil !== null);
    if (claimed.length > 0) this.sink?.deliverNow(claimed);
  }

  /**
   * Claims up to `limit` pending messages due at `now` for `leaseMs`, oldest first. One atomic
   * `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING id`: on Postgres the sub-select takes
   * `FOR UPDATE SKIP LOCKED`, so concurrent claimers get disjoint rows without waiting; SQLite has a
   * single writer, so the statement runs alone (other processes wait on the busy timeout).
   */
  async claimDue(now: Date = this.now(), limit = 10): Promise<OutboxMessage[]> {
    const kind = driverOf(this.dataSource);
    const table = tableOf(this.dataSource, OutboxMessage);
    const at = (value: Date) => toDbValue(this.dataSource, OutboxMessage, 'nextAttemptAt', value);
    const p = (n: number) => placeholder(kind, n);
    const lock = kind === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
    const sql = `UPDATE ${table} SET "claimed_until" = ${p(1)}
      WHERE "id" IN (SELECT "id" FROM ${table}
        WHERE "status" = 'pending' AND "next_attempt_at" <= ${p(2)}
          AND ("claimed_until" IS NULL OR "claimed_until" <= ${p(3)})
        ORDER BY "next_attempt_at", "id" LIMIT ${p(4)} ${lock})
      RETURNING "id"`;
    const leaseEnd = new Date(now.getTime() + this.leaseMs);
    const { rows } = await runStatement(this.dataSource, sql, [at(leaseEnd), at(now), at(now), limit]);
    const ids = rows.map((row) => String(row.id));
    if (ids.length === 0) return [];
    const messages = await this.dataSource.getRepository(OutboxMessage).findBy({ id: In(ids) });
    return messages.sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.id.localeCompare(b.id));
  }

  /** Records a successful delivery; the message is never claimed again. */
  async markDelivered(id: string, at: Date = this.now()): Promise<void> {
    if ((await this.markAllDelivered([id], at)) === 0) throw new PersistenceError.NotFound(`no pending outbox message ${id}`);
  }

  /**
   * Records the delivery of several messages in one statement; returns how many were still pending. On
   * PostgreSQL the ids go as one array parameter (`= ANY($2)`), so the text never varies and runs prepared
   * (prepared.ts); SQLite lists them (`IN (?, …)`), its runner caching a statement per count.
   */
  async markAllDelivered(ids: readonly string[], at: Date = this.now()): Promise<number> {
    if (ids.length === 0) return 0;
    const kind = driverOf(this.dataSource);
    const postgres = kind === 'postgres';
    const table = tableOf(this.dataSource, OutboxMessage);
    const matching = postgres ? '= ANY($2)' : `IN (${ids.map(() => '?').join(', ')})`;
    const sql = `UPDATE ${table} SET "status" = 'delivered', "delivered_at" = ${placeholder(kind, 1)}, "claimed_until" = NULL
      WHERE "id" ${matching} AND "status" = 'pending'`;
    const deliveredAt = toDbValue(this.dataSource, OutboxMessage, 'deliveredAt', at);
    return (await runStatement(this.dataSource, sql, postgres ? [deliveredAt, [...ids]] : [deliveredAt, ...ids], postgres)).affected;
  }

  /**
   * Records a failed attempt: reschedules after the backoff delay, or dead-letters once the attempts
   * reach `backoff.maxAttempts`. Returns the updated message.
   */
  async markFailed(id: string, error: unknown, backoff: BackoffPolicy = this.backoff): Promise<OutboxMessage> {
    const repository = this.dataSource.getRepository(OutboxMessage);
    const message = await repository.findOneBy({ id, status: 'pending' });
    if (!message) throw new PersistenceError.NotFound(`no pending outbox message ${id}`);
    const attempts = message.attempts + 1;
    const dead = attempts >= backoff.maxAttempts;
    const now = this.now();
    const changes = {
      attempts,
      lastError: describe(error),
      claimedUntil: null,
      status: dead ? ('dead' as const) : ('pending' as const),
      nextAttemptAt: dead ? now : new Date(now.getTime() + backoffDelay(backoff, attempts, this.random)),
    };
    await repository.update({ id, attempts: message.attempts }, changes);
    return Object.assign(message, changes);
  }

  /**
   * The newest messages to one destination (an MNO's notification topic, say), pending, delivered or dead,
   * newest first: what an operator's console reads back. One indexed-by-nothing read of at most `limit` rows:
   * meant for a person's screen, not a hot path.
   */
  recentTo(destination: string, limit = 50): Promise<OutboxMessage[]> {
    return this.dataSource.getRepository(OutboxMessage).find({ where: { destination }, take: Math.min(Math.max(limit, 1), 200), order: { createdAt: 'DESC' } });
  }

  /** Dead-lettered messages, for inspection or manual replay. */
  deadLetters(limit = 100): Promise<OutboxMessage[]> {
    return this.dataSource.getRepository(OutboxMessage).find({ where: { status: 'dead' }, take: limit, order: { createdAt: 'ASC' } });
  }
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${(error as { code?: unknown }).code ?? error.name}: ${error.message}` : String(error);
  return text.slice(0, 2000);
}
