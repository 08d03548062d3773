/**
 * The device status the owner registry publishes for the SM-DP / SM-SR (docs/owner-registry.md "Device
 * status"): its members, its MQTT topic `rsp/v1/owner/device/{eid}/status` (QoS 1, retained; the payload
 * is the signed document of ./signed-device-status), and what a call needs given the status
 * ({@link ownerPolicyFor}, {@link authorizeOwnerOperation}). Fail closed: a profile operation on a device
 * whose verified status cannot be obtained is refused ({@link DeviceStatusUnavailable}). Pure code: the
 * services keep verified statuses in ./verified-device-status-cache; the MQTT client is the apps'.
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
  /** ISO 8601, informative (the signed `version` orders statuses, never this clock). */
  updatedAt: string;
}

/** A device status message that breaks the contract. */
export class DeviceStatusInvalid extends RspError {
  static override readonly code = 'ERR_DEVICE_STATUS_INVALID';
}
/**
 * No verified status of the device is known and none could be obtained from the registry (unreachable,
 * or it answered something unverifiable): a profile operation is refused (8.1.1 / 3.7 [U]).
 */
export class DeviceStatusUnavailable extends RspError {
  static override readonly code = 'ERR_DEVICE_STATUS_UNAVAILABLE';
}

/** Where the services get a device's VERIFIED status (the VerifiedDeviceStatusCache). */
export interface DeviceStatusLookup {
  /** The verified status, obtained from the registry on a miss; throws DeviceStatusUnavailable when there is none. */
  resolve(eid: string): Promise<DeviceStatus>;
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

/**
 * What a service is about to do on a device: a profile operation an owner consents to, another profile
 * change (ES2/ES3/ES4 UpdatePolicyRules, ES3 CreateISDP / SendData / ProfileDownloadCompleted are
 * mapped to DownloadProfile by the SM-SR), or a read (GetEIS, AuditEIS).
 */
export type OwnerPolicyOperation = ConsentOperation | 'OtherProfileChange' | 'Read';

export interface OwnerPolicyDecision {
  /** false: refuse before anything else happens, by `reason` (DeviceSuspended, or DeviceStatusUnavailable). */
  allowed: boolean;
  /** true: a valid `X-Owner-Consent` for the operation is needed (else ERR_CONSENT_MISSING, 8.1.1 / 1.2). */
  consentRequired: boolean;
  /** Why, for logs and tests. */
  reason: 'read' | 'status-unknown' | 'not-owned' | 'owned' | 'suspended' | 'revoked';
}

/**
 * docs/owner-registry.md "Device status" + "SGP.02 outcomes":
 * - a read never needs anything;
 * - no verified status: refused (fail closed; the registry answers for every EID, even unknown ones);
 * - Suspended / Revoked: only DeleteProfile is allowed (security updates are none of these operations);
 * - a device the registry does not know or that has no owner (`owned` false) needs no consent;
 * - an owned device needs the owner's consent for each ConsentOperation.
 */
export function ownerPolicyFor(status: DeviceStatus | undefined, operation: OwnerPolicyOperation): OwnerPolicyDecision {
  if (operation === 'Read') return { allowed: true, consentRequired: false, reason: 'read' };
  if (!status) return { allowed: false, consentRequired: false, reason: 'status-unknown' };
  const consentRequired = status.owned && isConsentOperation(operation);
  if (status.status !== 'Active') {
    const reason = status.status === 'Suspended' ? 'suspended' : 'revoked';
    return { allowed: operation === 'DeleteProfile', consentRequired, reason };
  }
  return { allowed: true, consentRequired, reason: status.owned ? 'owned' : 'not-owned' };
}

export interface OwnerAuthorization {
  /** The verified statuses; not asked for a read. */
  statuses: DeviceStatusLookup;
  operation: OwnerPolicyOperation;
  eid: string;
  /** The authenticated requester (MNO). */
  mnoId: string;
  /** The `X-Owner-Consent` header, if sent. */
  consent: string | undefined;
  /** false: only the status rules apply (ES3, where the SM-DP already checked the consent on ES2). */
  checkConsent: boolean;
  verifier: Pick<ConsentVerifier, 'verify'>;
}

/**
 * Resolves the device's verified status, applies {@link ownerPolicyFor} and, when required, verifies the
 * consent. Throws DeviceStatusUnavailable, DeviceSuspended, ConsentMissing or a consent verification
 * error; resolves with the verified claims, if any.
 */
export async function authorizeOwnerOperation(input: OwnerAuthorization): Promise<ConsentClaims | undefined> {
  if (input.operation === 'Read') return undefined;
  const status = await input.statuses.resolve(input.eid);
  const decision = ownerPolicyFor(status, input.operation);
  if (!decision.allowed) {
    if (decision.reason === 'status-unknown') throw new DeviceStatusUnavailable(`no verified device status: ${input.operation} refused`);
    throw new DeviceSuspended(`device ${decision.reason}: ${input.operation} refused`);
  }
  if (!input.checkConsent || !decision.consentRequired || !isConsentOperation(input.operation)) return undefined;
  if (input.consent === undefined || input.consent.trim().length === 0) throw new ConsentMissing('owned device: owner consent required');
  return input.verifier.verify(input.consent, { eid: input.eid, mnoId: input.mnoId, operation: input.operation, status });
}
