/**
 * The registry's persistence port: what the use cases ask of the database, one method per question, in
 * their words. The adapter (../adapters/registry-store.ts) answers each with one statement; a use case
 * that needs several atomically runs them in {@link RegistryStore.transaction}.
 *
 * Grants and group links are only ever the active ones (not revoked, not removed); consents are all,
 * unless the method says otherwise. "Pending" transfers and PACs are unused, unburned and unexpired.
 */
import type {
  ApiClient,
  AuditEvent,
  Consent,
  Device,
  Grant,
  Group,
  GroupLink,
  PortingCode,
  Role,
  SettingsSnapshot,
  Transfer,
} from './records';
import type { Subject } from './context';

export interface DeviceRepository {
  byEid(eid: string): Promise<Device | null>;
  /** The device, which the caller knows exists (a missing one is a fault, not a refusal). */
  require(eid: string): Promise<Device>;
  byUrl(deviceUrl: string): Promise<Device | null>;
  exists(eid: string): Promise<boolean>;
  insert(device: Device): Promise<void>;
  update(eid: string, changes: Partial<Pick<Device, 'settings' | 'status' | 'consentEpoch' | 'recentlyTransferredAt' | 'updatedAt'>>): Promise<void>;
  /** Marks a status change: `updatedAt = now`, `statusVersion + 1` (computed by the database). */
  touch(eid: string, now: Date): Promise<void>;
  allEids(): Promise<string[]>;
}

export interface GrantRepository {
  /** An active grant by id. */
  byId(id: string): Promise<Grant | null>;
  /** The device's owner grant, if it is claimed. */
  ownerOf(eid: string): Promise<Grant | null>;
  /** `who`'s grants on the device itself. */
  onDeviceOf(eid: string, who: Subject): Promise<Grant[]>;
  /** Every grant on the device itself (anyone's). */
  onDevice(eid: string): Promise<Grant[]>;
  /** `who`'s grants on one group. */
  onGroupOf(groupId: string, who: Subject): Promise<Grant[]>;
  /** `who`'s grants on any of these groups. */
  onGroupsOf(groupIds: readonly string[], who: Subject): Promise<Grant[]>;
  /** Everything `who` holds, devices and groups. */
  of(who: Subject): Promise<Grant[]>;
  insert(grant: Grant): Promise<void>;
  setRole(id: string, role: Role): Promise<void>;
  revoke(id: string, at: Date): Promise<void>;
  /** Revokes every grant on the device itself (a resale). */
  revokeOnDevice(eid: string, at: Date): Promise<void>;
}

export interface GroupRepository {
  byId(id: string): Promise<Group | null>;
  insert(group: Group): Promise<void>;
  /** The device's links to its groups. */
  linksOfDevice(eid: string): Promise<GroupLink[]>;
  /** The group's links to its devices. */
  linksOfGroup(groupId: string): Promise<GroupLink[]>;
  link(groupId: string, eid: string): Promise<GroupLink | null>;
  insertLink(link: GroupLink): Promise<void>;
  /** Removes the device from every group (a resale). */
  unlinkDevice(eid: string, at: Date): Promise<void>;
}

export interface OwnerAccountRepository {
  /** Records an owner identity the first time it is seen (a concurrent first sight is not an error). */
  remember(who: Subject, now: Date): Promise<void>;
}

export interface ConsentRepository {
  byJti(jti: string): Promise<Consent | null>;
  /** Every consent of the device (any epoch, revoked or not), newest first. */
  ofDevice(eid: string): Promise<Consent[]>;
  insert(consent: Consent): Promise<void>;
  revoke(jti: string, at: Date): Promise<void>;
  revokeAllOfDevice(eid: string, at: Date): Promise<void>;
  /** `mnoId`'s consents on the device at `epoch` that are neither revoked nor expired at `now`. */
  valid(eid: string, mnoId: string, epoch: number, now: Date): Promise<Consent[]>;
  /** The jtis of the revoked consents at `epoch`, sorted. */
  revokedAt(eid: string, epoch: number): Promise<string[]>;
}

export interface TransferRepository {
  insert(transfer: Transfer): Promise<void>;
  /** The newest pending transfer of the device. */
  latestPending(eid: string, now: Date): Promise<Transfer | null>;
  /** Burns every pending transfer of the device (a new code replaces them). */
  burnPending(eid: string, at: Date): Promise<void>;
  /** Counts a wrong code; `burnedAt` when that was the last try. */
  recordWrongCode(id: string, attempts: number, burnedAt?: Date): Promise<void>;
  /** Marks the transfer used by `buyer` if it still is pending; false when someone was first. */
  use(id: string, buyer: Subject, at: Date): Promise<boolean>;
}

export interface SettingsSnapshotRepository {
  insert(snapshot: SettingsSnapshot): Promise<void>;
  /** The owner's snapshots, newest first. */
  ofOwner(owner: Subject): Promise<SettingsSnapshot[]>;
  /** One of the owner's snapshots. */
  find(id: string, owner: Subject): Promise<SettingsSnapshot | null>;
}

export interface PortingCodeRepository {
  insert(code: PortingCode): Promise<void>;
  pending(eid: string, now: Date): Promise<PortingCode[]>;
  markUsed(id: string, at: Date): Promise<void>;
}

/** Who an audit count is about: an owner, or an API client. */
export type AuditActor = { actorIss: string; actorSub: string } | { actorClient: string };

export interface AuditRepository {
  insert(event: AuditEvent): Promise<void>;
  /** How many of `actor`'s events since `since` had one of these outcomes. */
  countOutcomes(actor: AuditActor, outcomes: readonly string[], since: Date): Promise<number>;
  /** The device's events since `since`, newest first, at most `limit`. */
  forDevice(eid: string, since: Date, limit: number): Promise<AuditEvent[]>;
}

export interface ApiClientRepository {
  byId(id: string): Promise<ApiClient | null>;
  byKeyHash(apiKeySha256: string): Promise<ApiClient | null>;
  insert(client: ApiClient): Promise<void>;
  setKeyHash(id: string, apiKeySha256: string): Promise<void>;
}

/** Outbox destinations are interpreted by the delivery (device-status.ts DESTINATION). */
export interface OutboxMessageInput {
  destination: string;
  payload: unknown;
  /** Not delivered before (default: at once). */
  notBefore?: Date;
}

export interface OutboxPort {
  /** Queues a message; inside a transaction it is sent only if the transaction commits. */
  enqueue(message: OutboxMessageInput): Promise<void>;
}

/** Everything a use case may read or write, on one connection (inside a transaction, or not). */
export interface RegistryUnit {
  readonly devices: DeviceRepository;
  readonly grants: GrantRepository;
  readonly groups: GroupRepository;
  readonly owners: OwnerAccountRepository;
  readonly consents: ConsentRepository;
  readonly transfers: TransferRepository;
  readonly snapshots: SettingsSnapshotRepository;
  readonly portingCodes: PortingCodeRepository;
  readonly audit: AuditRepository;
  readonly apiClients: ApiClientRepository;
  readonly outbox: OutboxPort;
}

export interface RegistryStore extends RegistryUnit {
  /** Runs `work` in one transaction: all of it commits, or none. */
  transaction<T>(work: (tx: RegistryUnit) => Promise<T>): Promise<T>;
  /** Runs `work` on one consistent snapshot (reads whose results must agree with each other). */
  snapshot<T>(work: (tx: RegistryUnit) => Promise<T>): Promise<T>;
  /** True when `error` is a write refused because the row (or a unique key of it) already exists. */
  isDuplicate(error: unknown): boolean;
}
