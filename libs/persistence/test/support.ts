/**
 * Runs a suite on both drivers: SQLite (a fresh temp file, migrated) and real PostgreSQL (a fresh
 * schema per suite, dropped afterwards, so parallel test files never collide).
 */
import { afterAll, beforeAll, describe } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource, DataSourceOptions } from 'typeorm';
import { openDataSource, persistenceEntities, persistenceMigrations, traceSqlStatements, type DriverKind } from '@rsp/persistence';
import { realService } from '../../../test/support/real-services';
import { runAdminSql } from '../src';

export const database = await realService('database');

/** A handle filled in `beforeAll`. */
export interface TestDatabase {
  kind: DriverKind;
  dataSource: DataSource;
  /** RSP_DATABASE_URL of this database, and its Postgres schema (for child processes). */
  url: string;
  schema?: string;
  /** Opens one more DataSource on the same database (another "process"). */
  openAnother(): Promise<DataSource>;
}

type Extra = { entities?: NonNullable<DataSourceOptions['entities']>; migrations?: NonNullable<DataSourceOptions['migrations']> };

/** `body` runs once per driver; Postgres is skipped only outside CI when no server is reachable. */
export function describeEachDatabase(title: string, body: (db: TestDatabase) => void, extra: Extra = {}): void {
  const entities = [...persistenceEntities, ...((extra.entities as unknown[]) ?? [])] as NonNullable<DataSourceOptions['entities']>;
  const migrations = [...persistenceMigrations, ...((extra.migrations as unknown[]) ?? [])] as NonNullable<DataSourceOptions['migrations']>;

  describe(`${title} [sqlite]`, () => {
    const db = { kind: 'sqlite' } as TestDatabase;
    const opened: DataSource[] = [];
    let dir = '';
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'rsp-persistence-'));
      const url = `sqlite://${join(dir, 'test.db')}`;
      db.url = url;
      db.openAnother = async () => {
        const ds = await openDataSource({ url, entities, migrations });
        opened.push(ds);
        return ds;
      };
      db.dataSource = await db.openAnother();
    });
    afterAll(async () => {
      for (const ds of opened) await ds.destroy();
      rmSync(dir, { recursive: true, force: true });
    });
    body(db);
  });

  (database.url ? describe : describe.skip)(`${title} [postgres]`, () => {
    const db = { kind: 'postgres' } as TestDatabase;
    const opened: DataSource[] = [];
    const schema = `rsp_test_${randomBytes(6).toString('hex')}`;
    const admin = (sql: string) => runAdminSql(database.url as string, sql);
    beforeAll(async () => {
      await admin(`CREATE SCHEMA "${schema}"`);
      db.url = database.url!;
      db.schema = schema;
      db.openAnother = async () => {
        const ds = await openDataSource({ url: database.url, schema, entities, migrations });
        opened.push(ds);
        return ds;
      };
      db.dataSource = await db.openAnother();
    });
    afterAll(async () => {
      for (const ds of opened) await ds.destroy();
      await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    });
    body(db);
  });
}

/** A promise with its resolver outside, to hold a computation open. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Statements `work` sends, by first word (BEGIN / WITH / INSERT / UPDATE / COMMIT …; PostgreSQL's START TRANSACTION as BEGIN). */
export async function statementsSent(work: () => Promise<unknown>): Promise<string[]> {
  const stop = traceSqlStatements();
  const texts = await work().then(stop, (error: unknown) => {
    stop();
    throw error;
  });
  return texts.map((text) => text.trim().split(/\s+/)[0]?.toUpperCase().replace('START', 'BEGIN') ?? '');
}
