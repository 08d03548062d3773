/**
 * DataSource options from one URL setting (`RSP_DATABASE_URL`): SQLite (better-sqlite3) or PostgreSQL (pg).
 *
 * Schema policy: tables are created by migrations on both drivers (see `persistenceMigrations`), so a
 * production SQLite file is migrated exactly like Postgres. `synchronize` is only ever allowed for
 * SQLite outside production (quick tests with entities that have no migration yet); it is refused
 * in production and on Postgres.
 */
import { DataSource, type DataSourceOptions } from 'typeorm';
import { setDefaultDriver, withDriver, type DriverKind } from './columns';
import { PersistenceError } from './errors';
import { statementCountingLogger } from './statement-count';
import { attachStatementPipeline } from './pipeline';

/** The configuration setting that names the database; quoted in every error message. */
export const DATABASE_URL_SETTING = 'RSP_DATABASE_URL';

/** SQLite busy timeout (ms): how long a writer waits for another process's lock before SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

type Entities = NonNullable<DataSourceOptions['entities']>;
type Migrations = NonNullable<DataSourceOptions['migrations']>;

/** Settings accepted by {@link dataSourceOptions}. */
export interface PersistenceSettings {
  /** `sqlite:///abs/path.db`, `sqlite::memory:` or `postgres://user:pass@host:port/db`. */
  readonly url: string | undefined;
  /** Entity classes (add `persistenceEntities` for the generic tables). */
  readonly entities: Entities;
  /** Migration classes (add `persistenceMigrations`); run on open. */
  readonly migrations?: Migrations;
  /** Production mode: never synchronize. Default false. */
  readonly production?: boolean;
  /** Postgres schema to use (default `public`); tests use a fresh one per file. */
  readonly schema?: string;
  /** Let TypeORM create tables from entities: SQLite outside production only. Default false. */
  readonly synchronize?: boolean;
  /** Run pending migrations when the DataSource is initialised. Default true. */
  readonly migrationsRun?: boolean;
  /**
   * PostgreSQL: run the hot paths' statements as named prepared statements (prepared.ts). Default true;
   * false behind a pooler that hands each transaction another server connection and cannot keep them
   * (PgBouncer in transaction mode before 1.21 or with `max_prepared_statements = 0`).
   */
  readonly preparedStatements?: boolean;
}

/**
 * Options made with `preparedStatements: false`: runStatement sends their statements unnamed. Kept by the
 * options object's identity (TypeORM's DataSource keeps the object it is given): pass the object on as
 * is, since a copy (`{ ...options }`) would prepare again.
 */
const UNPREPARED = new WeakSet<DataSourceOptions>();

/** Whether a DataSource made from these options runs its hot statements prepared (PostgreSQL). */
export function preparesStatements(options: DataSourceOptions): boolean {
  return !UNPREPARED.has(options);
}

/** A parsed database URL. */
export type ParsedDatabaseUrl =
  | { readonly driver: 'sqlite'; readonly database: string }
  | { readonly driver: 'postgres'; readonly url: string };

/** `url` with any password replaced by `***`, safe for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // Unparsable: mask whatever sits between "user:" and "@" by pattern.
    return url.replace(/(\/\/[^/:@]*:)[^@/]*@/, '$1***@');
  }
}

/** Parses `RSP_DATABASE_URL`; throws {@link PersistenceError.InvalidUrl} (password masked) when unusable. */
export function parseDatabaseUrl(url: string | undefined): ParsedDatabaseUrl {
  if (!url) throw new PersistenceError.InvalidUrl(`${DATABASE_URL_SETTING} is not set`);
  if (url === 'sqlite::memory:') return { driver: 'sqlite', database: ':memory:' };
  if (url.startsWith('sqlite://')) {
    const path = decodeURIComponent(url.slice('sqlite://'.length));
    if (!path.startsWith('/') || path.length < 2) {
      throw new PersistenceError.InvalidUrl(
        `${DATABASE_URL_SETTING}=${redactUrl(url)}: a SQLite URL needs an absolute path (sqlite:///abs/path.db) or sqlite::memory:`,
      );
    }
    return { driver: 'sqlite', database: path };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (cause) {
      throw new PersistenceError.InvalidUrl(`${DATABASE_URL_SETTING}=${redactUrl(url)} is not a valid URL`, { cause });
    }
    if (!parsed.hostname || parsed.pathname.length < 2) {
      throw new PersistenceError.InvalidUrl(
        `${DATABASE_URL_SETTING}=${redactUrl(url)}: a Postgres URL needs a host and a database name`,
      );
    }
    return { driver: 'postgres', url };
  }
  throw new PersistenceError.InvalidUrl(
    `${DATABASE_URL_SETTING}=${redactUrl(url)}: unsupported scheme (use sqlite:///abs/path.db, sqlite::memory: or postgres://…)`,
  );
}

