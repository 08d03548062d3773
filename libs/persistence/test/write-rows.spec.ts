/** insertRows / upsertRows (the hot-path writes without the query builder): the same rows as TypeORM's, on both drivers. */
import { expect, it } from '@jest/globals';
import { IdempotencyRecord, insertRows, sqlStatementCount, upsertRows } from '@rsp/persistence';
import { describeEachDatabase } from './support';

describeEachDatabase('insertRows / upsertRows', (db) => {
  const created = new Date('2026-05-01T00:00:00.000Z');
  const record = (callId: string, response: unknown): IdempotencyRecord => ({
    requester: 'ES3/smdp',
    functionCallIdentifier: callId,
    requestFingerprint: null,
    status: 'succeeded',
    response,
    errorCode: null,
    createdAt: created,
    expiresAt: new Date(created.getTime() + 1000),
  });
  const repository = () => db.dataSource.getRepository(IdempotencyRecord);

  it('inserts several rows in ONE statement, converted as the repository converts them (JSON, dates, nulls)', async () => {
    await repository().clear();
    const before = sqlStatementCount();
    await insertRows(db.dataSource, IdempotencyRecord, [record('a', { n: 1 }), record('b', ['x', null])]);
    expect(sqlStatementCount() - before).toBe(1);
    const rows = await repository().find({ order: { functionCallIdentifier: 'ASC' } });
    expect(rows).toEqual([record('a', { n: 1 }), record('b', ['x', null])]);
  });

  it('upserts: new keys inserted, existing ones updated in every other column, in ONE statement; inside a transaction too', async () => {
    await repository().clear();
    await insertRows(db.dataSource, IdempotencyRecord, [record('a', 'old')]);
    const before = sqlStatementCount();
    await upsertRows(db.dataSource, IdempotencyRecord, [record('a', 'new'), record('c', 'third')], ['requester', 'functionCallIdentifier']);
    expect(sqlStatementCount() - before).toBe(1);
    expect((await repository().find({ order: { functionCallIdentifier: 'ASC' } })).map((row) => [row.functionCallIdentifier, row.response])).toEqual([
      ['a', 'new'],
      ['c', 'third'],
    ]);
    await expect(
      db.dataSource.transaction(async (tx) => {
        await upsertRows(tx, IdempotencyRecord, [record('d', 'rolled back')], ['requester', 'functionCallIdentifier']);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await repository().countBy({ functionCallIdentifier: 'd' })).toBe(0);
  });

  it('refuses rows of different shapes and a conflict key that is not set (programming errors, before any SQL)', async () => {
    const { requestFingerprint: _unset, ...partial } = record('z', 1);
    await expect(insertRows(db.dataSource, IdempotencyRecord, [record('y', 1), partial])).rejects.toThrow('different properties');
    await expect(upsertRows(db.dataSource, IdempotencyRecord, [partial], ['requester', 'requestFingerprint'])).rejects.toThrow('conflict property');
  });
});
