/**
 * Small driver-neutral SQL helpers for the few statements the query builder cannot express
 * portably (claims with SKIP LOCKED, INSERT-once).
 */
import { QueryFailedError, type QueryDeepPartialEntity, type DataSource, type EntityManager, type EntityMetadata, type EntityTarget, type ObjectLiteral } from 'typeorm';
import type { DriverKind } from './columns';
import { driverKindOf } from './data-source';
import { runStatement, sourceOf } from './prepared';

/** Driver family of an open DataSource. */
export function driverOf(dataSource: DataSource): DriverKind {
  return driverKindOf(dataSource.options);
}

/** Escaped, schema-qualified table name of an entity (Postgres `"schema"."table"`, SQLite `"table"`). */
export function tableOf(dataSource: DataSource, entity: EntityTarget<ObjectLiteral>): string {
  const metadata = dataSource.getMetadata(entity);
  const escape = (name: string) => dataSource.driver.escape(name);
  return metadata.schema ? `${escape(metadata.schema)}.${escape(metadata.tableName)}` : escape(metadata.tableName);
}

/** Positional placeholder number `n` (1-based): `$n` on Postgres, `?` on SQLite (in order). */
export function placeholder(kind: DriverKind, n: number): string {
  return kind === 'postgres' ? `$${n}` : '?';
}

/** `value` as the driver stores it in `entity.property` (e.g. a Date to SQLite's UTC datetime text). */
export function toDbValue(
  manager: DataSource | EntityManager,
  entity: EntityTarget<ObjectLiteral>,
  property: string,
  value: unknown,
): unknown {
  const dataSource = 'manager' in manager && 'driver' in manager ? (manager as DataSource) : manager.connection;
  const column = dataSource.getMetadata(entity).findColumnWithPropertyName(property);
  if (!column) throw new Error(`no column ${property}`); // programming error in this lib, never user input
  return dataSource.driver.preparePersistentValue(value, column);
}

/** True when `error` is a primary key / unique constraint violation (Postgres 23505, SQLITE_CONSTRAINT_*). */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const code = (error.driverError as { code?: unknown } | undefined)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * Typed escape hatch for `insert`/`update` values: TypeORM's QueryDeepPartialEntity cannot express
 * JSON columns typed `unknown`; the entity classes document the real shapes.
 */
export function values<E extends ObjectLiteral>(partial: Partial<E>): QueryDeepPartialEntity<E> {
  return partial as QueryDeepPartialEntity<E>;
}

/** Like findBy, the columns not declared `select: false` (reads.ts too). */
export function selectedColumns<C extends { isSelect: boolean }>(columns: readonly C[]): C[] {
  return columns.filter((column) => column.isSelect);
}

export type ColumnMetadata = ReturnType<DataSource['getMetadata']>['columns'][number];

/** A raw row (the selected columns, by database name) as the entity's plain object, converted like findBy. */
export function hydrate<E extends ObjectLiteral>(dataSource: DataSource, selected: readonly ColumnMetadata[], row: Record<string, unknown>): E {
  const entityObject: Record<string, unknown> = {};
  for (const column of selected) {
    entityObject[column.propertyName] = dataSource.driver.prepareHydratedValue(row[column.databaseName], column);
  }
  return entityObject as E;
}

const writeSqlCache = new WeakMap<DataSource, Map<string, string>>();

/** A statement text built once per DataSource and `key` (the writes here, reads.ts's reads). */
export function cachedSql(dataSource: DataSource, key: string, build: () => string): string {
  let perSource = writeSqlCache.get(dataSource);
  if (!perSource) writeSqlCache.set(dataSource, (perSource = new Map()));
  let sql = perSource.get(key);
  if (sql === undefined) perSource.set(key, (sql = build()));
  return sql;
}

/** Column metadata and driver-ready values of the defined (non-undefined) properties of `partial`. */
function columnValues<E extends ObjectLiteral>(dataSource: DataSource, entity: EntityTarget<E>, partial: Partial<E>) {
  const metadata = dataSource.getMetadata(entity);
  const properties = Object.keys(partial).filter((property) => partial[property] !== undefined);
  return properties.map((property) => {
    const column = columnOf(metadata, property);
    return { property, column, value: dataSource.driver.preparePersistentValue(partial[property], column) as unknown };
  });
}

/** `whereIn`'s columns, each with its values as the driver stores them. */
function columnLists<E extends ObjectLiteral>(dataSource: DataSource, entity: EntityTarget<E>, whereIn: WhereIn<E>) {
  const metadata = dataSource.getMetadata(entity);
  return Object.keys(whereIn)
    .filter((property) => whereIn[property] !== undefined)
    .map((property) => {
      const column = columnOf(metadata, property);
      const values = (whereIn[property] as ReadonlyArray<unknown>).map((value) => (value == null ? null : dataSource.driver.preparePersistentValue(value, column)) as unknown);
      return { property, column, values };
    });
}

