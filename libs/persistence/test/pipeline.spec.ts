/**
 * The statement pipeline (pipeline.ts): on PostgreSQL, runStatement outside a transaction shares one
 * pipelined connection per DataSource. Each statement still gets its own answer, fails alone, and
 * commits alone; transactions keep their own connection; a broken connection is replaced; destroy()
 * ends it; a DataSource behind a pooler (preparedStatements: false) has none.
 */
import { expect, it } from '@jest/globals';
import { QueryFailedError, type DataSource } from 'typeorm';
import { IdempotencyRecord, insertRow, isUniqueViolation, openDataSource, persistenceEntities, persistenceMigrations, runStatement } from '@rsp/persistence';
import { describeEachDatabase } from './support';

describeEachDatabase('the statement pipeline', (db) => {
  const p = (n: number, type = 'int') => (db.kind === 'postgres' ? `$${n}::${type}` : '?');

  it('gives each of 200 concurrent statements its own answer, in any order of arrival', async () => {
    const answers = await Promise.all(Array.from({ length: 200 }, (_, n) => runStatement(db.dataSource, `SELECT ${p(1)} AS n`, [n])));
    expect(answers.map((answer) => Number(answer.rows[0]?.n))).toEqual(Array.from({ length: 200 }, (_, n) => n));
  });

  if (db.kind !== 'postgres') return;

  const backendOf = async (target: Parameters<typeof runStatement>[0]): Promise<number> => Number((await runStatement(target, 'SELECT pg_backend_pid() AS pid', [])).rows[0]?.pid);
  const alive = async (pid: number): Promise<boolean> =>
    Number(((await db.dataSource.query('SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1', [pid])) as Array<{ n: string }>)[0]?.n) > 0;
  const until = async (check: () => Promise<boolean>): Promise<boolean> => {
    for (let i = 0; i < 50; i += 1) {
      if (await check()) return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  };
  const openPrepared = (preparedStatements: boolean): Promise<DataSource> =>
    openDataSource({ url: db.url, ...(db.schema ? { schema: db.schema } : {}), entities: persistenceEntities, migrations: persistenceMigrations, preparedStatements });

  it('runs every statement outside a transaction on one backend, and a transaction’s on its own connection', async () => {
    // pg_sleep keeps each statement busy, so a pool would have spread them over several connections.
    const pids = await Promise.all(Array.from({ length: 20 }, () => runStatement(db.dataSource, 'SELECT pg_backend_pid() AS pid, pg_sleep(0.01)', [])));
    expect(new Set(pids.map((result) => Number(result.rows[0]?.pid))).size).toBe(1);
    const pipelined = await backendOf(db.dataSource);
    const inTransaction = await db.dataSource.transaction((tx) => backendOf(tx));
    expect(inTransaction).not.toBe(pipelined);
  });

  it('fails a bad statement alone: the statements sent before and after it are answered', async () => {
    const [before, bad, after] = await Promise.allSettled([
      runStatement(db.dataSource, 'SELECT $1::int AS n', [1]),
      runStatement(db.dataSource, 'SELECT 1 / $1::int AS n', [0]),
      runStatement(db.dataSource, 'SELECT $1::int AS n', [3]),
    ]);
    expect(before).toMatchObject({ status: 'fulfilled', value: { rows: [{ n: 1 }] } });
    expect(bad).toMatchObject({ status: 'rejected', reason: expect.any(QueryFailedError) });
    expect((bad as PromiseRejectedResult).reason).toMatchObject({ driverError: { code: '22012' } }); // division_by_zero
    expect(after).toMatchObject({ status: 'fulfilled', value: { rows: [{ n: 3 }] } });
  });

  it('commits each statement on its own: of two concurrent inserts of one key, one is kept and the other is a unique violation', async () => {
    const row: IdempotencyRecord = {
      requester: 'ES3/pipeline',
      functionCallIdentifier: 'twice',
      requestFingerprint: null,
      status: 'in-progress',
      response: null,
      errorCode: null,
      createdAt: new Date('2026-06-01T00:00:00.000Z'),
      expiresAt: new Date('2026-06-01T00:01:00.000Z'),
    };
    await db.dataSource.getRepository(IdempotencyRecord).delete({ requester: row.requester });
    const outcomes = await Promise.allSettled([insertRow(db.dataSource, IdempotencyRecord, row), insertRow(db.dataSource, IdempotencyRecord, row)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected']);
    expect(isUniqueViolation((outcomes[1] as PromiseRejectedResult).reason)).toBe(true);
    // Read through the pool: the first insert was committed by its own Sync.
    expect(await db.dataSource.getRepository(IdempotencyRecord).countBy({ requester: row.requester })).toBe(1);
  });

  it('replaces a connection the server ended: the statements after it run on a new backend', async () => {
    const first = await backendOf(db.dataSource);
    await db.dataSource.query('SELECT pg_terminate_backend($1)', [first]);
    expect(await until(async () => !(await alive(first)))).toBe(true);
    // The client learns of the end from its socket: at most one statement may still meet the old connection.
    let failures = 0;
    let next: number | undefined;
    for (let attempt = 0; attempt < 3 && next === undefined; attempt += 1) {
      next = await backendOf(db.dataSource).catch(() => {
        failures += 1;
        return undefined;
      });
    }
    expect(failures).toBeLessThanOrEqual(1);
    expect(next).toEqual(expect.any(Number));
    expect(next).not.toBe(first);
  });

  it('sends nothing more on a backend whose session ended under a statement: the next one, sent at once, runs on a new backend', async () => {
    const first = await backendOf(db.dataSource);
    const sleeping = runStatement(db.dataSource, 'SELECT pg_sleep(5)', []).catch((error: unknown) => error);
    expect(await until(async () => Number((await db.dataSource.query("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [first]))[0].n) > 0)).toBe(true);
    await db.dataSource.query('SELECT pg_terminate_backend($1)', [first]);
    const error = await sleeping;
    // 57P01 admin_shutdown, severity FATAL: pg hands it to the statement before it sees the socket close.
    expect(error).toMatchObject({ driverError: { code: '57P01', severity: 'FATAL' } });
    const next = await backendOf(db.dataSource);
    expect(next).not.toBe(first);
  });

  it('is ended by destroy(), after which a statement is refused', async () => {
    const dataSource = await openPrepared(true);
    const pid = await backendOf(dataSource);
    await dataSource.destroy();
    expect(await until(async () => !(await alive(pid)))).toBe(true);
    await expect(backendOf(dataSource)).rejects.toThrow();
  });

  it('is not opened behind a pooler (preparedStatements: false): the pool spreads concurrent statements', async () => {
    const dataSource = await openPrepared(false);
    try {
      const pids = await Promise.all(Array.from({ length: 20 }, () => runStatement(dataSource, 'SELECT pg_backend_pid() AS pid, pg_sleep(0.02)', [])));
      expect(new Set(pids.map((result) => Number(result.rows[0]?.pid))).size).toBeGreaterThan(1);
    } finally {
      await dataSource.destroy();
    }
  });
});
