/**
 * The device status document (docs/owner-registry.md "Device status"), published retained at QoS 1
 * on `rsp/v1/owner/device/{eid}/status`. Changes queue a `status:{eid}` outbox message in the
 * changing transaction; the worker publishes the status as it is when delivered, so a retried older
 * message never overwrites a newer status with stale content.
 */
import { createHash } from 'node:crypto';
import { IsNull, Not, type EntityManager } from 'typeorm';
import type { DeviceStatus } from '@rsp/identity';
import type { Outbox } from '@rsp/persistence';
import { ConsentRecord } from '../adapters/entities/consent.entity';
import { DeviceRecord } from '../adapters/entities/device.entity';
import { ownerGrantOf } from './access';
import type { Subject } from './context';

/** Outbox destinations (the worker dispatches on the prefix). */
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

export async function deviceStatusOf(tx: EntityManager, device: DeviceRecord): Promise<DeviceStatus> {
  const owner = await ownerGrantOf(tx, device.eid);
  const revoked = await tx.find(ConsentRecord, {
    where: { eid: device.eid, epoch: device.consentEpoch, revokedAt: Not(IsNull()) },
    select: { jti: true },
    order: { jti: 'ASC' },
  });
  return {
    eid: device.eid,
    owned: owner !== null,
    status: device.status,
    consentEpoch: device.consentEpoch,
    revokedConsents: revoked.map((consent) => consent.jti),
    ...(device.recentlyTransferredAt ? { recentlyTransferredAt: device.recentlyTransferredAt.toISOString() } : {}),
    updatedAt: device.updatedAt.toISOString(),
  };
}

/** Marks the device changed (updatedAt) and queues its status publication, in the caller's transaction. */
export async function touchAndPublish(tx: EntityManager, outbox: Outbox, eid: string, now: Date): Promise<void> {
  await tx.update(DeviceRecord, { eid }, { updatedAt: now });
  await outbox.enqueue(tx, { destination: `${DESTINATION.status}${eid}`, payload: { eid } });
}