/** A property's column metadata (reads.ts too). */
export function columnOf(metadata: EntityMetadata, property: string) {
  const column = metadata.findColumnWithPropertyName(property);
  if (!column) throw new Error(`no column ${property}`); // programming error in the caller, never user input
  return column;
}

/**
 * Runs one built write and returns the affected row count, or its RETURNING rows (both drivers): in the
 * caller's transaction when `target` is its manager, prepared once per connection on PostgreSQL when its
 * text is fixed (prepared.ts). insertRows / upsertRows / updateRows and runWrites all run writes here.
 */
export async function runWriteStatement(target: DataSource | EntityManager, statement: WriteStatement): Promise<number> {
  return (await runStatement(target, statement.sql, [...statement.parameters], statement.prepare)).affected;
}

/**
 * `repository.insert(row)` without the query builder (same value conversion: the driver's
 * `preparePersistentValue`), for hot single-row inserts; in the caller's transaction when `target` is
 * its manager. A duplicate key throws the driver's QueryFailedError as insert does (see isUniqueViolation).
 */
export async function insertRow<E extends ObjectLiteral>(target: DataSource | EntityManager, entity: EntityTarget<E>, row: Partial<E>): Promise<void> {
  await insertRows(target, entity, [row]);
}

/**
 * Several rows of one entity in ONE `INSERT … VALUES (…), (…)` (every row must define the same
 * properties); nothing when `rows` is empty. Also without the query builder (and so without the
 * SELECT TypeORM sends after an insert to read back column defaults).
 */
export function insertRows<E extends ObjectLiteral>(target: DataSource | EntityManager, entity: EntityTarget<E>, rows: ReadonlyArray<Partial<E>>): Promise<void> {
  return writeRows(target, entity, rows, undefined);
}

/**
 * `INSERT … VALUES (…), (…) ON CONFLICT (conflict columns) DO UPDATE SET every other column = excluded.…`
 * in one statement (SQLite ≥ 3.24 and PostgreSQL): `repository.upsert` without the query builder. Rows
 * must define the same properties and not repeat a conflict key (PostgreSQL refuses to touch a row twice).
 */
export function upsertRows<E extends ObjectLiteral>(
  target: DataSource | EntityManager,
  entity: EntityTarget<E>,
  rows: ReadonlyArray<Partial<E>>,
  conflictProperties: ReadonlyArray<keyof E & string>,
): Promise<void> {
  return writeRows(target, entity, rows, conflictProperties);
}

/**
 * One write, built and not yet run: its text, its values and the table it changes. {@link runWrites}
 * (atomic-writes.ts) runs several of them as one atomic unit; the functions below run one at once.
 * The text numbers its placeholders from 1 (`$n` on PostgreSQL), and holds no other `$`.
 */
export interface WriteStatement {
  /** The table the statement changes (TypeORM's table path: schema-qualified, unescaped). */
  readonly table: string;
  readonly sql: string;
  readonly parameters: readonly unknown[];
  /** A fixed text built from metadata (prepared once per connection); false when it varies with a row count. */
  readonly prepare: boolean;
}

/** The one multi-row INSERT of insertRows / upsertRows; `conflict` adds the ON CONFLICT clause. */
async function writeRows<E extends ObjectLiteral>(
  target: DataSource | EntityManager,
  entity: EntityTarget<E>,
  rows: ReadonlyArray<Partial<E>>,
  conflict: ReadonlyArray<keyof E & string> | undefined,
): Promise<void> {
  if (rows.length === 0) return;
  await runWriteStatement(target, rowsStatement(sourceOf(target), entity, rows, conflict));
}

/** {@link insertRows} as a statement to run later (atomic-writes.ts); `rows` must not be empty. */
export function insertRowsStatement<E extends ObjectLiteral>(dataSource: DataSource, entity: EntityTarget<E>, rows: ReadonlyArray<Partial<E>>): WriteStatement {
  return rowsStatement(dataSource, entity, rows, undefined);
}

/** {@link upsertRows} as a statement to run later (atomic-writes.ts); `rows` must not be empty. */
export function upsertRowsStatement<E extends ObjectLiteral>(
  dataSource: DataSource,
  entity: EntityTarget<E>,
  rows: ReadonlyArray<Partial<E>>,
  conflictProperties: ReadonlyArray<keyof E & string>,
): WriteStatement {
  return rowsStatement(dataSource, entity, rows, conflictProperties);
}

