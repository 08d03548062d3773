/**
 * The device status document the owner registry publishes for the SM-DP / SM-SR
 * (docs/owner-registry.md "Device status"): MQTT topic `rsp/v1/owner/device/{eid}/status`, QoS 1,
 * RETAINED — a service that (re)subscribes to {@link DEVICE_STATUS_FILTER} receives the latest status of
 * every device at once, then each change. The services keep the latest per EID ({@link DeviceStatusCache})
 * and decide with {@link ownerPolicyFor} what a call needs. Pure code: the MQTT client is the apps'.
 */
import { RspError } from '@rsp/errors';
import { isValidEid } from '@rsp/pki';
import { ConsentMissing, DeviceSuspended, isConsentOperation, type ConsentClaims, type ConsentOperation, type ConsentVerifier } from './consent';

export type DeviceLifecycleStatus = 'Active' | 'Suspended' | 'Revoked';
const LIFECYCLE: readonly DeviceLifecycleStatus[] = ['Active', 'Suspended', 'Revoked'];

export interface DeviceStatus {
  eid: string;
  /** The device has an owner in the registry: profile operations need the owner's consent. */
  owned: boolean;
  status: DeviceLifecycleStatus;
  /** Consents of other epochs are void (a transfer bumps it). */
  consentEpoch: number;
  /** `jti`s revoked in the current epoch. */
  revokedConsents: string[];
  /** ISO 8601, set by a resale. */
  recentlyTransferredAt?: string;
  /** ISO 8601: a status never replaces a newer one. */
  updatedAt: string;
}

/** A device status message that breaks the contract. */
export class DeviceStatusInvalid extends RspError {
  static override readonly code = 'ERR_DEVICE_STATUS_INVALID';
}

const STATUS_ROOT = 'rsp/v1/owner/device';
/** MQTT filter matching every device status topic. */
export const DEVICE_STATUS_FILTER = `${STATUS_ROOT}/+/status`;

/** `rsp/v1/owner/device/{eid}/status`; throws DeviceStatusInvalid on an invalid EID (no wildcard injection). */
export function deviceStatusTopic(eid: string): string {
  if (!isValidEid(eid)) throw new DeviceStatusInvalid('eid: not a valid EID');
  return `${STATUS_ROOT}/${eid}/status`;
}

