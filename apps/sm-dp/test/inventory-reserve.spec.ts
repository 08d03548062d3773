/**
 * Profile reservation (SGP.02 §3.1.1) under concurrency, on SQLite and PostgreSQL: two SM-DP instances
 * (two DataSources, each with its own pool) reserve at once. Every caller gets a distinct subscription
 * while any is left, exactly N succeed when only N are, and the losers get 8.2.1 / 3.7, never a
 * subscription someone else holds. The given-ICCID path and a resumed flow's own reservation keep working.
 */
import { beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { StatusError } from '@rsp/contracts';
import { SecretBox, driverOf, sqlStatementCount, tableOf } from '@rsp/persistence';
import { MnoRecord } from '../src/adapters/entities/mno.entity';
import { ProfileTypeRecord } from '../src/adapters/entities/profile-type.entity';
import { SubscriptionRecord } from '../src/adapters/entities/subscription.entity';
import { SmdpInit1767312000000 } from '../src/adapters/migrations/1767312000000-smdp-init';
import { SmdpSubscriptionPickOrder1767744000000 } from '../src/adapters/migrations/1767744000000-smdp-subscription-pick-order';
import { typeOrmInventoryStore } from '../src/adapters/typeorm-inventory-store';
import { Inventory } from '../src/domain/inventory';
import { describeEachDatabase } from '../../../libs/persistence/test/support';

const EID = '89049032123451234512345678901235';
const secrets = new SecretBox({ currentKeyId: 'k1', keys: { k1: SecretBox.generateKey() } });

/** The status pair a refused reservation carries, or 'reserved'. */
const outcomeOf = (settled: PromiseSettledResult<SubscriptionRecord>) => {
  if (settled.status === 'fulfilled') return 'reserved';
  const error = settled.reason as unknown;
  return error instanceof StatusError ? `${error.statusCodeData.subjectCode} / ${error.statusCodeData.reasonCode}` : String(error);
};

describeEachDatabase(
  'Inventory.reserve',
  (db) => {
    let instances: Inventory[];
    beforeAll(async () => {
      const second: DataSource = await db.openAnother();
      instances = [new Inventory(typeOrmInventoryStore(db.dataSource), secrets), new Inventory(typeOrmInventoryStore(second), secrets)];
      await instances[0]!.upsertMno({ mnoId: 'mno.a', apiKey: `key-${randomUUID()}` });
      await instances[0]!.upsertMno({ mnoId: 'mno.b', apiKey: `key-${randomUUID()}` });
    });

    /** A fresh profile type with `count` subscriptions; `callers` parallel reservations across both instances. */
    async function race(count: number, callers: number) {
      const profileType = `t-${randomUUID().slice(0, 8)}`;
      await instances[0]!.putProfileType('mno.a', { name: profileType });
      await instances[0]!.generateSubscriptions('mno.a', profileType, count);
      const transactions = Array.from({ length: callers }, () => randomUUID());
      const settled = await Promise.allSettled(
        transactions.map((transactionId, i) => instances[i % 2]!.reserve('mno.a', { profileType }, EID, transactionId)),
      );
      return { profileType, transactions, settled };
    }

    it('40 parallel reservations with 50 available: all succeed, 40 distinct ICCIDs, each held by its own transaction', async () => {
      const { profileType, transactions, settled } = await race(50, 40);
      expect(settled.map(outcomeOf)).toEqual(Array(40).fill('reserved'));
      const reserved = settled.map((result) => (result as PromiseFulfilledResult<SubscriptionRecord>).value);
      expect(new Set(reserved.map((record) => record.iccid)).size).toBe(40);
      reserved.forEach((record, i) => expect(record).toMatchObject({ state: 'reserved', eid: EID, transactionId: transactions[i], profileType }));
      const stored = await instances[0]!.listSubscriptions('mno.a', { profileType, state: 'reserved' });
      expect(stored.map((view) => view.iccid).sort()).toEqual(reserved.map((record) => record.iccid).sort());
      expect(await instances[0]!.listSubscriptions('mno.a', { profileType, state: 'available' })).toHaveLength(10);
    });

    it('40 parallel reservations with 7 available: exactly 7 succeed, the other 33 get 8.2.1 / 3.7', async () => {
      const { profileType, settled } = await race(7, 40);
      const outcomes = settled.map(outcomeOf);
      expect(outcomes.filter((outcome) => outcome === 'reserved')).toHaveLength(7);
      expect(outcomes.filter((outcome) => outcome === '8.2.1 / 3.7')).toHaveLength(33);
      const iccids = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value.iccid] : []));
      expect(new Set(iccids).size).toBe(7);
      expect(await instances[0]!.listSubscriptions('mno.a', { profileType, state: 'available' })).toEqual([]);
    });

    it('a resumed flow finds its own reservation and takes no second subscription', async () => {
      const { profileType, transactions, settled } = await race(3, 1);
      const first = (settled[0] as PromiseFulfilledResult<SubscriptionRecord>).value;
      const again = await instances[1]!.reserve('mno.a', { profileType }, EID, transactions[0]!);
      expect(again).toEqual(first);
      expect(await instances[0]!.listSubscriptions('mno.a', { profileType, state: 'available' })).toHaveLength(2);
    });

    it('a given ICCID: one of 10 parallel callers gets it (8.2.1 / 3.3 for the rest); unknown → 3.9; another MNO\'s → 1.2', async () => {
      const profileType = `t-${randomUUID().slice(0, 8)}`;
      await instances[0]!.putProfileType('mno.a', { name: profileType });
      const [wanted] = await instances[0]!.generateSubscriptions('mno.a', profileType, 2);
      const iccid = wanted!.iccid;
      const settled = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => instances[i % 2]!.reserve('mno.a', { iccid }, EID, randomUUID())),
      );
      const outcomes = settled.map(outcomeOf);
      expect(outcomes.filter((outcome) => outcome === 'reserved')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === '8.2.1 / 3.3')).toHaveLength(9);
      expect(settled.find((result) => result.status === 'fulfilled')).toMatchObject({ value: { iccid, state: 'reserved', eid: EID } });

      const refusal = (promise: Promise<unknown>) => promise.then(() => 'reserved', (error: unknown) => outcomeOf({ status: 'rejected', reason: error }));
      expect(await refusal(instances[0]!.reserve('mno.a', { iccid: '89882990000000000000' }, EID, randomUUID()))).toBe('8.2.1 / 3.9');
      const [theirs] = await instances[0]!.listSubscriptions('mno.a', { profileType, state: 'available' });
      expect(await refusal(instances[0]!.reserve('mno.b', { iccid: theirs!.iccid }, EID, randomUUID()))).toBe('8.2.1 / 1.2');
      expect(await instances[0]!.findSubscription(theirs!.iccid)).toMatchObject({ state: 'available', transactionId: null, eid: null });
    });

    it('the pick of an available subscription reads the index in ICCID order, past any number taken: no sort, no walk', async () => {
      // Without iccid in smdp_subscription_pick_idx, each reservation read and sorted every available row of
      // the type (307 µs with 2 000 in stock on SQLite). On PostgreSQL, ordered by the primary key as such,
      // the planner walked the primary key through every subscription taken; the reservation orders by the
      // ICCID's bytes (claimFirstRow keyOrder 'bytes'), which only the pick index serves. Most of the pool
      // is taken here, lowest ICCIDs first, as a pool is. PostgreSQL is told to avoid a sequential scan,
      // as on a table this small it would pick one (and sort) whatever the indexes.
      const { dataSource } = db;
      const postgres = driverOf(dataSource) === 'postgres';
      const table = tableOf(dataSource, SubscriptionRecord);
      const profileType = `t-${randomUUID().slice(0, 8)}`;
      await instances[0]!.putProfileType('mno.a', { name: profileType });
      await instances[0]!.generateSubscriptions('mno.a', profileType, 200);
      const p = (n: number) => (postgres ? `$${n}` : '?');
      await dataSource.query(
        `UPDATE ${table} SET "state" = 'installed' WHERE "iccid" IN (SELECT "iccid" FROM ${table} WHERE "profile_type" = ${p(1)} ORDER BY "iccid" LIMIT 150)`,
        [profileType],
      );
      await dataSource.query(postgres ? `ANALYZE ${table}` : 'ANALYZE');
      const order = postgres ? '"iccid" COLLATE "C"' : '"iccid"';
      const pick = `SELECT "iccid" FROM ${table} WHERE "mno_id" = ${p(1)} AND "profile_type" = ${p(2)} AND "state" = ${p(3)} ORDER BY ${order} LIMIT 1${postgres ? ' FOR UPDATE SKIP LOCKED' : ''}`;
      const runner = dataSource.createQueryRunner();
      try {
        if (postgres) await runner.query('SET enable_seqscan = off');
        const plan = (await runner.query(`${postgres ? 'EXPLAIN' : 'EXPLAIN QUERY PLAN'} ${pick}`, ['mno.a', profileType, 'available'])) as Array<Record<string, string>>;
        const text = plan.map((row) => row['QUERY PLAN'] ?? row.detail).join('\n');
        expect(text).toMatch(/smdp_subscription_pick_idx/);
        expect(text).not.toMatch(/Sort|TEMP B-TREE|_pkey/);
      } finally {
        if (postgres) await runner.query('RESET enable_seqscan');
        await runner.release();
      }
      // And the reservation itself takes the lowest available ICCID.
      const [lowest] = await instances[0]!.listSubscriptions('mno.a', { profileType, state: 'available' });
      expect((await instances[1]!.reserve('mno.a', { profileType }, EID, randomUUID())).iccid).toBe(lowest!.iccid);
    });

    it('ownerOf: the owner a reservation returned costs no read; another instance reads it once; unknown ICCIDs are null, and read each time', async () => {
      const { transactions, settled } = await race(2, 1);
      const mine = (settled[0] as PromiseFulfilledResult<SubscriptionRecord>).value;
      expect(mine.transactionId).toBe(transactions[0]);
      const before = sqlStatementCount();
      expect(await instances[0]!.ownerOf(mine.iccid)).toBe('mno.a'); // instance 0 reserved it (race: caller 0)
      expect(sqlStatementCount() - before).toBe(0);
      const other = new Inventory(typeOrmInventoryStore(db.dataSource), secrets);
      expect(await other.ownerOf(mine.iccid)).toBe('mno.a');
      expect(await other.ownerOf(mine.iccid)).toBe('mno.a');
      expect(sqlStatementCount() - before).toBe(1);
      expect(await other.ownerOf('89882990000000000000')).toBeNull();
      expect(await other.ownerOf('89882990000000000000')).toBeNull();
      expect(sqlStatementCount() - before).toBe(3);
    });

    it('an unknown profile type is 1.6 / 3.9 and reserves nothing', async () => {
      const settled = await Promise.allSettled([instances[0]!.reserve('mno.a', { profileType: 'no-such-type' }, EID, randomUUID())]);
      expect(settled.map(outcomeOf)).toEqual(['1.6 / 3.9']);
    });
  },
  { entities: [MnoRecord, ProfileTypeRecord, SubscriptionRecord], migrations: [SmdpInit1767312000000, SmdpSubscriptionPickOrder1767744000000] },
);
