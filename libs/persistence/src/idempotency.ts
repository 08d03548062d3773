/**
 * At-most-once execution of a function call per `(requester, functionCallIdentifier)`.
 *
 * SGP.02 §5.1 (function call model; functionCallIdentifier): a repeated call must return the outcome of
 * the first one, not run again. Safety across processes comes from the table's composite primary key:
 * the claim is a plain INSERT committed on its own, so exactly one caller (any process, any driver)
 * wins it; every other caller reads the stored row instead of computing.
 *
 * One rule for every interface (ES1–ES4): the claim stores the request's fingerprint, and a later call
 * with the same identifier but another request is a `conflict` (answered Failed 1.6 / 3.3 by the
 * services), never the first call's outcome: a `DisableProfile` must not be "replayed" as an earlier
 * `GetEIS` answer.
 */
import { createHash } from 'node:crypto';
import { isRspError } from '@rsp/errors';
import { LessThan, type DataSource } from 'typeorm';
import { IdempotencyRecord } from './entities/idempotency-record.entity';
import { insertRow, isUniqueViolation, updateRows } from './sql';

/**
 * Outcome handed back by {@link IdempotencyStore.claimOrReplay}. `replayed` = stored by an earlier call;
 * `conflict` = the identifier belongs to another request (nothing ran, nothing is revealed).
 */
export type IdempotentOutcome<T> =
  | { readonly status: 'succeeded'; readonly response: T; readonly replayed: boolean }
  | { readonly status: 'failed'; readonly errorCode: string; readonly errorMessage: string; readonly replayed: boolean }
  | { readonly status: 'in-progress' }
  | { readonly status: 'conflict' };

/** Canonical JSON: object keys sorted, so equal requests always give the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The fingerprint {@link IdempotencyStore.claimOrReplay} compares: hex SHA-256 of the canonical
 * `{ fn, request }`. The whole validated request counts, header included (functionRequesterIdentifier,
 * functionCallIdentifier, validityPeriod): a repeat must be the same request, as ES2 has always hashed
 * it (the formula is unchanged, so hashes kept by running download flows still match).
 */
export function requestFingerprint(functionName: string, request: unknown): string {
  return createHash('sha256').update(canonicalJson({ fn: functionName, request })).digest('hex');
}

/** Options of {@link IdempotencyStore}. */
export interface IdempotencyOptions {
  /** How long an outcome is kept (and replayed). Default 24 h. */
  readonly retentionMs?: number;
  /** Injectable clock. */
  readonly now?: () => Date;
}

const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;

/** What a function frame needs: the claim-or-replay rule (the table below, or memory-idempotency.ts). */
export interface IdempotencyPort {
  claimOrReplay<T>(requester: string, callId: string, compute: () => Promise<T>, fingerprint?: string): Promise<IdempotentOutcome<T>>;
}

