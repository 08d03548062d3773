/**
 * Small driver-neutral SQL helpers for the few statements the query builder cannot express
 * portably (claims with SKIP LOCKED, INSERT-once).
 */
import { QueryFailedError, type QueryDeepPartialEntity, type DataSource, type EntityManager, type EntityTarget, type ObjectLiteral } from 'typeorm';
import type { DriverKind } from './columns';
import { driverKindOf } from './data-source';

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