/**
 * TypeORM DataSource options for `settings.url`. Also makes that driver the process default for the
 * portable columns (see `columns.ts`), so the result can be handed to `@nestjs/typeorm` as is.
 */
export function dataSourceOptions(settings: PersistenceSettings): DataSourceOptions {
  const target = parseDatabaseUrl(settings.url);
  const production = settings.production ?? false;
  const synchronize = settings.synchronize ?? false;
  if (synchronize && (production || target.driver === 'postgres')) {
    throw new PersistenceError.InvalidOptions(
      `synchronize is only allowed for SQLite outside production (${DATABASE_URL_SETTING}=${redactUrl(settings.url ?? '')}); use migrations`,
    );
  }
  setDefaultDriver(target.driver);
  const common = {
    entities: settings.entities,
    migrations: settings.migrations ?? [],
    migrationsRun: settings.migrationsRun ?? true,
    synchronize,
    // Nothing is printed: the logger only counts statements (statement-count.ts).
    logging: true,
    logger: statementCountingLogger,
  } as const;
  if (target.driver === 'sqlite') {
    const inMemory = target.database === ':memory:';
    return {
      ...common,
      type: 'better-sqlite3',
      database: target.database,
      enableWAL: !inMemory, // readers never block the single writer (WAL is meaningless in memory)
      timeout: SQLITE_BUSY_TIMEOUT_MS,
      prepareDatabase: (db: { pragma(source: string): unknown }) => {
        db.pragma('foreign_keys = ON');
        db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
        // WAL with synchronous NORMAL: a commit is durable across a crash of the process (kill -9), and
        // the file never corrupts; a power loss or OS crash may roll back the last commits (sqlite.org,
        // PRAGMA synchronous). better-sqlite3 builds with that default; said here so no build changes it.
        if (!inMemory) db.pragma('synchronous = NORMAL');
      },
    };
  }
  const options: DataSourceOptions = {
    ...common,
    type: 'postgres',
    url: target.url,
    ...(settings.schema ? { schema: settings.schema } : {}),
    connectTimeoutMS: 5000,
  };
  if (settings.preparedStatements === false) UNPREPARED.add(options);
  return options;
}

/** The portable-column driver of a DataSource's options. */
export function driverKindOf(options: DataSourceOptions): DriverKind {
  if (options.type === 'better-sqlite3') return 'sqlite';
  if (options.type === 'postgres') return 'postgres';
  throw new PersistenceError.InvalidOptions(`unsupported TypeORM driver type ${options.type}`);
}

/**
 * Creates and initialises a DataSource from options (runs pending migrations), resolving the portable
 * columns for its own driver. Usable as `@nestjs/typeorm`'s `dataSourceFactory`. Connection failures
 * become {@link PersistenceError.Unreachable} naming RSP_DATABASE_URL with the password masked.
 */
export async function initializeDataSource(options: DataSourceOptions): Promise<DataSource> {
  const kind = driverKindOf(options);
  const dataSource = new DataSource(options);
  try {
    await withDriver(kind, () => dataSource.initialize());
  } catch (cause) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    const where = 'url' in options && options.url ? options.url : String((options as { database?: unknown }).database);
    const reason = cause instanceof Error ? cause.message.split(where).join(redactUrl(where)) : String(cause);
    throw new PersistenceError.Unreachable(
      `cannot open the database ${DATABASE_URL_SETTING}=${redactUrl(where)}: ${reason}`,
      { cause },
    );
  }
  if (kind === 'sqlite') serialiseTransactions(dataSource);
  else if (preparesStatements(options)) attachStatementPipeline(dataSource); // not behind a pooler (pipeline.ts)
  return dataSource;
}

/**
 * better-sqlite3 gives TypeORM ONE connection: two `transaction()` calls in flight at once (two ES3
 * requests for different cards) both send BEGIN on it, and the second fails with "cannot start a
 * transaction within a transaction". SQLite has a single writer anyway, so transactions are queued here,
 * one after the other. Work inside a transaction must not open another through the DataSource (use the
 * EntityManager it receives), or it would wait for itself.
 */
function serialiseTransactions(dataSource: DataSource): void {
  type Transaction = (...args: unknown[]) => Promise<unknown>;
  const original = dataSource.transaction.bind(dataSource) as Transaction;
  let tail: Promise<unknown> = Promise.resolve();
  const queued: Transaction = (...args) => {
    const run = tail.then(() => original(...args));
    tail = run.catch(() => undefined);
    return run;
  };
  (dataSource as unknown as { transaction: Transaction }).transaction = queued;
}

/** `dataSourceOptions(settings)` then {@link initializeDataSource}: an open, migrated DataSource. */
export function openDataSource(settings: PersistenceSettings): Promise<DataSource> {
  return initializeDataSource(dataSourceOptions(settings));
}
