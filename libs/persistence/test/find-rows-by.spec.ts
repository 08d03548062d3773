import { expect, it } from '@jest/globals';
import { findRowsBy, findRowWithChildren, insertRow, isUniqueViolation, Outbox, OutboxMessage, sqlStatementCount, TransactionRecord, updateRows } from '@rsp/persistence';
import { describeEachDatabase } from './support';

// findRowsBy is the query-builder-free read of hot paths: it must return what findBy returns, column
// transformers (JSON, timestamps) and NULLs included, on both drivers.
describeEachDatabase('findRowsBy, insertRow, updateRows', (db) => {
  it('returns the same rows as repository.findBy, hydrated the same way', async () => {
    const repository = db.dataSource.getRepository(OutboxMessage);
    await repository.clear();
    const box = new Outbox(db.dataSource, { now: () => new Date('2026-03-01T10:00:00.000Z') });
    await db.dataSource.transaction(async (tx) => {
      await box.enqueue(tx, { destination: 'mqtt:rsp/a', payload: { n: 1, nested: { hex: 'A1B2' } } });
      await box.enqueue(tx, { destination: 'mqtt:rsp/a', payload: [1, 'two', null] });
      await box.enqueue(tx, { destination: 'mqtt:rsp/b', payload: 'text' });
    });
    const byId = (rows: OutboxMessage[]) => [...rows].sort((x, y) => x.id.localeCompare(y.id)).map((row) => ({ ...row }));

    const expected = await repository.findBy({ destination: 'mqtt:rsp/a' });
    const actual = await findRowsBy(db.dataSource, OutboxMessage, { destination: 'mqtt:rsp/a' });
    expect(actual).toHaveLength(2);
    expect(byId(actual)).toEqual(byId(expected));
    expect(actual[0]?.createdAt).toBeInstanceOf(Date);

    const [one] = await findRowsBy(db.dataSource, OutboxMessage, { id: expected[0]!.id, status: expected[0]!.status });
    expect({ ...one }).toEqual({ ...(await repository.findOneBy({ id: expected[0]!.id })) });
    expect(await findRowsBy(db.dataSource, OutboxMessage, { destination: 'nowhere' })).toEqual([]);
  });

  it('insertRow and updateRows write what insert / update write, with affected counts and unique violations', async () => {
    const repository = db.dataSource.getRepository(OutboxMessage);
    await repository.clear();
    const at = new Date('2026-03-01T10:00:00.123Z');
    const row = { id: '00000000-0000-4000-8000-000000000001', destination: 'mqtt:x', payload: { a: [1, 2] }, status: 'pending' as const, attempts: 0, nextAttemptAt: at, createdAt: at };
    await insertRow(db.dataSource, OutboxMessage, row);
    const error = await insertRow(db.dataSource, OutboxMessage, row).catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    expect(await repository.findOneBy({ id: row.id })).toMatchObject({ ...row, claimedUntil: null, deliveredAt: null });

    expect(await updateRows(db.dataSource, OutboxMessage, { id: row.id, status: 'delivered' }, { attempts: 9 })).toBe(0);
    expect(await updateRows(db.dataSource, OutboxMessage, { id: row.id, status: 'pending' }, { status: 'delivered', deliveredAt: at, payload: 'replaced', lastError: null })).toBe(1);
    expect(await repository.findOneBy({ id: row.id })).toMatchObject({ status: 'delivered', deliveredAt: at, payload: 'replaced', lastError: null, attempts: 0 });
  });

  it('updateRows with whereIn updates what update with In([...]) updates: only rows holding one of the values', async () => {
    const repository = db.dataSource.getRepository(OutboxMessage);
    await repository.clear();
    const at = new Date('2026-03-01T10:00:00.000Z');
    const row = (n: number, status: OutboxMessage['status']) => ({ id: `00000000-0000-4000-8000-00000000000${n}`, destination: 'mqtt:in', payload: n, status, attempts: 0, nextAttemptAt: at, createdAt: at });
    for (const [n, status] of [[1, 'pending'], [2, 'delivered'], [3, 'dead']] as const) await insertRow(db.dataSource, OutboxMessage, row(n, status));
    expect(await updateRows(db.dataSource, OutboxMessage, { destination: 'mqtt:in' }, { attempts: 7 }, { status: ['pending', 'dead'] })).toBe(2);
    expect(await updateRows(db.dataSource, OutboxMessage, { id: row(2, 'delivered').id }, { attempts: 8 }, { status: ['pending', 'dead'] })).toBe(0);
    expect((await repository.find({ order: { id: 'ASC' } })).map((message) => message.attempts)).toEqual([7, 0, 7]);
    // A list alone is a WHERE; an empty list or a NULL in one is the caller's error, not "match nothing".
    expect(await updateRows(db.dataSource, OutboxMessage, {}, { attempts: 1 }, { status: ['delivered'] })).toBe(1);
    await expect(updateRows(db.dataSource, OutboxMessage, {}, { attempts: 1 }, { status: [] })).rejects.toThrow('an empty IN list');
    await expect(updateRows(db.dataSource, OutboxMessage, {}, { attempts: 1 }, { lastError: [null] })).rejects.toThrow('NULL in WHERE');
  });
});

