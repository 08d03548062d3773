/**
 * The audit trail (docs/owner-registry.md "GET /devices/{eid}/audit"): who (iss, sub or API client),
 * what, when, the outcome (`ok` or the refusal's ERR_* code) and the token's auth context. Every
 * call is recorded, refusals included; wrong codes are counted from it for rate limiting.
 */
import { randomUUID } from 'node:crypto';
import { isRspError } from '@rsp/errors';
import type { Caller, RegistryDeps } from './context';
import { OwnerError } from './errors';
import type { ActorKind, AuditEvent } from './records';
import type { RegistryUnit } from './store';

/** What a use case tells the audit about itself while it runs (the device may be found midway). */
export interface AuditScope {
  eid?: string;
  target?: string;
}

export interface AuditEntry extends AuditScope {
  caller: Caller | undefined;
  action: string;
  outcome: string;
}

/** Guessing limit: this many wrong codes per caller within the window → 429 (docs: transfer codes, claims, PACs). */
export const GUESS_LIMIT = 5;
export const GUESS_WINDOW_MS = 10 * 60 * 1000;
const GUESS_OUTCOMES = [OwnerError.ClaimCodeInvalid.code, OwnerError.TransferCodeInvalid.code, OwnerError.PacInvalid.code];

export class AuditLog {
  constructor(private readonly deps: Pick<RegistryDeps, 'store' | 'now' | 'logger'>) {}

  async record(entry: AuditEntry, tx?: RegistryUnit): Promise<void> {
    const { caller } = entry;
    const kind: ActorKind = caller ? (caller.kind === 'owner' ? 'owner' : caller.kind) : 'anonymous';
    const identity = caller?.kind === 'owner' ? caller.identity : undefined;
    const row: AuditEvent = {
      id: randomUUID(),
      at: this.deps.now(),
      actorKind: kind,
      actorIss: identity?.iss ?? null,
      actorSub: identity?.sub ?? null,
      actorClient: caller && caller.kind !== 'owner' ? caller.clientId : null,
      action: entry.action,
      eid: entry.eid ?? null,
      target: entry.target?.slice(0, 256) ?? null,
      outcome: entry.outcome,
      authContext: identity
        ? { auth_time: identity.authTime ?? null, acr: identity.acr ?? null, amr: identity.amr ?? null, jti: identity.jti ?? null }
        : null,
    };
    try {
      await (tx ?? this.deps.store).audit.insert(row);
    } catch (error) {
      this.deps.logger.error(`audit write failed for ${entry.action}: ${(error as Error).message}`);
    }
  }

  /** Registry-initiated work (outbox deliveries): actor `registry`. */
  async recordRegistry(action: string, eid: string | undefined, target: string | undefined, outcome: string): Promise<void> {
    const row = { id: randomUUID(), at: this.deps.now(), actorKind: 'registry' as const, actorIss: null, actorSub: null, actorClient: null, action, eid: eid ?? null, target: target ?? null, outcome, authContext: null };
    await this.deps.store.audit.insert(row).catch((error: unknown) => this.deps.logger.error(`audit write failed: ${(error as Error).message}`));
  }

  /** Runs `work` and records its outcome (`ok`, or the error's code) whatever happens. */
  async run<T>(caller: Caller | undefined, action: string, scope: AuditScope, work: (scope: AuditScope) => Promise<T>): Promise<T> {
    try {
      const result = await work(scope);
      await this.record({ caller, action, ...scope, outcome: 'ok' });
      return result;
    } catch (error) {
      await this.record({ caller, action, ...scope, outcome: isRspError(error) ? error.code : 'ERR_OWNER_INTERNAL' });
      throw error;
    }
  }

  /** Refuses (429) a caller with {@link GUESS_LIMIT} wrong codes within {@link GUESS_WINDOW_MS}. */
  async checkGuessRate(caller: Caller): Promise<void> {
    const since = new Date(this.deps.now().getTime() - GUESS_WINDOW_MS);
    const who =
      caller.kind === 'owner'
        ? { actorIss: caller.identity.iss, actorSub: caller.identity.sub }
        : { actorClient: caller.clientId };
    const failures = await this.deps.store.audit.countOutcomes(who, GUESS_OUTCOMES, since);
    if (failures >= GUESS_LIMIT) throw new OwnerError.RateLimited('too many wrong codes: try again later');
  }

  /** A device's trail since `since` (the current owner's tenure), newest first. */
  forDevice(eid: string, since: Date, limit = 200): Promise<AuditEvent[]> {
    return this.deps.store.audit.forDevice(eid, since, limit);
  }
}
