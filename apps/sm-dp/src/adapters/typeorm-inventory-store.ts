/**
 * The inventory's persistence port (domain/inventory-store.ts) on TypeORM and the raw SQL helpers of
 * @rsp/persistence: the reads on every ES2 call and download use `findRowsBy` (no query builder; bench --
 * provisioning profile), a reservation is ONE `claimFirstRow` statement.
 */
import { type DataSource, type ObjectLiteral, type QueryDeepPartialEntity } from 'typeorm';
import { claimFirstRow, findRowsBy, isUniqueViolation, updateRows, updateRowsStatement } from '@rsp/persistence';
import type { InventoryStore, Subscription } from '../domain/inventory-store';
import { MnoRecord } from './entities/mno.entity';
import { ProfileTypeRecord } from './entities/profile-type.entity';
import { SubscriptionRecord } from './entities/subscription.entity';

/** TypeORM cannot type JSON columns in insert/update values (as @rsp/persistence's own helper). */
function values<E extends ObjectLiteral>(partial: Partial<E>): QueryDeepPartialEntity<E> {
  return partial as QueryDeepPartialEntity<E>;
}

/** The port over a DataSource whose entities are smdpEntities (persistence.ts). */
export function typeOrmInventoryStore(dataSource: DataSource): InventoryStore {
  const first = async <E extends ObjectLiteral>(entity: new () => E, where: Partial<Record<keyof E & string, unknown>>): Promise<E | null> =>
    (await findRowsBy(dataSource, entity, where))[0] ?? null;
  const subscriptions = dataSource.getRepository(SubscriptionRecord);
  return {
    mnoById: (mnoId) => first(MnoRecord, { mnoId }),
    mnoByKeyHash: (apiKeySha256) => first(MnoRecord, { apiKeySha256 }),
    async saveMno({ mnoId, ...fields }, now) {
      const repository = dataSource.getRepository(MnoRecord);
      if (await repository.findOneBy({ mnoId })) await repository.update({ mnoId }, fields);
      else await repository.insert({ mnoId, ...fields, createdAt: now });
    },

    profileType: (mnoId, name) => first(ProfileTypeRecord, { mnoId, name }),
    profileTypesOf: (mnoId) => dataSource.getRepository(ProfileTypeRecord).find({ where: { mnoId }, order: { name: 'ASC' } }),
    async saveProfileType({ mnoId, name, ...fields }, now) {
      const repository = dataSource.getRepository(ProfileTypeRecord);
      if (await repository.existsBy({ mnoId, name })) await repository.update({ mnoId, name }, values<ProfileTypeRecord>(fields));
      else await repository.insert(values<ProfileTypeRecord>({ mnoId, name, ...fields, createdAt: now }));
    },

    subscription: (iccid) => first(SubscriptionRecord, { iccid }),
    reservationOf: (transactionId) => first(SubscriptionRecord, { transactionId, state: 'reserved' }),
    subscriptionsOf: (mnoId, filter, limit) =>
      subscriptions.find({
        where: { mnoId, ...(filter.state ? { state: filter.state } : {}), ...(filter.profileType ? { profileType: filter.profileType } : {}) },
        order: { iccid: 'ASC' },
        take: limit,
      }),
    // ICCID byte order: the one order only the pick index serves (migration 1767744000000).
    claimAvailable: (where, changes) => claimFirstRow(dataSource, SubscriptionRecord, { ...where, state: 'available' }, changes, { keyOrder: 'bytes' }),
    // updateRows, not the repository: prepared, and on PostgreSQL pipelined (a download's markInstalled).
    updateHeld: async (iccid, transactionId, changes) => void (await updateRows(dataSource, SubscriptionRecord, { iccid, transactionId }, changes, { state: ['reserved', 'installed'] })),
    heldUpdate: (iccid, transactionId, changes) => updateRowsStatement(dataSource, SubscriptionRecord, { iccid, transactionId }, changes, { state: ['reserved', 'installed'] }),
    update: async (iccid, changes) => void (await subscriptions.update({ iccid }, changes)),
    addSubscriptions: (work) =>
      dataSource.transaction((tx) =>
        work({
          exists: (iccid) => tx.getRepository(SubscriptionRecord).existsBy({ iccid }),
          insert: async (subscription: Subscription) => void (await tx.getRepository(SubscriptionRecord).insert(subscription)),
        }),
      ),
    isDuplicate: isUniqueViolation,
  };
}
