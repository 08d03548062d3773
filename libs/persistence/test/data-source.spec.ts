import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Entity, PrimaryColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import {
  BytesColumn,
  JsonColumn,
  openDataSource,
  parseDatabaseUrl,
  PersistenceError,
  redactUrl,
  TimestampColumn,
  dataSourceOptions,
  NATIVE_COLUMN_TYPES,
} from '@rsp/persistence';
import { describeEachDatabase } from './support';

@Entity({ name: 'test_sample' })
class Sample {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;
  @BytesColumn({ nullable: true })
  bytes!: Buffer | null;
  @TimestampColumn()
  at!: Date;
  @JsonColumn()
  doc!: unknown;
}

class SampleInit1767225600001 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    const kind = type === 'postgres' ? 'postgres' : 'sqlite';
    const table = kind === 'postgres' && schema ? `"${schema}"."test_sample"` : '"test_sample"';
    const json = kind === 'postgres' ? 'jsonb' : 'text';
    await queryRunner.query(
      `CREATE TABLE ${table} ("id" varchar(36) PRIMARY KEY, "bytes" ${String(NATIVE_COLUMN_TYPES.bytes[kind])},
        "at" ${String(NATIVE_COLUMN_TYPES.timestamp[kind])} NOT NULL, "doc" ${json} NOT NULL)`,
    );
  }
  async down(): Promise<void> {}
}

// Edge values: all 256 byte values, an empty buffer, NULs; instants with milliseconds, pre-1970, far future.
const bytesCases = [Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.alloc(0), Buffer.from([0, 0, 0xff])];
const instants = [new Date('2026-11-22T05:45:21.123Z'), new Date('1969-12-31T23:59:59.999Z'), new Date('2099-02-28T00:00:00.001Z')];
const doc = { eid: '89049032123451234512345678901235', nested: [1, 'two', { three: true }, null], unicode: 'é€' };

describeEachDatabase(
  'portable columns round-trip',
  (db) => {
    it('stores bytes, timestamps and JSON and reads back identical values', async () => {
      const repository = db.dataSource.getRepository(Sample);
      for (const [i, bytes] of bytesCases.entries()) {
        const at = instants[i]!;
        await repository.insert({ id: `s${i}`, bytes, at, doc: { ...doc, i } });
        const read = await repository.findOneByOrFail({ id: `s${i}` });
        expect(Buffer.isBuffer(read.bytes)).toBe(true);
        expect(read.bytes).toEqual(bytes);
        expect(read.at).toBeInstanceOf(Date);
        expect(read.at.toISOString()).toBe(at.toISOString());
        expect(read.doc).toEqual({ ...doc, i });
      }
      await repository.insert({ id: 'null-bytes', bytes: null, at: instants[0]!, doc: [] });
      expect((await repository.findOneByOrFail({ id: 'null-bytes' })).bytes).toBeNull();
    });

    it('resolves the native types for its own driver', () => {
      const columns = db.dataSource.getMetadata(Sample).columns;
      const type = (name: string) => columns.find((c) => c.propertyName === name)?.type;
      expect(type('bytes')).toBe(NATIVE_COLUMN_TYPES.bytes[db.kind]);
      expect(type('at')).toBe(NATIVE_COLUMN_TYPES.timestamp[db.kind]);
      expect(type('doc')).toBe(NATIVE_COLUMN_TYPES.json[db.kind]);
    });
  },
  { entities: [Sample], migrations: [SampleInit1767225600001] },
);