// findRowWithChildren: a parent row and its children in ONE statement, each as findRowsBy gives it.
describeEachDatabase('findRowWithChildren', (db) => {
  const at = new Date('2026-03-01T10:00:00.123Z');
  const transaction = (id: string) => ({
    id,
    flow: 'f',
    stepIndex: 1,
    stepName: 'two',
    status: 'running' as const,
    context: { eid: '89', nested: [1, 'x', null] },
    attempts: 1,
    errorCode: null,
    errorMessage: null,
    deadline: null,
    createdAt: at,
    updatedAt: at,
  });
  // The outbox's destination names the transaction: a stand-in for a child table with a link column.
  const message = (id: string, destination: string, payload: unknown) => ({ id, destination, payload, status: 'pending' as const, attempts: 0, nextAttemptAt: at, createdAt: at });
  const sorted = <T extends { id: string }>(rows: T[]) => [...rows].sort((x, y) => x.id.localeCompare(y.id)).map((row) => ({ ...row }));

  it('equals findRowsBy of the parent and of its children, NULLs, JSON and timestamps included; no child, no parent; one statement', async () => {
    await db.dataSource.getRepository(OutboxMessage).clear();
    await insertRow(db.dataSource, TransactionRecord, transaction('t-with'));
    await insertRow(db.dataSource, TransactionRecord, transaction('t-without'));
    await insertRow(db.dataSource, OutboxMessage, message('00000000-0000-4000-8000-00000000000a', 't-with', { n: 1 }));
    await insertRow(db.dataSource, OutboxMessage, message('00000000-0000-4000-8000-00000000000b', 't-with', [2, 'three']));
    await insertRow(db.dataSource, OutboxMessage, message('00000000-0000-4000-8000-00000000000c', 't-other', 'x'));
    const link = { parent: 'id', child: 'destination' } as const;

    const before = sqlStatementCount();
    const found = await findRowWithChildren(db.dataSource, TransactionRecord, { id: 't-with' }, OutboxMessage, link);
    expect(sqlStatementCount() - before).toBe(1);
    const [parent] = await findRowsBy(db.dataSource, TransactionRecord, { id: 't-with' });
    expect({ ...found?.row }).toEqual({ ...parent });
    expect(found?.row.createdAt).toBeInstanceOf(Date);
    expect(sorted(found?.children ?? [])).toEqual(sorted(await findRowsBy(db.dataSource, OutboxMessage, { destination: 't-with' })));
    expect(found?.children).toHaveLength(2);

    const alone = await findRowWithChildren(db.dataSource, TransactionRecord, { id: 't-without' }, OutboxMessage, link);
    expect(alone?.children).toEqual([]);
    expect(alone?.row).toMatchObject({ id: 't-without', deadline: null, errorCode: null });
    expect(await findRowWithChildren(db.dataSource, TransactionRecord, { id: 'none' }, OutboxMessage, link)).toBeUndefined();
  });
});
