/**
 * claimFirstRow: one statement that takes one matching row, on both drivers. Many claimers at once (two
 * DataSources = two processes, each with its own pool) get distinct rows, and exactly as many succeed
 * as rows match: no claimer loses a row it had read to another one.
 */
import { expect, it } from '@jest/globals';
import { claimFirstRow, driverOf, findRowsBy, Outbox, OutboxMessage, traceSqlStatements } from '@rsp/persistence';
import { describeEachDatabase } from './support';

const at = new Date('2026-03-01T10:00:00.000Z');

describeEachDatabase('claimFirstRow', (db) => {
  async function seed(destination: string, count: number): Promise<void> {
    const box = new Outbox(db.dataSource, { now: () => at });
    await db.dataSource.transaction(async (tx) => {
      for (let i = 0; i < count; i++) await box.enqueue(tx, { destination, payload: { i } });
    });
  }
  const claimers = async () => [db.dataSource, await db.openAnother()];
  const claimAll = async (destination: string, callers: number) => {
    const sources = await claimers();
    return Promise.all(
      Array.from({ length: callers }, (_, i) =>
        claimFirstRow((sources[i % 2] ?? db.dataSource), OutboxMessage, { destination, status: 'pending' }, { status: 'delivered', lastError: `claimer ${i}` }),
      ),
    );
  };

  it('takes the first matching row by primary key and returns it as findRowsBy would; null when none matches', async () => {
    await seed('claim:first', 3);
    const rows = (await findRowsBy(db.dataSource, OutboxMessage, { destination: 'claim:first' })).sort((a, b) => (a.id < b.id ? -1 : 1));
    const claimed = await claimFirstRow(db.dataSource, OutboxMessage, { destination: 'claim:first', status: 'pending' }, { status: 'delivered', deliveredAt: at });
    expect(claimed).toEqual({ ...rows[0], status: 'delivered', deliveredAt: at });
    expect(claimed?.createdAt).toBeInstanceOf(Date);
    const [stored] = await findRowsBy(db.dataSource, OutboxMessage, { id: rows[0]!.id });
    expect(stored).toEqual(claimed);
    expect(await claimFirstRow(db.dataSource, OutboxMessage, { destination: 'claim:none', status: 'pending' }, { status: 'delivered' })).toBeNull();
  });

  it('40 concurrent claimers over 50 rows: 40 distinct rows, each marked by its own claimer', async () => {
    await seed('claim:plenty', 50);
    const results = await claimAll('claim:plenty', 40);
    expect(results.every((row) => row !== null)).toBe(true);
    expect(new Set(results.map((row) => row?.id)).size).toBe(40);
    results.forEach((row, i) => expect(row?.lastError).toBe(`claimer ${i}`));
    expect(await findRowsBy(db.dataSource, OutboxMessage, { destination: 'claim:plenty', status: 'pending' })).toHaveLength(10);
  });

  it('40 concurrent claimers over 7 rows: exactly 7 succeed, the others get null', async () => {
    await seed('claim:scarce', 7);
    const results = await claimAll('claim:scarce', 40);
    const won = results.filter((row) => row !== null);
    expect(won).toHaveLength(7);
    expect(new Set(won.map((row) => row?.id)).size).toBe(7);
    expect(await findRowsBy(db.dataSource, OutboxMessage, { destination: 'claim:scarce', status: 'pending' })).toEqual([]);
  });

  it("keyOrder 'bytes': the key's byte order (COLLATE \"C\" on PostgreSQL, SQLite's BINARY as it is), the lowest key first", async () => {
    await seed('claim:bytes', 3);
    const ids = (await findRowsBy(db.dataSource, OutboxMessage, { destination: 'claim:bytes' })).map((row) => row.id);
    const lowest = [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))[0];
    const stop = traceSqlStatements();
    const claimed = await claimFirstRow(db.dataSource, OutboxMessage, { destination: 'claim:bytes', status: 'pending' }, { status: 'delivered' }, { keyOrder: 'bytes' });
    const [sql] = stop();
    expect(claimed?.id).toBe(lowest);
    expect(sql).toContain(driverOf(db.dataSource) === 'postgres' ? 'ORDER BY "id" COLLATE "C" LIMIT 1' : 'ORDER BY "id" LIMIT 1');
  });

  it('refuses a call without SET or WHERE, or with NULL in WHERE (programming errors)', async () => {
    await expect(claimFirstRow(db.dataSource, OutboxMessage, {}, { status: 'delivered' })).rejects.toThrow('SET and a WHERE');
    await expect(claimFirstRow(db.dataSource, OutboxMessage, { lastError: null }, { status: 'delivered' })).rejects.toThrow('NULL in WHERE');
  });
});