describe('database URL setting', () => {
  it('parses the supported forms', () => {
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ driver: 'sqlite', database: ':memory:' });
    expect(parseDatabaseUrl('sqlite:///var/lib/rsp/smsr.db')).toEqual({ driver: 'sqlite', database: '/var/lib/rsp/smsr.db' });
    expect(parseDatabaseUrl('postgres://u:p@db:5432/rsp').driver).toBe('postgres');
    expect(parseDatabaseUrl('postgresql://db/rsp').driver).toBe('postgres');
  });

  it.each([
    [undefined, /RSP_DATABASE_URL is not set/],
    ['', /RSP_DATABASE_URL is not set/],
    ['mysql://root:hunter2@db/rsp', /RSP_DATABASE_URL=mysql:\/\/root:\*\*\*@db\/rsp: unsupported scheme/],
    ['sqlite://relative.db', /absolute path/],
    ['postgres://admin:hunter2@db', /RSP_DATABASE_URL=postgres:\/\/admin:\*\*\*@db: a Postgres URL needs a host and a database name/],
    ['postgres://admin:hunter2@db:99999999/rsp', /RSP_DATABASE_URL=postgres:\/\/admin:\*\*\*@.* is not a valid URL/],
  ])('refuses %s with a typed error naming RSP_DATABASE_URL', (url, message) => {
    let caught: unknown;
    try {
      parseDatabaseUrl(url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PersistenceError.InvalidUrl);
    expect((caught as PersistenceError.InvalidUrl).code).toBe('ERR_PERSISTENCE_INVALID_URL');
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain('hunter2');
  });

  it('masks passwords', () => {
    expect(redactUrl('postgres://admin:s3cr%40t@db:5432/rsp')).toBe('postgres://admin:***@db:5432/rsp');
    expect(redactUrl('postgres://admin@db/rsp')).toBe('postgres://admin@db/rsp');
  });

  it('reports an unreachable Postgres as ERR_PERSISTENCE_UNREACHABLE without the password', async () => {
    const url = 'postgres://admin:hunter2@127.0.0.1:1/rsp';
    const failure = openDataSource({ url, entities: [] });
    await expect(failure).rejects.toBeInstanceOf(PersistenceError.Unreachable);
    await expect(failure).rejects.toThrow(/RSP_DATABASE_URL=postgres:\/\/admin:\*\*\*@127\.0\.0\.1:1\/rsp/);
    const error = (await failure.catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain('hunter2');
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('hunter2');
  });

  it('reports an SQLite file that cannot be created as ERR_PERSISTENCE_UNREACHABLE', async () => {
    // The parent "directory" is a regular file, so neither the directory nor the database can be created.
    const dir = mkdtempSync(join(tmpdir(), 'rsp-persistence-'));
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, '');
    try {
      const failure = openDataSource({ url: `sqlite://${file}/x.db`, entities: [] });
      await expect(failure).rejects.toBeInstanceOf(PersistenceError.Unreachable);
      await expect(failure).rejects.toThrow(/RSP_DATABASE_URL/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens an SQLite file in WAL mode with synchronous NORMAL, on a new file and on reopening it', async () => {
    // Durable across a crash of the process; better-sqlite3's build default, stated so no build changes it.
    const dir = mkdtempSync(join(tmpdir(), 'rsp-persistence-'));
    try {
      for (const round of ['new file', 'reopened']) {
        const ds = await openDataSource({ url: `sqlite://${join(dir, 'wal.db')}`, entities: [] });
        try {
          expect({ round, journal: await ds.query('PRAGMA journal_mode'), synchronous: await ds.query('PRAGMA synchronous') }).toEqual({
            round,
            journal: [{ journal_mode: 'wal' }],
            synchronous: [{ synchronous: 1 }],
          });
        } finally {
          await ds.destroy();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('queues concurrent transactions on SQLite (one connection) instead of failing the second BEGIN', async () => {
    const ds = await openDataSource({ url: 'sqlite::memory:', entities: [Sample], synchronize: true });
    try {
      const ids = Array.from({ length: 8 }, (_, i) => `t${i}`);
      await Promise.all(
        ids.map((id) =>
          ds.transaction(async (tx) => {
            await new Promise((resolve) => setTimeout(resolve, 2)); // hold the transaction open across a tick
            await tx.getRepository(Sample).insert({ id, bytes: Buffer.from([1]), at: instants[0]!, doc: {} });
          }),
        ),
      );
      expect(await ds.getRepository(Sample).count()).toBe(ids.length);
      await expect(ds.transaction(async () => Promise.reject(new Error('rolled back')))).rejects.toThrow('rolled back');
      await ds.transaction((tx) => tx.getRepository(Sample).insert({ id: 'after', bytes: Buffer.from([2]), at: instants[0]!, doc: {} }));
    } finally {
      await ds.destroy();
    }
  });

  it('allows synchronize only for SQLite outside production', async () => {
    const memory = { url: 'sqlite::memory:', entities: [Sample], synchronize: true };
    expect(() => dataSourceOptions({ ...memory, production: true })).toThrow(PersistenceError.InvalidOptions);
    expect(() => dataSourceOptions({ ...memory, url: 'postgres://db/rsp' })).toThrow(PersistenceError.InvalidOptions);
    expect(dataSourceOptions({ url: 'postgres://db/rsp', entities: [], production: true }).synchronize).toBe(false);
    const ds = await openDataSource(memory);
    try {
      await ds.getRepository(Sample).insert({ id: 'x', bytes: Buffer.from([1, 2]), at: instants[0]!, doc: { a: 1 } });
      expect((await ds.getRepository(Sample).findOneByOrFail({ id: 'x' })).bytes).toEqual(Buffer.from([1, 2]));
    } finally {
      await ds.destroy();
    }
  });
});
