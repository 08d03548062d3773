/**
 * The cross-instance card lease (domain/card-lease.ts) on SQLite: the store's atomic acquire / renew /
 * release, take-over of an expired lease, and a second "instance" waiting for the first.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDataSource } from '@rsp/persistence';
import { SqlCardLeaseStore } from '../src/adapters/persistence/card-lease-store';
import { smSrEntities, smSrMigrations } from '../src/adapters/persistence/typeorm-registry';
import { CardLease } from '../src/domain/card-lease';
import { SILENT_LOGGER } from '../src/domain/model';

const EID = '89049032000000000000000000000042';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('card lease on SQLite', () => {
  let dir: string;
  let dataSource: DataSource;
  let store: SqlCardLeaseStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rsp-lease-'));
    dataSource = await openDataSource({ url: `sqlite://${join(dir, 'lease.db')}`, entities: smSrEntities, migrations: smSrMigrations });
    store = new SqlCardLeaseStore(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('acquires once, refuses another holder until release or expiry, renews only its own', async () => {
    const now = Date.now();
    expect(await store.tryAcquire(EID, 'a', now + 1000, now)).toBe(true); // INSERT
    expect(await store.tryAcquire(EID, 'b', now + 1000, now)).toBe(false); // held, not expired
    expect(await store.tryAcquire(EID, 'a', now + 2000, now)).toBe(true); // mine: extended
    expect(await store.renew(EID, 'a', now + 3000)).toBe(true);
    expect(await store.renew(EID, 'b', now + 3000)).toBe(false);
    await store.release(EID, 'b'); // not b's: no effect
    expect(await store.tryAcquire(EID, 'b', now + 1000, now)).toBe(false);
    expect(await store.tryAcquire(EID, 'b', now + 5000, now + 3001)).toBe(true); // a's lease expired: taken over
    expect(await store.renew(EID, 'a', now + 9000)).toBe(false); // a lost it
    await store.release(EID, 'b');
    const rows = (await dataSource.query(`SELECT * FROM "smsr_card_lease"`)) as unknown[];
    expect(rows).toHaveLength(0);
  });

  it('many concurrent acquirers: exactly one wins', async () => {
    const now = Date.now();
    const eid = EID.replace(/42$/, '43');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.tryAcquire(eid, `h${i}`, now + 1000, now)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('instance B waits for A, then runs; a short deadline fails ERR_ES5_TIMEOUT', async () => {
    const a = new CardLease({ store, instanceId: 'A', logger: SILENT_LOGGER, ttlMs: 5000 });
    const b = new CardLease({ store, instanceId: 'B', logger: SILENT_LOGGER, ttlMs: 5000 });
    const order: string[] = [];
    let releaseA!: () => void;
    const aRunning = a.withLease(EID, async () => {
      order.push('A start');
      await new Promise<void>((resolve) => (releaseA = resolve));
      order.push('A end');
    });
    await sleep(30);
    await expect(b.withLease(EID, async () => 'never', Date.now() + 100)).rejects.toMatchObject({ code: 'ERR_ES5_TIMEOUT' });
    const bRunning = b.withLease(EID, async () => void order.push('B'), Date.now() + 5000);
    await sleep(80);
    expect(order).toEqual(['A start']);
    releaseA();
    await Promise.all([aRunning, bRunning]);
    expect(order).toEqual(['A start', 'A end', 'B']);
  });

  it('a lease is renewed while a long exchange runs, so nobody takes it over', async () => {
    const a = new CardLease({ store, instanceId: 'A', logger: SILENT_LOGGER, ttlMs: 150 });
    const eid = EID.replace(/42$/, '44');
    await a.withLease(eid, async () => {
      await sleep(400); // > 2 × ttl: only the renewal keeps it
      const now = Date.now();
      expect(await store.tryAcquire(eid, 'intruder', now + 150, now)).toBe(false);
    });
  });

  it('an expired lease (a crashed holder) is taken over by a waiting instance', async () => {
    const eid = EID.replace(/42$/, '45');
    const now = Date.now();
    expect(await store.tryAcquire(eid, 'crashed/1', now + 200, now)).toBe(true); // never released
    const b = new CardLease({ store, instanceId: 'B', logger: SILENT_LOGGER });
    const started = Date.now();
    expect(await b.withLease(eid, async () => 'ran', Date.now() + 3000)).toBe('ran');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});