function rowsStatement<E extends ObjectLiteral>(
  dataSource: DataSource,
  entity: EntityTarget<E>,
  rows: ReadonlyArray<Partial<E>>,
  conflict: ReadonlyArray<keyof E & string> | undefined,
): WriteStatement {
  const what = conflict ? 'upsertRows' : 'insertRows';
  if (rows.length === 0) throw new Error(`${what}: no rows`); // programming error in the caller
  const perRow = rows.map((row) => columnValues(dataSource, entity, row));
  const columns = perRow[0] ?? [];
  const properties = columns.map((c) => c.property).join('\u0000');
  if (perRow.some((values) => values.map((c) => c.property).join('\u0000') !== properties)) throw new Error(`${what}: rows with different properties`);
  const key = `${what}\u0000${dataSource.getMetadata(entity).name}\u0000${rows.length}\u0000${properties}\u0001${conflict?.join('\u0000') ?? ''}`;
  const sql = cachedSql(dataSource, key, () => {
    const kind = driverOf(dataSource);
    const escape = (name: string) => dataSource.driver.escape(name);
    const names = columns.map((c) => escape(c.column.databaseName)).join(', ');
    const tuples = rows.map((_, r) => `(${columns.map((__, i) => placeholder(kind, r * columns.length + i + 1)).join(', ')})`).join(', ');
    const insert = `INSERT INTO ${tableOf(dataSource, entity)} (${names}) VALUES ${tuples}`;
    if (!conflict) return insert;
    const keys = columns.filter((c) => conflict.includes(c.property as keyof E & string));
    if (keys.length !== conflict.length) throw new Error('upsertRows: every conflict property must be set');
    const updates = columns.filter((c) => !keys.includes(c)).map((c) => `${escape(c.column.databaseName)} = excluded.${escape(c.column.databaseName)}`);
    const action = updates.length > 0 ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING';
    return `${insert} ON CONFLICT (${keys.map((c) => escape(c.column.databaseName)).join(', ')}) ${action}`;
  });
  // One row: a fixed text, prepared; several: the text varies with their count, so it runs unnamed.
  return { table: dataSource.getMetadata(entity).tablePath, sql, parameters: perRow.flatMap((values) => values.map((c) => c.value)), prepare: rows.length === 1 };
}

/** Columns a row must hold one of the listed values in: `column IN (…)` (a fixed list, so a fixed text). */
export type WhereIn<E extends ObjectLiteral> = { [K in keyof E]?: ReadonlyArray<E[K]> };

/**
 * `repository.update(where, set)` by equality (and `In([...])` for `whereIn`'s columns) without the query
 * builder; returns the affected row count (what `UpdateResult.affected` says). Used on hot paths
 * (idempotency claims, state-machine steps, the SM-DP's held subscriptions).
 */
export async function updateRows<E extends ObjectLiteral>(
  target: DataSource | EntityManager,
  entity: EntityTarget<E>,
  where: Partial<E>,
  set: Partial<E>,
  whereIn: WhereIn<E> = {},
): Promise<number> {
  return runWriteStatement(target, updateRowsStatement(sourceOf(target), entity, where, set, whereIn));
}

/** {@link updateRows} as a statement to run later (atomic-writes.ts). */
export function updateRowsStatement<E extends ObjectLiteral>(
  dataSource: DataSource,
  entity: EntityTarget<E>,
  where: Partial<E>,
  set: Partial<E>,
  whereIn: WhereIn<E> = {},
): WriteStatement {
  const assignments = columnValues(dataSource, entity, set);
  const conditions = columnValues(dataSource, entity, where);
  const lists = columnLists(dataSource, entity, whereIn);
  // Programming errors of the caller: no SET / WHERE, a NULL in WHERE (`= NULL` never matches), an empty list.
  if (assignments.length === 0 || conditions.length + lists.length === 0) throw new Error('updateRows needs a SET and a WHERE');
  if (conditions.some((c) => c.value === null) || lists.some((list) => list.values.includes(null))) throw new Error('updateRows: NULL in WHERE');
  if (lists.some((list) => list.values.length === 0)) throw new Error('updateRows: an empty IN list');
  const sql = cachedSql(
    dataSource,
    `update\u0000${dataSource.getMetadata(entity).name}\u0000${assignments.map((c) => c.property).join('\u0000')}\u0001${conditions.map((c) => c.property).join('\u0000')}\u0002${lists.map((list) => `${list.property}:${list.values.length}`).join('\u0000')}`,
    () => {
      const kind = driverOf(dataSource);
      const escape = (name: string) => dataSource.driver.escape(name);
      const setSql = assignments.map((c, i) => `${escape(c.column.databaseName)} = ${placeholder(kind, i + 1)}`).join(', ');
      let n = assignments.length;
      const equalities = conditions.map((c) => `${escape(c.column.databaseName)} = ${placeholder(kind, (n += 1))}`);
      const memberships = lists.map((list) => `${escape(list.column.databaseName)} IN (${list.values.map(() => placeholder(kind, (n += 1))).join(', ')})`);
      return `UPDATE ${tableOf(dataSource, entity)} SET ${setSql} WHERE ${[...equalities, ...memberships].join(' AND ')}`;
    },
  );
  const parameters = [...assignments.map((c) => c.value), ...conditions.map((c) => c.value), ...lists.flatMap((list) => list.values)];
  return { table: dataSource.getMetadata(entity).tablePath, sql, parameters, prepare: true };
}

