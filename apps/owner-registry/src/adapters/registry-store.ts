/**
 * The registry's persistence port (domain/store.ts) on TypeORM: each method is one statement on the
 * connection it was made for (the DataSource's manager, or a transaction's). Owner identities and API
 * clients are the exceptions: a read, then the write it decides.
 */
import { In, IsNull, MoreThan, MoreThanOrEqual, Not, type DataSource, type EntityManager } from 'typeorm';
import { isUniqueViolation, type Outbox } from '@rsp/persistence';
import type { Device, Grant, Role } from '../domain/records';
import type { Subject } from '../domain/context';
import type { AuditActor, OutboxMessageInput, RegistryStore, RegistryUnit } from '../domain/store';
import { ApiClientRecord, OwnerAccountRecord } from './entities/api-client.entity';
import { AuditRecord } from './entities/audit.entity';
import { ConsentRecord } from './entities/consent.entity';
import { DeviceRecord } from './entities/device.entity';
import { GrantRecord } from './entities/grant.entity';
import { GroupDeviceRecord, GroupRecord } from './entities/group.entity';
import { PortingCodeRecord } from './entities/porting-code.entity';
import { SettingsSnapshotRecord } from './entities/settings-snapshot.entity';
import { TransferRecord } from './entities/transfer.entity';

const subjectOf = (who: Subject) => ({ subjectIss: who.iss, subjectSub: who.sub });

