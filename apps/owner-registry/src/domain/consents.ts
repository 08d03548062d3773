/**
 * Owner consents (docs/owner-registry.md "Consent tokens"): signed with `signConsent` of
 * @rsp/identity at the device's current epoch and recorded; revoking one adds its `jti` to the
 * device status `revokedConsents` and republishes it.
 */
import { CONSENT_OPERATIONS, isConsentOperation, signConsent, type ConsentOperation } from '@rsp/identity';
import { deviceFor } from './access';
import type { AuditLog } from './audit';
import { subjectOf, type ClientCaller, type OwnerCaller, type RegistryDeps, type Subject } from './context';
import { touchAndPublish } from './device-status';
import { OwnerError } from './errors';
import type { Consent, Device } from './records';
import { runSteps, type Step } from './steps';
import type { RegistryUnit } from './store';
import { bodyOf } from './validate';

/** Longest consent an owner may give (30 days) [U: a policy choice]. */
export const MAX_CONSENT_SECONDS = 30 * 24 * 3600;

export interface MintedConsent {
  consent: string;
  jti: string;
  expiresAt: string;
}

/** Signs and records a consent for `mnoId` at the device's current epoch (inside the caller's transaction). */
export async function mintConsent(
  deps: RegistryDeps,
  tx: RegistryUnit,
  input: { device: Device; mnoId: string; operations: ConsentOperation[]; expiresInSeconds: number; givenBy: Subject | null },
): Promise<MintedConsent> {
  const now = deps.now();
  const { token, claims } = await signConsent(
    { issuer: deps.config.registryUrl, eid: input.device.eid, mnoId: input.mnoId, operations: input.operations, epoch: input.device.consentEpoch, expiresInSeconds: input.expiresInSeconds, now },
    deps.config.consentKey,
  );
  await tx.consents.insert({
    jti: claims.jti,
    eid: input.device.eid,
    mnoId: input.mnoId,
    ops: claims.ops,
    epoch: claims.epoch,
    givenByIss: input.givenBy?.iss ?? null,
    givenBySub: input.givenBy?.sub ?? null,
    expiresAt: new Date(claims.exp * 1000),
    createdAt: now,
    revokedAt: null,
  });
  return { consent: token, jti: claims.jti, expiresAt: new Date(claims.exp * 1000).toISOString() };
}

interface GiveContext {
  owner: OwnerCaller;
  eid: string;
  body: Record<string, unknown>;
  mnoId?: string;
  operations?: ConsentOperation[];
  expiresInSeconds?: number;
  minted?: MintedConsent;
}

export class Consents {
  constructor(
    private readonly deps: RegistryDeps,
    private readonly audit: AuditLog,
  ) {}

  /** POST /devices/{eid}/consents (owner only). */
  give(owner: OwnerCaller, eid: string, input: unknown): Promise<MintedConsent> {
    const steps: Array<Step<GiveContext>> = [
      { name: 'validate', run: (c) => this.validate(c) },
      {
        name: 'sign-and-record',
        run: (c) =>
          this.deps.store.transaction(async (tx) => {
            const { device } = await deviceFor(tx, c.eid, subjectOf(c.owner), 'owner');
            c.minted = await mintConsent(this.deps, tx, { device, mnoId: c.mnoId!, operations: c.operations!, expiresInSeconds: c.expiresInSeconds!, givenBy: subjectOf(c.owner) });
          }),
      },
    ];
    return this.audit.run(owner, 'consent.give', { eid }, async (scope) => {
      const context = await runSteps(steps, { owner, eid, body: bodyOf(input) });
      scope.target = `consent:${context.minted!.jti}`;
      return context.minted!;
    });
  }

  /** DELETE /consents/{jti} (the device's owner). */
  revoke(owner: OwnerCaller, jti: string): Promise<{ jti: string; revokedAt: string }> {
    return this.audit.run(owner, 'consent.revoke', { target: `consent:${jti}` }, async (scope) => {
      const result = await this.deps.store.transaction(async (tx) => {
        const consent = await tx.consents.byJti(jti);
        if (!consent) throw new OwnerError.NotFound('no such consent');
        scope.eid = consent.eid;
        await deviceFor(tx, consent.eid, subjectOf(owner), 'owner');
        const now = this.deps.now();
        if (!consent.revokedAt) {
          await tx.consents.revoke(jti, now);
          await touchAndPublish(tx, consent.eid, now);
        }
        return { jti, revokedAt: (consent.revokedAt ?? now).toISOString() };
      });
      this.deps.kickOutbox();
      return result;
    });
  }

  /** Consents of the device an MNO currently holds (valid: current epoch, not revoked, not expired). */
  async validConsentOf(tx: RegistryUnit, eid: string, mno: ClientCaller, operations?: ConsentOperation[]): Promise<Consent | undefined> {
    const device = await tx.devices.byEid(eid);
    if (!device) return undefined;
    const consents = await tx.consents.valid(eid, mno.clientId, device.consentEpoch, this.deps.now());
    return consents.find((consent) => !operations || operations.some((op) => consent.ops.includes(op)));
  }

  private validate(c: GiveContext): void {
    const { mnoId, operations, expiresInSeconds } = c.body;
    if (typeof mnoId !== 'string' || !this.deps.config.mnos.has(mnoId)) throw new OwnerError.BadRequest('mnoId: a known MNO');
    if (!Array.isArray(operations) || operations.length === 0 || !operations.every(isConsentOperation)) {
      throw new OwnerError.BadRequest(`operations: a non-empty list of ${CONSENT_OPERATIONS.join(' | ')}`);
    }
    const seconds = expiresInSeconds ?? 3600;
    if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds <= 0 || seconds > MAX_CONSENT_SECONDS) {
      throw new OwnerError.BadRequest(`expiresInSeconds: an integer in 1..${MAX_CONSENT_SECONDS}`);
    }
    Object.assign(c, { mnoId, operations, expiresInSeconds: seconds });
  }
}

/** Marks every unrevoked consent of the device revoked (a transfer; the epoch bump voids them anyway). */
export async function revokeAllConsents(tx: RegistryUnit, eid: string, now: Date): Promise<void> {
  await tx.consents.revokeAllOfDevice(eid, now);
}

