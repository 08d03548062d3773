/**
 * Reads the owner portal needs beyond the device itself (docs/owner-registry.md "Resources"): the
 * consents given on a device, the operators an owner may pick, and the device's profiles as each
 * connected operator sees them (ES2 GetEIS, SGP.02 §5.3: an MNO sees only its own profiles), so a
 * seller picks a profile from a list and never types an ICCID.
 */
import { randomUUID } from 'node:crypto';
import { deviceFor } from './access';
import type { AuditLog } from './audit';
import { subjectOf, type OwnerCaller, type RegistryDeps } from './context';
import { isSuccess, type Es2Transport } from './es2';
import type { Consent } from './records';

/** A consent as its owner sees it: never the token itself (it was handed out once, at minting). */
export interface ConsentView {
  jti: string;
  mnoId: string;
  operations: string[];
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  /** Minted by the registry itself for a move or a sale it carries out (not by a person). */
  givenByRegistry: boolean;
  /** `active`, or why it no longer works: `revoked`, `expired`, `superseded` (a sale bumped the epoch). */
  state: 'active' | 'revoked' | 'expired' | 'superseded';
}

export interface OperatorView {
  mnoId: string;
  /** The registry can call its SM-DP (porting recipient, resale 'leave', profile listing). */
  connected: boolean;
  acceptsTransfers: boolean;
}

export interface ProfileView {
  mnoId: string;
  iccid: string;
  profileType: string | null;
  /** SGP.02 Annex E lifecycle name as the SM-SR reports it (e.g. Enabled, Disabled). */
  state: string;
  fallback: boolean;
}

export interface ProfilesOfDevice {
  profiles: ProfileView[];
  /** Operators whose SM-DP did not answer; their profiles are missing from `profiles`. */
  unavailable: Array<{ mnoId: string; reason: string }>;
}

function consentView(consent: Consent, currentEpoch: number, now: Date): ConsentView {
  const state = consent.revokedAt ? 'revoked' : consent.epoch !== currentEpoch ? 'superseded' : consent.expiresAt <= now ? 'expired' : 'active';
  return {
    jti: consent.jti,
    mnoId: consent.mnoId,
    operations: [...consent.ops],
    createdAt: consent.createdAt.toISOString(),
    expiresAt: consent.expiresAt.toISOString(),
    revokedAt: consent.revokedAt?.toISOString() ?? null,
    givenByRegistry: consent.givenBySub === null,
    state,
  };
}

const stringOr = (value: unknown, fallback: string): string => (typeof value === 'string' ? value : fallback);

export class OwnerViews {
  constructor(
    private readonly deps: RegistryDeps,
    private readonly audit: AuditLog,
    private readonly es2: Es2Transport,
  ) {}

  /** GET /devices/{eid}/consents (owner): every consent given on the device, newest first. */
  consents(owner: OwnerCaller, eid: string): Promise<ConsentView[]> {
    return this.audit.run(owner, 'consent.list', { eid }, () =>
      this.deps.store.snapshot(async (tx) => {
        const { device } = await deviceFor(tx, eid, subjectOf(owner), 'owner');
        const now = this.deps.now();
        return (await tx.consents.ofDevice(eid)).map((consent) => consentView(consent, device.consentEpoch, now));
      }),
    );
  }

  /** GET /operators: the configured MNOs, without any of their credentials. */
  operators(): OperatorView[] {
    return [...this.deps.config.mnos.values()]
      .map((mno) => ({ mnoId: mno.mnoId, connected: Boolean(mno.es2Url && mno.es2ApiKey && mno.smsrId), acceptsTransfers: mno.acceptsTransfers === true }))
      .sort((a, b) => a.mnoId.localeCompare(b.mnoId));
  }

  /**
   * GET /devices/{eid}/profiles (any grant holder): ES2 GetEIS through each connected MNO. A read
   * needs no owner consent; one operator that does not answer leaves the others' profiles listed.
   */
  profiles(owner: OwnerCaller, eid: string): Promise<ProfilesOfDevice> {
    return this.audit.run(owner, 'device.profiles.read', { eid }, async () => {
      await this.deps.store.snapshot((tx) => deviceFor(tx, eid, subjectOf(owner), 'user'));
      const connectors = [...this.deps.config.mnos.values()].filter((mno) => mno.es2Url && mno.es2ApiKey && mno.smsrId);
      const answers = await Promise.all(connectors.map((mno) => this.profilesAt(mno.mnoId, eid)));
      return {
        profiles: answers.flatMap((answer) => answer.profiles),
        unavailable: answers.flatMap((answer) => (answer.reason ? [{ mnoId: answer.mnoId, reason: answer.reason }] : [])),
      };
    });
  }

  private async profilesAt(mnoId: string, eid: string): Promise<{ mnoId: string; profiles: ProfileView[]; reason?: string }> {
    const mno = this.deps.config.mnos.get(mnoId)!;
    const body = { header: { functionRequesterIdentifier: mnoId, functionCallIdentifier: randomUUID() }, eid, smsrId: mno.smsrId };
    try {
      const answer = await this.es2.call({ mnoId, es2Url: mno.es2Url!, es2ApiKey: mno.es2ApiKey! }, 'getEIS', body, null);
      if (!isSuccess(answer)) {
        const data = answer.functionExecutionStatus.statusCodeData;
        return { mnoId, profiles: [], reason: `${answer.functionExecutionStatus.status} ${data?.subjectCode ?? ''}/${data?.reasonCode ?? ''}`.trim() };
      }
      const eis = answer.body.eis as { profiles?: Array<Record<string, unknown>> } | undefined;
      const profiles = (eis?.profiles ?? [])
        .filter((profile) => stringOr(profile.mnoId, mnoId) === mnoId)
        .map((profile) => ({
          mnoId,
          iccid: stringOr(profile.iccid, ''),
          profileType: typeof profile.profileType === 'string' ? profile.profileType : null,
          state: stringOr(profile.state, 'unknown'),
          fallback: profile.fallbackAttribute === true,
        }))
        .filter((profile) => profile.iccid !== '');
      return { mnoId, profiles };
    } catch (error) {
      return { mnoId, profiles: [], reason: (error as { code?: string }).code ?? 'ERR_OWNER_ES2_FAILED' };
    }
  }
}
