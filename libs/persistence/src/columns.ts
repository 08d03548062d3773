/**
 * Portable column decorators: bytes, timestamps and JSON get the native type of the database driver.
 *
 * Why a lazy type: TypeORM column decorators run once, at import time, before any DataSource exists,
 * yet the right type differs per driver (SQLite `blob` / `datetime` / text JSON versus Postgres
 * `bytea` / `timestamptz` / `jsonb`), and neither driver accepts the other's names. TypeORM keeps
 * the very options object a decorator registers and reads `options.type` only when a DataSource
 * builds its entity metadata (inside `DataSource.initialize()`). So these decorators register a
 * `type` *getter* that answers for the driver currently building:
 *
 * 1. the driver bound with {@link withDriver} for the async call chain (used by `openDataSource` /
 *    `initializeDataSource`, so a SQLite and a Postgres DataSource can initialise concurrently), else
 * 2. the process default set by the last `dataSourceOptions()` call (one database per service
 *    process, e.g. a NestJS `TypeOrmModule.forRootAsync({ useFactory: () => dataSourceOptions(...) })`).
 *
 * Without either, SQLite types are assumed; a Postgres DataSource then fails loudly at initialise
 * (`blob`/`datetime` are unsupported there), never silently.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Column, type ColumnOptions, type ColumnType } from 'typeorm';

/** The database families this lib supports. */
export type DriverKind = 'sqlite' | 'postgres';

const building = new AsyncLocalStorage<DriverKind>();
let processDefault: DriverKind | undefined;

let initialising = 0;

/**
 * Runs `fn` (e.g. `dataSource.initialize()`) with `kind` as the driver the portable columns resolve to.
 * The storage is disabled again once no initialisation is running: an enabled AsyncLocalStorage keeps
 * Node's promise hooks on for the whole process, a cost on every promise of the hot paths (about 1 ms per
 * provisioning in the bench's profile).
 */
export async function withDriver<T>(kind: DriverKind, fn: () => Promise<T>): Promise<T> {
  initialising += 1;
  try {
    return await building.run(kind, fn);
  } finally {
    initialising -= 1;
    if (initialising === 0) building.disable();
  }
}

/** Sets the process-wide fallback driver (done by `dataSourceOptions()`). */
export function setDefaultDriver(kind: DriverKind): void {
  processDefault = kind;
}

/** The driver portable columns resolve to right now. */
export function currentDriver(): DriverKind {
  return building.getStore() ?? processDefault ?? 'sqlite';
}

/** Native column type per logical kind and driver. SQLite stores JSON as text (simple-json). */
export const NATIVE_COLUMN_TYPES: Readonly<Record<'bytes' | 'timestamp' | 'json', Record<DriverKind, ColumnType>>> = {
  bytes: { sqlite: 'blob', postgres: 'bytea' },
  // SQLite: TypeORM writes UTC 'YYYY-MM-DD HH:MM:SS.SSS' (sorts lexically); Postgres: absolute instant.
  timestamp: { sqlite: 'datetime', postgres: 'timestamptz' },
  json: { sqlite: 'simple-json', postgres: 'jsonb' },
};

/** Column options a portable decorator accepts (everything but the type, which it chooses). */
export type PortableColumnOptions = Omit<ColumnOptions, 'type'>;

function portableColumn(kind: keyof typeof NATIVE_COLUMN_TYPES, options: PortableColumnOptions): PropertyDecorator {
  const registered = { ...options } as ColumnOptions;
  Object.defineProperty(registered, 'type', {
    enumerable: true,
    get: () => NATIVE_COLUMN_TYPES[kind][currentDriver()],
  });
  return Column(registered) as PropertyDecorator;
}

/** Binary column holding a `Buffer`: SQLite `blob`, Postgres `bytea`. */
export function BytesColumn(options: PortableColumnOptions = {}): PropertyDecorator {
  return portableColumn('bytes', options);
}

/** Instant column holding a `Date` (millisecond precision on both): SQLite `datetime` (UTC), Postgres `timestamptz`. */
export function TimestampColumn(options: PortableColumnOptions = {}): PropertyDecorator {
  return portableColumn('timestamp', options);
}

/** JSON column holding any JSON value: SQLite text via simple-json, Postgres `jsonb`. */
export function JsonColumn(options: PortableColumnOptions = {}): PropertyDecorator {
  return portableColumn('json', options);
}
