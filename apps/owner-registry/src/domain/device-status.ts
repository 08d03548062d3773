/**
 * The device status document (docs/owner-registry.md "Device status"): signed with the consent key
 * (JWS `rsp-device-status+jwt`, @rsp/identity signDeviceStatus), published retained at QoS 1 on
 * `rsp/v1/owner/device/{eid}/status` and answered by `GET /device-status/{eid}`.
 *
 * Every status change bumps the device's `status_version` and queues a `status:{eid}` outbox message in
 * the changing transaction ({@link touchAndPublish}); the outbox relay publishes the status as it is when
 * delivered, so a retried older message never overwrites a newer status with stale content. An EID the
 * registry does not know gets a signed "not registered" document (version 0): the services fail closed
 * on a missing status and need an answer for any EID.
 */
import { createHash } from 'node:crypto';
import { UNREGISTERED_VERSION, signDeviceStatus, type VersionedDeviceStatus } from '@rsp/identity';
import { isValidEid } from '@rsp/pki';
import type { RegistryDeps, Subject } from './context';
import { OwnerError } from './errors';
import type { Device } from './records';
import type { RegistryUnit } from './store';

/** Outbox destinations (adapters/outbox-delivery.ts dispatches on the prefix). */
export const DESTINATION = {
  /** `status:{eid}`: publish the device's current status, retained. */
  status: 'status:',
  /** `mqtt:{topic}`: publish the payload at QoS 1 (not retained). */
  mqtt: 'mqtt:',
  /** `es2:{mnoId}`: an ES2 call on the owner's behalf ({@link Es2Job}). */
  es2: 'es2:',
} as const;

/** Topic of an owner's notifications (the seller's "your device was sold"): the owner as a hash of (iss, sub). */
export function ownerNotificationTopic(owner: Subject): string {
  const ref = createHash('sha256').update(`${owner.iss}\n${owner.sub}`, 'utf8').digest('hex').slice(0, 32);
  return `rsp/v1/owner/account/${ref}/notify`;
}

export async function deviceStatusOf(tx: RegistryUnit, device: Device): Promise<VersionedDeviceStatus> {
  const owner = await tx.grants.ownerOf(device.eid);
  const revokedConsents = await tx.consents.revokedAt(device.eid, device.consentEpoch);
  return {
    eid: device.eid,
    owned: owner !== null,
    status: device.status,
    consentEpoch: device.consentEpoch,
    revokedConsents,
    ...(device.recentlyTransferredAt ? { recentlyTransferredAt: device.recentlyTransferredAt.toISOString() } : {}),
    updatedAt: device.updatedAt.toISOString(),
    version: device.statusVersion,
  };
}

/** The document of an EID the registry does not know: no owner, nothing to enforce, version 0. */
export function unregisteredStatus(eid: string): VersionedDeviceStatus {
  return { eid, owned: false, status: 'Active', consentEpoch: 0, revokedConsents: [], updatedAt: new Date(0).toISOString(), version: UNREGISTERED_VERSION };
}

/**
 * Marks the device changed (updatedAt), bumps its status version and queues its status publication, in
 * the caller's transaction: the version and the content it describes commit together.
 */
export async function touchAndPublish(tx: RegistryUnit, eid: string, now: Date): Promise<void> {
  await tx.devices.touch(eid, now);
  await tx.outbox.enqueue({ destination: `${DESTINATION.status}${eid}`, payload: { eid } });
}

/** Current and signed status documents, for the outbox delivery (MQTT) and `GET /device-status/{eid}`. */
export class DeviceStatusDocuments {
  constructor(private readonly deps: Pick<RegistryDeps, 'store' | 'config' | 'now'>) {}

  /**
   * The status of `eid` as committed now, read in one snapshot (its version matches its content). An EID
   * the registry does not know needs no snapshot: one read decides, and its document (version 0) names
   * nothing that could disagree. A registration that commits meanwhile publishes version 1, which every
   * holder prefers. A fleet no maker registered here (the user's path, the bench) asks only this kind, once
   * per device and service, and on SQLite a snapshot waits its turn among the registry's transactions.
   */
  async current(eid: string): Promise<VersionedDeviceStatus> {
    if (!(await this.deps.store.devices.exists(eid))) return unregisteredStatus(eid);
    return this.deps.store.snapshot(async (tx) => {
      const device = await tx.devices.byEid(eid);
      return device ? deviceStatusOf(tx, device) : unregisteredStatus(eid);
    });
  }

  /** The compact JWS of `status`, made with the current consent key. */
  sign(status: VersionedDeviceStatus): Promise<string> {
    return signDeviceStatus(status, { issuer: this.deps.config.registryUrl, key: this.deps.config.consentKey, now: this.deps.now() });
  }

  /** `GET /device-status/{eid}`: the signed document of any valid EID (version 0 when unknown). */
  async signed(eid: string): Promise<string> {
    if (!isValidEid(eid)) throw new OwnerError.BadRequest('eid: a valid EID (32 digits, check digits)');
    return this.sign(await this.current(eid));
  }
}
