/**
 * runWrites (atomic-writes.ts): several writes commit together or not at all, on both drivers; on
 * PostgreSQL, writes on distinct tables travel as ONE statement instead of BEGIN, each, COMMIT.
 */
import { expect, it } from '@jest/globals';
import {
  IdempotencyRecord,
  insertRows,
  insertRowsStatement,
  isUniqueViolation,
  OutboxMessage,
  runWrites,
  sqlStatementCount,
  updateRowsStatement,
  upsertRowsStatement,
} from '@rsp/persistence';
import { describeEachDatabase, statementsSent } from './support';

describeEachDatabase('runWrites', (db) => {
  const at = new Date('2026-06-01T10:00:00.000Z');
  const record = (callId: string, response: unknown): IdempotencyRecord => ({
    requester: 'ES2/mno',
    functionCallIdentifier: callId,
    requestFingerprint: `fp-${callId}`,
    status: 'in-progress',
    response,
    errorCode: null,
    createdAt: at,
    expiresAt: new Date(at.getTime() + 60_000),
  });
  const message = (id: string, destination: string): OutboxMessage =>
    Object.assign(new OutboxMessage(), {
      id,
      destination,
      payload: { to: destination, n: 1 },
      status: 'pending' as const,
      attempts: 0,
      nextAttemptAt: at,
      claimedUntil: null,
      deliveredAt: null,
      lastError: null,
      createdAt: at,
    });
  const records = () => db.dataSource.getRepository(IdempotencyRecord);
  const messages = () => db.dataSource.getRepository(OutboxMessage);
  const reset = async () => {
    await records().clear();
    await messages().clear();
  };
  it('writes on distinct tables land together, every value in its column; ONE statement on PostgreSQL, BEGIN … COMMIT on SQLite', async () => {
    await reset();
    await insertRows(db.dataSource, IdempotencyRecord, [record('a', null)]);
    const words = await statementsSent(() =>
      runWrites(db.dataSource, [
        updateRowsStatement(db.dataSource, IdempotencyRecord, { requester: 'ES2/mno', functionCallIdentifier: 'a' }, { status: 'succeeded', response: { done: true } }),
        insertRowsStatement(db.dataSource, OutboxMessage, [message('11111111-1111-4111-8111-111111111111', 'https://mno.example/a'), message('22222222-2222-4222-8222-222222222222', 'https://mno.example/b')]),
      ]),
    );
    expect(words).toEqual(db.kind === 'postgres' ? ['WITH'] : ['BEGIN', 'UPDATE', 'INSERT', 'COMMIT']);
    expect(await records().findOneByOrFail({ functionCallIdentifier: 'a' })).toEqual({ ...record('a', { done: true }), status: 'succeeded' });
    const stored = await messages().find({ order: { destination: 'ASC' } });
    expect(stored.map((row) => [row.id, row.destination, row.payload, row.nextAttemptAt.toISOString()])).toEqual([
      ['11111111-1111-4111-8111-111111111111', 'https://mno.example/a', { to: 'https://mno.example/a', n: 1 }, at.toISOString()],
      ['22222222-2222-4222-8222-222222222222', 'https://mno.example/b', { to: 'https://mno.example/b', n: 1 }, at.toISOString()],
    ]);
  });

  it('all or nothing: when the second write fails (a duplicate key) the first is not kept, and the error is the driver\'s unique violation', async () => {
    await reset();
    await insertRows(db.dataSource, IdempotencyRecord, [record('a', null)]);
    await insertRows(db.dataSource, OutboxMessage, [message('33333333-3333-4333-8333-333333333333', 'https://mno.example/taken')]);
    const failing = runWrites(db.dataSource, [
      upsertRowsStatement(db.dataSource, IdempotencyRecord, [record('a', 'changed'), record('b', 'new')], ['requester', 'functionCallIdentifier']),
      insertRowsStatement(db.dataSource, OutboxMessage, [message('33333333-3333-4333-8333-333333333333', 'https://mno.example/again')]),
    ]);
    const error = await failing.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(isUniqueViolation(error)).toBe(true);
    expect((await records().find()).map((row) => [row.functionCallIdentifier, row.response])).toEqual([['a', null]]);
    expect(await messages().count()).toBe(1);
  });

  it('two writes on ONE table keep a transaction, in order (one snapshot could not order them)', async () => {
    await reset();
    const key = { requester: 'ES2/mno', functionCallIdentifier: 'c' };
    const words = await statementsSent(() =>
      runWrites(db.dataSource, [
        insertRowsStatement(db.dataSource, IdempotencyRecord, [record('c', 'first')]),
        updateRowsStatement(db.dataSource, IdempotencyRecord, key, { response: 'second' }),
      ]),
    );
    expect(words).toEqual(['BEGIN', 'INSERT', 'UPDATE', 'COMMIT']);
    expect((await records().findOneByOrFail(key)).response).toBe('second');
  });

  it('a callback write keeps a transaction and runs in order with the statements', async () => {
    await reset();
    const key = { requester: 'ES2/mno', functionCallIdentifier: 'd' };
    const before = sqlStatementCount();
    await runWrites(db.dataSource, [
      insertRowsStatement(db.dataSource, IdempotencyRecord, [record('d', 'kept')]),
      async (manager) => manager.delete(IdempotencyRecord, key),
      insertRowsStatement(db.dataSource, OutboxMessage, [message('44444444-4444-4444-8444-444444444444', 'https://mno.example/d')]),
    ]);
    expect(sqlStatementCount() - before).toBe(5); // BEGIN, INSERT, DELETE, INSERT, COMMIT
    expect(await records().countBy(key)).toBe(0);
    expect(await messages().count()).toBe(1);
  });

  it('one write runs alone, without BEGIN / COMMIT, a callback too; none sends nothing', async () => {
    await reset();
    expect(await statementsSent(() => runWrites(db.dataSource, [insertRowsStatement(db.dataSource, IdempotencyRecord, [record('e', 1)])]))).toEqual(['INSERT']);
    expect(await statementsSent(() => runWrites(db.dataSource, [async (manager) => manager.delete(IdempotencyRecord, { requester: 'ES2/mno', functionCallIdentifier: 'none' })]))).toEqual(['DELETE']);
    expect(await statementsSent(() => runWrites(db.dataSource, []))).toEqual([]);
    expect(await records().count()).toBe(1);
  });
});