/** The repositories of one connection. */
function unitOf(manager: EntityManager, outbox: Outbox): RegistryUnit {
  return {
    devices: {
      byEid: (eid) => manager.findOneBy(DeviceRecord, { eid }),
      require: (eid) => manager.findOneByOrFail(DeviceRecord, { eid }),
      byUrl: (deviceUrl) => manager.findOneBy(DeviceRecord, { deviceUrl }),
      exists: (eid) => manager.existsBy(DeviceRecord, { eid }),
      insert: async (device: Device) => void (await manager.insert(DeviceRecord, device as never)),
      update: async (eid, changes) => void (await manager.update(DeviceRecord, { eid }, changes as never)),
      touch: async (eid, now) => void (await manager.update(DeviceRecord, { eid }, { updatedAt: now, statusVersion: () => '"status_version" + 1' })),
      allEids: async () => (await manager.find(DeviceRecord, { select: { eid: true } })).map((device) => device.eid),
    },
    grants: {
      byId: (id) => manager.findOneBy(GrantRecord, { id, revokedAt: IsNull() }),
      ownerOf: (eid) => manager.findOneBy(GrantRecord, { scope: 'device', eid, role: 'owner', revokedAt: IsNull() }),
      onDeviceOf: (eid, who) => manager.findBy(GrantRecord, { scope: 'device', eid, ...subjectOf(who), revokedAt: IsNull() }),
      onDevice: (eid) => manager.findBy(GrantRecord, { scope: 'device', eid, revokedAt: IsNull() }),
      onGroupOf: (groupId, who) => manager.findBy(GrantRecord, { scope: 'group', groupId, ...subjectOf(who), revokedAt: IsNull() }),
      onGroupsOf: (groupIds, who) => manager.findBy(GrantRecord, { scope: 'group', groupId: In([...groupIds]), ...subjectOf(who), revokedAt: IsNull() }),
      of: (who) => manager.findBy(GrantRecord, { ...subjectOf(who), revokedAt: IsNull() }),
      insert: async (grant: Grant) => void (await manager.insert(GrantRecord, grant as never)),
      setRole: async (id, role: Role) => void (await manager.update(GrantRecord, { id }, { role })),
      revoke: async (id, at) => void (await manager.update(GrantRecord, { id }, { revokedAt: at })),
      revokeOnDevice: async (eid, at) => void (await manager.update(GrantRecord, { scope: 'device', eid, revokedAt: IsNull() }, { revokedAt: at })),
    },
    groups: {
      byId: (id) => manager.findOneBy(GroupRecord, { id }),
      insert: async (group) => void (await manager.insert(GroupRecord, group)),
      linksOfDevice: (eid) => manager.findBy(GroupDeviceRecord, { eid, removedAt: IsNull() }),
      linksOfGroup: (groupId) => manager.findBy(GroupDeviceRecord, { groupId, removedAt: IsNull() }),
      link: (groupId, eid) => manager.findOneBy(GroupDeviceRecord, { groupId, eid, removedAt: IsNull() }),
      insertLink: async (link) => void (await manager.insert(GroupDeviceRecord, link as never)),
      unlinkDevice: async (eid, at) => void (await manager.update(GroupDeviceRecord, { eid, removedAt: IsNull() }, { removedAt: at })),
    },
    owners: {
      async remember(who, now) {
        if (await manager.findOneBy(OwnerAccountRecord, { iss: who.iss, sub: who.sub })) return;
        await manager.insert(OwnerAccountRecord, { iss: who.iss, sub: who.sub, firstSeenAt: now }).catch((error: unknown) => {
          if (!isUniqueViolation(error)) throw error;
        });
      },
    },
    consents: {
      byJti: (jti) => manager.findOneBy(ConsentRecord, { jti }),
      ofDevice: (eid) => manager.find(ConsentRecord, { where: { eid }, order: { createdAt: 'DESC', jti: 'ASC' } }),
      insert: async (consent) => void (await manager.insert(ConsentRecord, consent as never)),
      revoke: async (jti, at) => void (await manager.update(ConsentRecord, { jti }, { revokedAt: at })),
      revokeAllOfDevice: async (eid, at) => void (await manager.update(ConsentRecord, { eid, revokedAt: IsNull() }, { revokedAt: at })),
      valid: (eid, mnoId, epoch, now) => manager.findBy(ConsentRecord, { eid, mnoId, epoch, revokedAt: IsNull(), expiresAt: MoreThan(now) }),
      revokedAt: async (eid, epoch) =>
        (await manager.find(ConsentRecord, { where: { eid, epoch, revokedAt: Not(IsNull()) }, select: { jti: true }, order: { jti: 'ASC' } })).map((consent) => consent.jti),
    },
    transfers: {
      insert: async (transfer) => void (await manager.insert(TransferRecord, transfer as never)),
      latestPending: (eid, now) =>
        manager.findOne(TransferRecord, { where: { eid, usedAt: IsNull(), burnedAt: IsNull(), expiresAt: MoreThan(now) }, order: { createdAt: 'DESC' } }),
      burnPending: async (eid, at) => void (await manager.update(TransferRecord, { eid, usedAt: IsNull(), burnedAt: IsNull() }, { burnedAt: at })),
      recordWrongCode: async (id, attempts, burnedAt) => void (await manager.update(TransferRecord, { id }, { attempts, ...(burnedAt ? { burnedAt } : {}) })),
      async use(id, buyer, at) {
        const used = await manager.update(TransferRecord, { id, usedAt: IsNull(), burnedAt: IsNull() }, { usedAt: at, buyerIss: buyer.iss, buyerSub: buyer.sub });
        return used.affected === 1;
      },
    },
    snapshots: {
      insert: async (snapshot) => void (await manager.insert(SettingsSnapshotRecord, snapshot as never)),
      ofOwner: (owner) => manager.find(SettingsSnapshotRecord, { where: { ownerIss: owner.iss, ownerSub: owner.sub }, order: { createdAt: 'DESC' } }),
      find: (id, owner) => manager.findOneBy(SettingsSnapshotRecord, { id, ownerIss: owner.iss, ownerSub: owner.sub }),
    },
    portingCodes: {
      insert: async (code) => void (await manager.insert(PortingCodeRecord, code)),
      pending: (eid, now) => manager.findBy(PortingCodeRecord, { eid, usedAt: IsNull(), expiresAt: MoreThan(now) }),
      markUsed: async (id, at) => void (await manager.update(PortingCodeRecord, { id }, { usedAt: at })),
    },
    audit: {
      insert: async (event) => void (await manager.insert(AuditRecord, event as never)),
      countOutcomes: (actor: AuditActor, outcomes, since) => manager.countBy(AuditRecord, { ...actor, outcome: In([...outcomes]), at: MoreThanOrEqual(since) }),
      forDevice: (eid, since, limit) => manager.find(AuditRecord, { where: { eid, at: MoreThanOrEqual(since) }, order: { at: 'DESC' }, take: limit }),
    },
    apiClients: {
      byId: (id) => manager.findOneBy(ApiClientRecord, { id }),
      byKeyHash: (apiKeySha256) => manager.findOneBy(ApiClientRecord, { apiKeySha256 }),
      insert: async (client) => void (await manager.insert(ApiClientRecord, client)),
      setKeyHash: async (id, apiKeySha256) => void (await manager.update(ApiClientRecord, { id }, { apiKeySha256 })),
    },
    outbox: {
      enqueue: async (message: OutboxMessageInput) => void (await outbox.enqueue(manager, message)),
    },
  };
}

/** The port over a DataSource whose entities are ownerRegistryEntities (persistence.ts). */
export function typeOrmRegistryStore(dataSource: DataSource, outbox: Outbox): RegistryStore {
  return {
    ...unitOf(dataSource.manager, outbox),
    transaction: (work) => dataSource.transaction((tx) => work(unitOf(tx, outbox))),
    // Postgres: one REPEATABLE READ snapshot; SQLite: transactions are queued (@rsp/persistence), so one is consistent.
    snapshot: (work) =>
      dataSource.options.type === 'postgres' ? dataSource.transaction('REPEATABLE READ', (tx) => work(unitOf(tx, outbox))) : dataSource.transaction((tx) => work(unitOf(tx, outbox))),
    isDuplicate: isUniqueViolation,
  };
}
