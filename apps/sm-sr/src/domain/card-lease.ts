/**
 * The cross-instance half of the per-card lock: several SM-SR instances of one SM-SR id share the ES3 /
 * ES4 requests and the card notifications ($share, docs/topics.md) and one database. An ISD-R holds one
 * SCP03 session (a SELECT from another instance ends it, GP 2.3 §11.1 / SGP.02 §2.4.3 [U]), and the
 * registry must follow the card's order of changes, so only one instance may talk to a card at a time.
 *
 * A lease row per EID in the shared database (`smsr_card_lease`: eid, holder, expires_at): acquired with
 * an atomic "take over if expired or mine, else insert if absent" (adapters/persistence/card-lease-store.ts),
 * renewed while the work runs, deleted after. A waiting instance polls with a small, growing, jittered
 * backoff until its deadline, then fails like an ES5 exchange that ran out of time (ERR_ES5_TIMEOUT).
 * A crashed holder's lease expires after `ttlMs` and is taken over.
 *
 * Assumption [U]: the instances' clocks agree to well within `ttlMs` (expiry is compared with the
 * acquirer's clock; NTP-synchronised hosts).
 */
import { randomUUID } from 'node:crypto';
import { Es5Error } from '../es5/errors';
import type { SmSrLogger } from './model';

/** The lease rows (one per EID). Every method is a single atomic statement sequence on the database. */
export interface CardLeaseStore {
  /** Takes the lease of `eid` for `holder` until `expiresAt` if it is free, expired at `now`, or already `holder`'s. */
  tryAcquire(eid: string, holder: string, expiresAt: number, now: number): Promise<boolean>;
  /** Extends `holder`'s lease; false when it is no longer `holder`'s (expired and taken over). */
  renew(eid: string, holder: string, expiresAt: number): Promise<boolean>;
  /** Deletes the lease if `holder` still holds it. */
  release(eid: string, holder: string): Promise<void>;
}

export interface CardLeaseOptions {
  store: CardLeaseStore;
  /** Identifies this SM-SR instance in the holder column (a per-acquisition suffix is added). */
  instanceId: string;
  /** Lease lifetime; renewed every ttlMs/3 while the work runs. Default 30 s. */
  ttlMs?: number;
  /** Longest wait for a busy card when the caller gives no deadline. Default 60 s. */
  maxWaitMs?: number;
  logger: SmSrLogger;
  now?: () => number;
}

const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 250;

export class CardLease {
  private readonly ttlMs: number;
  private readonly maxWaitMs: number;
  private readonly now: () => number;

  constructor(private readonly options: CardLeaseOptions) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Runs `work` while holding the lease of `eid`; waits (polling) until `deadline` for another holder to finish. */
  async withLease<T>(eid: string, work: () => Promise<T>, deadline?: number): Promise<T> {
    const holder = await this.acquire(eid, deadline ?? this.now() + this.maxWaitMs);
    const renewal = setInterval(() => void this.renew(eid, holder), Math.max(50, Math.floor(this.ttlMs / 3)));
    renewal.unref();
    try {
      return await work();
    } finally {
      clearInterval(renewal);
      await this.options.store.release(eid, holder).catch((error: unknown) => {
        this.options.logger.warn(`card lease of ${eid} not released (expires by itself): ${(error as Error).message}`, { eid });
      });
    }
  }

  /** Polls until the lease is ours; returns the holder token. */
  private async acquire(eid: string, deadline: number): Promise<string> {
    const holder = `${this.options.instanceId}/${randomUUID()}`;
    let pause = FIRST_POLL_MS;
    for (;;) {
      const now = this.now();
      if (await this.options.store.tryAcquire(eid, holder, now + this.ttlMs, now)) return holder;
      const left = deadline - this.now();
      if (left <= 0) throw new Es5Error.Timeout(`card ${eid} stayed busy on another SM-SR instance until the deadline`);
      const jittered = pause / 2 + (Math.random() * pause) / 2;
      await new Promise((resolve) => setTimeout(resolve, Math.min(jittered, left)));
      pause = Math.min(MAX_POLL_MS, pause * 2);
    }
  }

  private async renew(eid: string, holder: string): Promise<void> {
    try {
      if (!(await this.options.store.renew(eid, holder, this.now() + this.ttlMs))) {
        this.options.logger.warn(`card lease of ${eid} lost (expired and taken over) during an exchange`, { eid });
      }
    } catch (error) {
      this.options.logger.warn(`card lease of ${eid} not renewed: ${(error as Error).message}`, { eid });
    }
  }
}