/** Idempotency records over a DataSource with `IdempotencyRecord` among its entities. */
export class IdempotencyStore implements IdempotencyPort {
  private readonly retentionMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly dataSource: DataSource,
    options: IdempotencyOptions = {},
  ) {
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.now = options.now ?? (() => new Date());
  }

  private get repository() {
    return this.dataSource.getRepository(IdempotencyRecord);
  }

  /**
   * Runs `compute` if this is the first call with `(requester, callId)` and stores its outcome with the
   * request's `fingerprint` ({@link requestFingerprint}); otherwise, when the stored fingerprint equals
   * this one, returns the stored outcome (`replayed: true`) or `in-progress` while the first call still
   * runs, and when it differs `conflict` (SGP.02 §5.1: one functionCallIdentifier, one request).
   * `compute` throwing an RspError is a stored failure (replayed with its code); any other error
   * releases the claim (nothing was decided) and is rethrown so the caller can retry.
   * Without a fingerprint only fingerprint-less records match (generic callers, tests).
   */
  async claimOrReplay<T>(requester: string, callId: string, compute: () => Promise<T>, fingerprint?: string): Promise<IdempotentOutcome<T>> {
    if (!(await this.claim(requester, callId, fingerprint ?? null))) return this.replay<T>(requester, callId, fingerprint ?? null);
    const key = { requester, functionCallIdentifier: callId };
    let response: T;
    try {
      response = await compute();
    } catch (error) {
      if (!isRspError(error)) {
        await this.repository.delete({ ...key, status: 'in-progress' });
        throw error;
      }
      const failure = { code: error.code, message: error.message };
      await updateRows(this.dataSource, IdempotencyRecord, { ...key, status: 'in-progress' }, { status: 'failed', errorCode: error.code, response: failure });
      return { status: 'failed', errorCode: error.code, errorMessage: error.message, replayed: false };
    }
    // `response ?? null`: JSON columns store null for undefined.
    // insertRow / updateRows: the same statements without the query builder (one claim and one outcome per
    // ES2/ES3 call; bench -- provisioning profile).
    await updateRows(this.dataSource, IdempotencyRecord, { ...key, status: 'in-progress' }, { status: 'succeeded', response: response ?? null });
    return { status: 'succeeded', response, replayed: false };
  }

  /**
   * Stores the outcome of a call whose first caller is gone (its process crashed while computing; the
   * work was finished by a resumed flow): `in-progress` → `succeeded`, so repeats replay it. False when
   * the record is missing or already decided. `fingerprint`: the claimed request's, kept by the flow; it
   * fills in records claimed before the column existed (it equals the stored one otherwise).
   */
  async settle<T>(requester: string, callId: string, response: T, fingerprint?: string): Promise<boolean> {
    const outcome = { status: 'succeeded' as const, response: response ?? null, ...(fingerprint !== undefined ? { requestFingerprint: fingerprint } : {}) };
    return 0 < (await updateRows(this.dataSource, IdempotencyRecord, { requester, functionCallIdentifier: callId, status: 'in-progress' }, outcome));
  }

  /** Stored record of a call, or null. */
  find(requester: string, callId: string): Promise<IdempotencyRecord | null> {
    return this.repository.findOneBy({ requester, functionCallIdentifier: callId });
  }

  /** Deletes records whose retention ended; returns how many. */
  async purgeExpired(): Promise<number> {
    const result = await this.repository.delete({ expiresAt: LessThan(this.now()) });
    return result.affected ?? 0;
  }

  /** INSERT the claim; false when another caller already holds (or held) the key. */
  private async claim(requester: string, callId: string, fingerprint: string | null): Promise<boolean> {
    const now = this.now();
    const row = {
      requester,
      functionCallIdentifier: callId,
      requestFingerprint: fingerprint,
      status: 'in-progress' as const,
      response: null,
      errorCode: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.retentionMs),
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await insertRow(this.dataSource, IdempotencyRecord, row);
        return true;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
      // An expired record no longer protects the identifier: drop it (only if still expired) and retry once.
      const dropped = await this.repository.delete({ requester, functionCallIdentifier: callId, expiresAt: LessThan(now) });
      if (!dropped.affected) return false;
    }
    return false;
  }

  private async replay<T>(requester: string, callId: string, fingerprint: string | null): Promise<IdempotentOutcome<T>> {
    const record = await this.find(requester, callId);
    // Vanished between INSERT and SELECT: the first caller released it after an unexpected error.
    if (!record) return { status: 'in-progress' };
    // Compared before anything else: another request learns nothing of the first one, not even its state.
    if ((record.requestFingerprint ?? null) !== fingerprint) return { status: 'conflict' };
    if (record.status === 'in-progress') return { status: 'in-progress' };
    if (record.status === 'failed') {
      const failure = (record.response ?? {}) as { message?: string };
      return { status: 'failed', errorCode: record.errorCode ?? '', errorMessage: failure.message ?? '', replayed: true };
    }
    return { status: 'succeeded', response: record.response as T, replayed: true };
  }
}