/** The EID of a device status topic, or undefined when `topic` is not one. */
export function eidOfDeviceStatusTopic(topic: string): string | undefined {
  const match = /^rsp\/v1\/owner\/device\/([0-9]{32})\/status$/.exec(topic);
  return match && isValidEid(match[1] as string) ? match[1] : undefined;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const isTimestamp = (value: unknown): value is string => typeof value === 'string' && ISO_8601.test(value) && !Number.isNaN(Date.parse(value));
const MAX_REVOKED = 10_000;

/**
 * Validates a decoded status message. Known members are checked strictly; unknown members are dropped
 * (a newer registry may add some, and refusing its whole status would leave the device unprotected).
 */
export function parseDeviceStatus(value: unknown): DeviceStatus {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new DeviceStatusInvalid('status: not an object');
  const input = value as Record<string, unknown>;
  const bad = (member: string, expected: string): never => {
    throw new DeviceStatusInvalid(`${member}: expected ${expected}`);
  };
  const { eid, owned, status, consentEpoch, revokedConsents, recentlyTransferredAt, updatedAt } = input;
  if (typeof eid !== 'string' || !isValidEid(eid)) return bad('eid', 'a valid EID');
  if (typeof owned !== 'boolean') return bad('owned', 'a boolean');
  if (!LIFECYCLE.includes(status as DeviceLifecycleStatus)) return bad('status', LIFECYCLE.join(' | '));
  if (typeof consentEpoch !== 'number' || !Number.isSafeInteger(consentEpoch) || consentEpoch < 0) return bad('consentEpoch', 'a non-negative integer');
  if (
    !Array.isArray(revokedConsents) ||
    revokedConsents.length > MAX_REVOKED ||
    !revokedConsents.every((jti) => typeof jti === 'string' && jti.length > 0 && jti.length <= 256)
  ) {
    return bad('revokedConsents', 'a list of jti strings');
  }
  if (recentlyTransferredAt !== undefined && !isTimestamp(recentlyTransferredAt)) return bad('recentlyTransferredAt', 'an ISO 8601 timestamp');
  if (!isTimestamp(updatedAt)) return bad('updatedAt', 'an ISO 8601 timestamp');
  return {
    eid,
    owned,
    status: status as DeviceLifecycleStatus,
    consentEpoch,
    revokedConsents: [...(revokedConsents as string[])],
    ...(recentlyTransferredAt !== undefined ? { recentlyTransferredAt } : {}),
    updatedAt,
  };
}

/** The latest status per EID, as the services keep it. */
export class DeviceStatusCache {
  private readonly statuses = new Map<string, DeviceStatus>();

  /** Keeps `status` unless a newer one (by `updatedAt`) is already held; true when kept. */
  apply(status: DeviceStatus): boolean {
    const held = this.statuses.get(status.eid);
    if (held && Date.parse(held.updatedAt) > Date.parse(status.updatedAt)) return false;
    this.statuses.set(status.eid, status);
    return true;
  }

  get(eid: string): DeviceStatus | undefined {
    return this.statuses.get(eid);
  }

  /** The registry cleared the retained status (empty payload): the device is unknown again. */
  forget(eid: string): void {
    this.statuses.delete(eid);
  }

  get size(): number {
    return this.statuses.size;
  }
}

/**
 * What a service is about to do on a device: a profile operation an owner consents to, another profile
 * change (ES2/ES3/ES4 UpdatePolicyRules, ES3 CreateISDP / SendData / ProfileDownloadCompleted are
 * mapped to DownloadProfile by the SM-SR), or a read (GetEIS, AuditEIS).
 */
export type OwnerPolicyOperation = ConsentOperation | 'OtherProfileChange' | 'Read';

export interface OwnerPolicyDecision {
  /** false: refuse with {@link DeviceSuspended} (8.1 / 3.8) before anything else happens. */
  allowed: boolean;
  /** true: a valid `X-Owner-Consent` for the operation is needed (else ERR_CONSENT_MISSING, 8.1.1 / 1.2). */
  consentRequired: boolean;
  /** Why, for logs and tests. */
  reason: 'read' | 'unknown-device' | 'not-owned' | 'owned' | 'suspended' | 'revoked';
}

/**
 * docs/owner-registry.md "Device status" + "SGP.02 outcomes":
 * - a read never needs anything;
 * - Suspended / Revoked: only DeleteProfile is allowed (security updates are none of these operations);
 * - a device the registry does not know (no status, or `owned` false) needs no consent;
 * - an owned device needs the owner's consent for each ConsentOperation.
 */
export function ownerPolicyFor(status: DeviceStatus | undefined, operation: OwnerPolicyOperation): OwnerPolicyDecision {
  if (operation === 'Read') return { allowed: true, consentRequired: false, reason: 'read' };
  const consentRequired = status?.owned === true && isConsentOperation(operation);
  if (status && status.status !== 'Active') {
    const reason = status.status === 'Suspended' ? 'suspended' : 'revoked';
    return operation === 'DeleteProfile' ? { allowed: true, consentRequired, reason } : { allowed: false, consentRequired, reason };
  }
  if (!status) return { allowed: true, consentRequired: false, reason: 'unknown-device' };
  return { allowed: true, consentRequired, reason: status.owned ? 'owned' : 'not-owned' };
}

export interface OwnerAuthorization {
  status: DeviceStatus | undefined;
  operation: OwnerPolicyOperation;
  eid: string;
  /** The authenticated requester (MNO). */
  mnoId: string;
  /** The `X-Owner-Consent` header, if sent. */
  consent: string | undefined;
  /** false: only the suspension rule applies (ES3, where the SM-DP already checked the consent on ES2). */
  checkConsent: boolean;
  verifier: Pick<ConsentVerifier, 'verify'>;
}

/**
 * Applies {@link ownerPolicyFor} and, when required, verifies the consent. Throws DeviceSuspended,
 * ConsentMissing or a consent verification error; resolves with the verified claims, if any.
 */
export async function authorizeOwnerOperation(input: OwnerAuthorization): Promise<ConsentClaims | undefined> {
  const decision = ownerPolicyFor(input.status, input.operation);
  if (!decision.allowed) throw new DeviceSuspended(`device ${decision.reason}: ${input.operation} refused`);
  if (!input.checkConsent || !decision.consentRequired || !isConsentOperation(input.operation)) return undefined;
  if (input.consent === undefined || input.consent.trim().length === 0) throw new ConsentMissing('owned device: owner consent required');
  return input.verifier.verify(input.consent, { eid: input.eid, mnoId: input.mnoId, operation: input.operation, ...(input.status ? { status: input.status } : {}) });
}
