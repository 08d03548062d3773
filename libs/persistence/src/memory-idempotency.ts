/**
 * The idempotency rule of {@link IdempotencyStore} (SGP.02 §5.1 functionCallIdentifier: one identifier, one
 * request, one outcome) kept in the process's memory instead of a table, for calls whose repeats can only
 * reach this process: a service's internal calls when it runs as a single instance (the SM-SR's ES3 from
 * its SM-DPs). No SQL per call. Same outcomes as the table (`succeeded` / `failed` replayed, `in-progress`,
 * `conflict` for another request under the identifier); what it does not give is memory across a restart:
 * a repeat after a restart runs again, which the callers tolerate (ES3 repeats are the SM-DP's retries of
 * operations the card itself refuses to run twice: SCP03 counters, single-use challenges).
 *
 * Bounded: outcomes are kept `retentionMs` and at most `maxEntries` (oldest dropped first).
 */
import { isRspError } from '@rsp/errors';
import type { IdempotencyPort, IdempotentOutcome } from './idempotency';

interface Entry {
  fingerprint: string | null;
  expiresAt: number;
  outcome: IdempotentOutcome<unknown> | undefined; // undefined while the first call runs
}

export interface MemoryIdempotencyOptions {
  /** How long an outcome is kept (and replayed). Default 24 h, as the table. */
  readonly retentionMs?: number;
  /** Most identifiers kept; the oldest go first. Default 100 000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export class MemoryIdempotencyStore implements IdempotencyPort {
  /** Insertion order = age order (Map iteration order), for cheap eviction. */
  private readonly entries = new Map<string, Entry>();
  private readonly retentionMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: MemoryIdempotencyOptions = {}) {
    this.retentionMs = options.retentionMs ?? 24 * 60 * 60 * 1000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  async claimOrReplay<T>(requester: string, callId: string, compute: () => Promise<T>, fingerprint?: string): Promise<IdempotentOutcome<T>> {
    const key = `${requester}\u0000${callId}`;
    const now = this.now();
    const existing = this.entries.get(key);
    if (existing && existing.expiresAt > now) {
      // Compared first: another request learns nothing of the first one, not even its state.
      if (existing.fingerprint !== (fingerprint ?? null)) return { status: 'conflict' };
      if (!existing.outcome) return { status: 'in-progress' };
      return { ...existing.outcome, replayed: true } as IdempotentOutcome<T>;
    }
    const entry: Entry = { fingerprint: fingerprint ?? null, expiresAt: now + this.retentionMs, outcome: undefined };
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.evict(now);
    try {
      const response = await compute();
      entry.outcome = { status: 'succeeded', response, replayed: false };
      return { status: 'succeeded', response, replayed: false };
    } catch (error) {
      if (!isRspError(error)) {
        if (this.entries.get(key) === entry) this.entries.delete(key); // nothing was decided: the caller may retry
        throw error;
      }
      entry.outcome = { status: 'failed', errorCode: error.code, errorMessage: error.message, replayed: false };
      return { status: 'failed', errorCode: error.code, errorMessage: error.message, replayed: false };
    }
  }

  /** Identifiers currently kept (tests). */
  get size(): number {
    return this.entries.size;
  }

  private evict(now: number): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && entry.expiresAt > now) break;
      if (entry.outcome === undefined && entry.expiresAt > now) break; // never drop a running call's claim
      this.entries.delete(key);
    }
  }
}
