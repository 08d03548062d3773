/**
 * The single-instance EIS registry cache (adapters/persistence/cached-registry.ts): reads served from
 * memory, and always equal to what the database holds — after commits, after failed transactions, for
 * ISD-R key compare-and-set — compared with the plain TypeORM registry on the same database.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { defaultIsdRKeySet } from '@rsp/offcard';
import { openDataSource, Outbox, SecretBox, sqlStatementCount } from '@rsp/persistence';
import { CachedEisRegistry } from '../src/adapters/persistence/cached-registry';
import { smSrEntities, smSrMigrations, TypeOrmEisRegistry } from '../src/adapters/persistence/typeorm-registry';
import type { EuiccRecord, ProfileRecord } from '../src/domain/model';

const EID = '89049032123451234512345678901235';
const ICCID = '89499990550000000017';

describe('CachedEisRegistry', () => {
  let dir: string;
  let dataSource: DataSource;
  let stored: TypeOrmEisRegistry;
  let cached: CachedEisRegistry;
  const statements = async <T>(work: () => Promise<T>): Promise<{ value: T; sql: number }> => {
    const before = sqlStatementCount();
    const value = await work();
    return { value, sql: sqlStatementCount() - before };
  };
  const profile = (changes: Partial<ProfileRecord> = {}): ProfileRecord => ({
    eid: EID,
    iccid: ICCID,
    isdpAid: 'a0000005591010ffffffff8900001100',
    mnoId: 'mno.test',
    smdpId: 'smdp.test',
    state: 'Created',
    fallback: false,
    pol2: [],
    allocatedMemory: 16384,
    ...changes,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rsp-cached-registry-'));
    dataSource = await openDataSource({ url: `sqlite://${join(dir, 'smsr.db')}`, entities: smSrEntities, migrations: smSrMigrations });
    const secrets = new SecretBox({ currentKeyId: 'k', keys: { k: randomBytes(32) } });
    stored = new TypeOrmEisRegistry(dataSource, secrets, new Outbox(dataSource));
    cached = await new CachedEisRegistry(stored).load();
    const record: EuiccRecord = {
      eid: EID,
      eumId: 'eum.test',
      smsrId: 'smsr.test',
      signedInfo: { eid: EID } as never,
      eumSignature: '00',
      isdRAid: 'A0000005591010FFFFFFFF8900000100',
      remainingMemory: 500_000,
      availableMemoryForProfiles: 500_000,
      registeredAt: new Date('2026-05-01T00:00:00.000Z'),
      profiles: [],
    };
    await cached.register(record, defaultIsdRKeySet(EID));
  });
  afterAll(async () => {
    await dataSource?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a record once, then from memory, and hands out copies', async () => {
    expect((await statements(() => cached.find(EID))).sql).toBe(1); // the eUICC and its profiles, in one statement (a LEFT JOIN)
    const { value: again, sql } = await statements(() => cached.find(EID));
    expect(sql).toBe(0);
    again!.remainingMemory = 1; // a use case editing its copy…
    again!.profiles.push(profile());
    expect(await cached.find(EID)).toEqual(await stored.find(EID)); // …changes neither the cache nor the database
  });

  it('hands out copies of every editable level, and the EUM-signed part frozen (nothing may edit what the EUM signed)', async () => {
    await cached.transaction((tx) => tx.saveProfile(profile()));
    const copy = (await cached.find(EID))!;
    copy.profiles[0]!.pol2.push({ subject: 'PROFILE', action: 'DELETE', qualification: 'Not-Allowed' });
    copy.profiles[0]!.state = 'Enabled';
    copy.registeredAt.setTime(0);
    expect(() => {
      (copy.signedInfo as { eumId: string }).eumId = 'forged';
    }).toThrow(TypeError);
    expect(await cached.find(EID)).toEqual(await stored.find(EID));
  });

  it('follows committed transactions without reading back, and equals the database after each', async () => {
    const { sql } = await statements(() =>
      cached.transaction(async (tx) => {
        await tx.saveProfile(profile());
        await tx.updateEuicc(EID, { remainingMemory: 483_616, availableMemoryForProfiles: 483_616 });
      }),
    );
    expect(sql).toBe(4); // BEGIN, UPDATE, upsert, COMMIT
    expect((await statements(() => cached.find(EID))).sql).toBe(0);
    expect(await cached.find(EID)).toEqual(await stored.find(EID));
    await cached.transaction((tx) => tx.saveProfile(profile({ state: 'Disabled', profileType: 'generic', subscriptionAddress: { imsi: '001010000000017' } })));
    expect(await cached.find(EID)).toEqual(await stored.find(EID));
    expect(await cached.findByIccid(ICCID)).toEqual(await stored.findByIccid(ICCID));
  });

  it('a transaction that throws writes nothing and leaves the cache equal to the database', async () => {
    await expect(
      cached.transaction(async (tx) => {
        await tx.saveProfile(profile({ state: 'Enabled' }));
        throw new Error('card refused');
      }),
    ).rejects.toThrow('card refused');
    expect((await cached.find(EID))?.profiles[0]?.state).toBe('Disabled');
    expect(await cached.find(EID)).toEqual(await stored.find(EID));
  });

  it('answers an unknown ICCID from its complete index (no SQL), and knows a new one at once', async () => {
    const { value, sql } = await statements(() => cached.findByIccid('89499990550000000025'));
    expect(value).toBeUndefined();
    expect(sql).toBe(0);
    await cached.transaction((tx) => tx.saveProfile(profile({ iccid: '89499990550000000025', isdpAid: 'A0000005591010FFFFFFFF8900001200' })));
    expect((await cached.findByIccid('89499990550000000025'))?.isdpAid).toBe('A0000005591010FFFFFFFF8900001200');
    await cached.transaction((tx) => tx.deleteProfile(EID, '89499990550000000025'));
    expect(await cached.findByIccid('89499990550000000025')).toBeUndefined();
    expect(await cached.find(EID)).toEqual(await stored.find(EID));
  });

  it('keeps the opened ISD-R keys, with the revision the database holds after a compare-and-set; a stale revision is refused', async () => {
    const first = await cached.isdRKeyRecord(EID);
    expect((await statements(() => cached.isdRKeyRecord(EID))).sql).toBe(0);
    const next = { keys: { ...defaultIsdRKeySet(EID), kvn: 0x31 }, establishedBySmsr: true, retireKvns: [0x30] };
    expect(await cached.replaceIsdRKeys(EID, next, first!.revision)).toBe(true);
    const { value: afterReplace, sql } = await statements(() => cached.isdRKeyRecord(EID));
    expect(sql).toBe(0);
    expect(afterReplace).toEqual(await stored.isdRKeyRecord(EID));
    expect(await cached.replaceIsdRKeys(EID, { ...next, retireKvns: [] }, first!.revision)).toBe(false); // another writer's view
    expect(await cached.isdRKeyRecord(EID)).toEqual(await stored.isdRKeyRecord(EID));
  });

  it('a cold read keeps the ISD-R keys of the row it read: the first key read after it makes no SQL and equals the database', async () => {
    const fresh = await new CachedEisRegistry(stored).load();
    expect((await statements(() => fresh.find(EID))).sql).toBe(1);
    const { value, sql } = await statements(() => fresh.isdRKeyRecord(EID));
    expect(sql).toBe(0);
    expect(value).toEqual(await stored.isdRKeyRecord(EID));
  });

  it('a cold read that overlaps a key compare-and-set keeps neither its record nor its keys', async () => {
    const fresh = await new CachedEisRegistry(stored).load();
    const before = (await stored.isdRKeyRecord(EID))!;
    const read = fresh.find(EID); // a miss: reads the row, keys included…
    const next = { keys: { ...defaultIsdRKeySet(EID), kvn: 0x32 }, establishedBySmsr: true, retireKvns: [] };
    expect(await fresh.replaceIsdRKeys(EID, next, before.revision)).toBe(true); // …while the keys change
    await read;
    expect((await fresh.isdRKeyRecord(EID))?.keys.kvn).toBe(0x32);
    expect(await fresh.isdRKeyRecord(EID)).toEqual(await stored.isdRKeyRecord(EID));
  });

  it('a read that overlaps a write of the same eUICC is not cached (it may have read before the commit)', async () => {
    const fresh = await new CachedEisRegistry(stored).load();
    const read = fresh.find(EID); // a miss: reads the database…
    await fresh.transaction((tx) => tx.updateEuicc(EID, { remainingMemory: 470_000 })); // …while a write commits
    await read;
    expect((await fresh.find(EID))?.remainingMemory).toBe(470_000);
    expect(await fresh.find(EID)).toEqual(await stored.find(EID));
  });
});
