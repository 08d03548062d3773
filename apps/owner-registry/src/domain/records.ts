/**
 * The registry's records as the use cases see them (docs/owner-registry.md "Resources"): plain data. The
 * TypeORM entities in ../adapters/entities implement these shapes; nothing here knows a table.
 */
export const ROLES = ['owner', 'admin', 'user'] as const;
export type Role = (typeof ROLES)[number];
export type GrantScope = 'device' | 'group';

export const DEVICE_STATUSES = ['Active', 'Suspended', 'Revoked'] as const;
export type DeviceLifecycle = (typeof DEVICE_STATUSES)[number];

export type SubscriptionChoice = 'leave' | 'pass';
export type ActorKind = 'owner' | 'maker' | 'mno' | 'anonymous' | 'registry';
export type ApiClientKind = 'maker' | 'mno';

/** A maker or an MNO calling with `X-API-Key`: only the SHA-256 of the key is kept. */
export interface ApiClient {
  /** `{kind}:{clientId}` */
  id: string;
  kind: ApiClientKind;
  clientId: string;
  apiKeySha256: string;
  createdAt: Date;
}

/** A device a maker registered: its URL never changes, owners do. */
export interface Device {
  eid: string;
  makerId: string;
  deviceId: string;
  model: string;
  deviceUrl: string;
  /** `salt.hex(sha256(salt ‖ code))`. @secret */
  claimCodeHash: string;
  status: DeviceLifecycle;
  consentEpoch: number;
  /** Version of the signed status document: +1 with every status change, never back. */
  statusVersion: number;
  recentlyTransferredAt: Date | null;
  settings: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/** A role of an owner identity `(iss, sub)` on one device or one group; revoked ones are kept. */
export interface Grant {
  id: string;
  scope: GrantScope;
  eid: string | null;
  groupId: string | null;
  role: Role;
  subjectIss: string;
  subjectSub: string;
  createdByIss: string | null;
  createdBySub: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

/** A household: its members' roles apply to its devices. */
export interface Group {
  id: string;
  name: string;
  createdByIss: string;
  createdBySub: string;
  createdAt: Date;
}

/** A device's membership of a group (removedAt set when unlinked). */
export interface GroupLink {
  id: string;
  groupId: string;
  eid: string;
  addedByIss: string;
  addedBySub: string;
  addedAt: Date;
  removedAt: Date | null;
}

/** A consent the registry signed (the JWT itself is not kept). */
export interface Consent {
  jti: string;
  eid: string;
  mnoId: string;
  /** ConsentOperation names. */
  ops: string[];
  epoch: number;
  givenByIss: string | null;
  givenBySub: string | null;
  expiresAt: Date;
  createdAt: Date;
  revokedAt: Date | null;
}

/** A resale in progress: the code hashed, single use, burned after too many wrong tries. */
export interface Transfer {
  id: string;
  eid: string;
  /** @secret */
  codeHash: string;
  sellerIss: string;
  sellerSub: string;
  subscription: SubscriptionChoice;
  mnoId: string | null;
  iccid: string | null;
  expiresAt: Date;
  attempts: number;
  usedAt: Date | null;
  burnedAt: Date | null;
  buyerIss: string | null;
  buyerSub: string | null;
  createdAt: Date;
}

/** A Porting Authorisation Code the donor MNO issued for `(eid, iccid)`. */
export interface PortingCode {
  id: string;
  /** @secret */
  pacHash: string;
  eid: string;
  iccid: string;
  donorMnoId: string;
  expiresAt: Date;
  usedAt: Date | null;
  createdAt: Date;
}

/** A device's settings document kept in the seller's account at a resale. */
export interface SettingsSnapshot {
  id: string;
  ownerIss: string;
  ownerSub: string;
  model: string;
  settings: Record<string, unknown>;
  sourceDeviceUrl: string;
  createdAt: Date;
}

/** One audited call: who, what, on which device, the outcome and the token's auth context. */
export interface AuditEvent {
  id: string;
  at: Date;
  actorKind: ActorKind;
  actorIss: string | null;
  actorSub: string | null;
  actorClient: string | null;
  action: string;
  eid: string | null;
  target: string | null;
  outcome: string;
  authContext: Record<string, unknown> | null;
}