/**
 * Sets `set` on ONE row matching `where` (equality), the first by primary key, and returns it as
 * {@link findRowsBy} would; null when no row matches. A single statement that cannot lose to a
 * concurrent caller (a read-then-claim loop can, and did: 40 parallel ES2 downloads on Postgres):
 *
 * - Postgres: `UPDATE t SET … WHERE pk = (SELECT pk FROM t WHERE … ORDER BY pk LIMIT 1 FOR UPDATE SKIP
 *   LOCKED) AND … RETURNING …`. A row another caller holds is skipped, not waited for; one it has just taken
 *   fails the re-check under the lock and the next row is used.
 * - SQLite: the same without the lock clause; SQLite runs one writer at a time, so the sub-select and
 *   the update see the same rows (other processes wait on the busy timeout).
 *
 * `keyOrder: 'bytes'` orders by the key's bytes (`COLLATE "C"` on PostgreSQL; SQLite's default BINARY
 * already is): for a text key whose caller has an index ending in the key with that collation. Ordered
 * by the primary key as such, PostgreSQL's planner walks the primary key and filters, assuming the
 * matching rows are spread evenly, while a pool taken in key order has all of them after the taken ones
 * (4.6 ms a claim with 15 000 taken, docs/performance.md round eight); in byte order only the caller's
 * index serves the ORDER BY, and its first entry is the row.
 */
export async function claimFirstRow<E extends ObjectLiteral>(
  dataSource: DataSource,
  entity: EntityTarget<E>,
  where: Partial<E>,
  set: Partial<E>,
  options: { keyOrder?: 'bytes' } = {},
): Promise<E | null> {
  const metadata = dataSource.getMetadata(entity);
  const [key, ...more] = metadata.primaryColumns;
  const assignments = columnValues(dataSource, entity, set);
  const conditions = columnValues(dataSource, entity, where);
  // Programming errors of the caller, never user input.
  if (!key || more.length > 0) throw new Error(`claimFirstRow needs a single-column primary key (${metadata.name})`);
  if (assignments.length === 0 || conditions.length === 0) throw new Error('claimFirstRow needs a SET and a WHERE');
  if (conditions.some((c) => c.value === null)) throw new Error('claimFirstRow: NULL in WHERE');
  const sql = cachedSql(
    dataSource,
    `claim\u0000${metadata.name}\u0000${assignments.map((c) => c.property).join('\u0000')}\u0001${conditions.map((c) => c.property).join('\u0000')}\u0002${options.keyOrder ?? ''}`,
    () => {
      const kind = driverOf(dataSource);
      const escape = (name: string) => dataSource.driver.escape(name);
      const table = tableOf(dataSource, entity);
      const pk = escape(key.databaseName);
      const setSql = assignments.map((c, i) => `${escape(c.column.databaseName)} = ${placeholder(kind, i + 1)}`).join(', ');
      const whereSql = (first: number) => conditions.map((c, i) => `${escape(c.column.databaseName)} = ${placeholder(kind, first + i)}`).join(' AND ');
      const lock = kind === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
      const order = options.keyOrder === 'bytes' && kind === 'postgres' ? `${pk} COLLATE "C"` : pk;
      const returning = selectedColumns(metadata.columns).map((column) => escape(column.databaseName)).join(', ');
      // The outer WHERE repeats the conditions: redundant under the lock, but the row is never taken twice.
      const pick = `SELECT ${pk} FROM ${table} WHERE ${whereSql(assignments.length + 1)} ORDER BY ${order} LIMIT 1${lock}`;
      return `UPDATE ${table} SET ${setSql} WHERE ${pk} = (${pick}) AND ${whereSql(assignments.length + conditions.length + 1)} RETURNING ${returning}`;
    },
  );
  const whereValues = conditions.map((c) => c.value);
  const [row] = (await runStatement(dataSource, sql, [...assignments.map((c) => c.value), ...whereValues, ...whereValues])).rows;
  return row ? hydrate<E>(dataSource, selectedColumns(metadata.columns), row) : null;
}
