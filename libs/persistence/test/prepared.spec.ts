/**
 * runStatement, the hot paths' one statement: prepared once per connection on PostgreSQL (a named
 * statement the server parses and plans once), TypeORM's cached statement on SQLite; the same rows,
 * counts, errors and transactions on both drivers.
 */
import { expect, it } from '@jest/globals';
import { QueryFailedError, type EntityManager } from 'typeorm';
import {
  IdempotencyRecord,
  findRowsBy,
  insertRow,
  isUniqueViolation,
  openDataSource,
  persistenceEntities,
  persistenceMigrations,
  runStatement,
  sqlStatementCount,
  tableOf,
  updateRows,
} from '@rsp/persistence';
import { describeEachDatabase } from './support';

describeEachDatabase('runStatement', (db) => {
  const created = new Date('2026-05-01T00:00:00.000Z');
  const record = (callId: string): IdempotencyRecord => ({
    requester: 'ES3/prepared',
    functionCallIdentifier: callId,
    requestFingerprint: null,
    status: 'in-progress',
    response: null,
    errorCode: null,
    createdAt: created,
    expiresAt: new Date(created.getTime() + 1000),
  });
  const p = (n: number) => (db.kind === 'postgres' ? `$${n}` : '?');
  const select = () => `SELECT "function_call_identifier" AS id, "status" FROM ${tableOf(db.dataSource, IdempotencyRecord)} WHERE "requester" = ${p(1)} ORDER BY 1`;
  const unnamed = () => `${select()} -- unnamed`;
  /** Which of the two texts the connection `run` used has prepared (pg_prepared_statements is per session). */
  const preparedOnOneConnection = async (run: (tx: EntityManager) => Promise<void>): Promise<string[]> =>
    db.dataSource.transaction(async (tx) => {
      await run(tx);
      const rows = (await tx.query('SELECT statement FROM pg_prepared_statements WHERE statement IN ($1, $2)', [select(), unnamed()])) as Array<{ statement: string }>;
      return rows.map((row) => row.statement);
    });

  it('gives the rows and affected counts TypeORM gives, one counted statement per call', async () => {
    await db.dataSource.getRepository(IdempotencyRecord).delete({ requester: 'ES3/prepared' });
    await insertRow(db.dataSource, IdempotencyRecord, record('a'));
    await insertRow(db.dataSource, IdempotencyRecord, record('b'));
    const before = sqlStatementCount();
    expect((await runStatement(db.dataSource, select(), ['ES3/prepared'])).rows).toEqual([
      { id: 'a', status: 'in-progress' },
      { id: 'b', status: 'in-progress' },
    ]);
    expect(await updateRows(db.dataSource, IdempotencyRecord, { requester: 'ES3/prepared' }, { status: 'succeeded' })).toBe(2);
    expect(await updateRows(db.dataSource, IdempotencyRecord, { requester: 'nobody' }, { status: 'succeeded' })).toBe(0);
    expect(sqlStatementCount() - before).toBe(3);
    expect((await findRowsBy(db.dataSource, IdempotencyRecord, { requester: 'ES3/prepared', functionCallIdentifier: 'b' })).map((row) => row.status)).toEqual(['succeeded']);
  });

  it('throws a duplicate key as TypeORM does (QueryFailedError carrying the driver code), and the connection goes on', async () => {
    await db.dataSource.getRepository(IdempotencyRecord).delete({ requester: 'ES3/prepared' });
    await insertRow(db.dataSource, IdempotencyRecord, record('dup'));
    const error = await insertRow(db.dataSource, IdempotencyRecord, record('dup')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueryFailedError);
    expect(isUniqueViolation(error)).toBe(true);
    // Inside a transaction: the failure aborts it, nothing of it stays; the pool's connections still work.
    await expect(
      db.dataSource.transaction(async (tx) => {
        await insertRow(tx, IdempotencyRecord, record('in-tx'));
        await insertRow(tx, IdempotencyRecord, record('dup'));
      }),
    ).rejects.toBeInstanceOf(QueryFailedError);
    const ids = (await runStatement(db.dataSource, select(), ['ES3/prepared'])).rows.map((row) => row.id);
    expect(ids).toEqual(['dup']);
  });

  it('runs in the caller’s transaction: a rollback takes its writes away', async () => {
    await db.dataSource.getRepository(IdempotencyRecord).delete({ requester: 'ES3/prepared' });
    await expect(
      db.dataSource.transaction(async (tx) => {
        await insertRow(tx, IdempotencyRecord, record('rolled-back'));
        expect((await runStatement(tx, select(), ['ES3/prepared'])).rows).toHaveLength(1); // seen inside
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await runStatement(db.dataSource, select(), ['ES3/prepared'])).rows).toEqual([]);
  });

  // SQLite has no such view: TypeORM's better-sqlite3 runner keeps the prepared statement itself.
  if (db.kind === 'postgres') {
    it('is a named statement the server parses once per connection; `prepare: false` stays unnamed', async () => {
      const statements = await preparedOnOneConnection(async (tx) => {
        for (let i = 0; i < 3; i += 1) await runStatement(tx, select(), ['ES3/prepared']);
        await runStatement(tx, unnamed(), ['ES3/prepared'], false);
      });
      expect(statements).toEqual([select()]); // once, though run three times; the unnamed one not at all
    });

    it('sends everything unnamed from a DataSource opened with preparedStatements: false (RSP_DATABASE_PREPARED_STATEMENTS=0)', async () => {
      const unpreparedSource = await openDataSource({ url: db.url, ...(db.schema ? { schema: db.schema } : {}), entities: persistenceEntities, migrations: persistenceMigrations, preparedStatements: false });
      try {
        const texts = await unpreparedSource.transaction(async (tx) => {
          for (let i = 0; i < 3; i += 1) await runStatement(tx, select(), ['ES3/prepared']);
          await insertRow(tx, IdempotencyRecord, record('unprepared'));
          return (await tx.query('SELECT statement FROM pg_prepared_statements')) as Array<{ statement: string }>;
        });
        expect(texts).toEqual([]);
        expect((await runStatement(unpreparedSource, select(), ['ES3/prepared'])).rows.map((row) => row.id)).toContain('unprepared');
      } finally {
        await unpreparedSource.destroy();
      }
    });
  }
});
