/**
 * Reads without the query builder, hydrated as `findBy` hydrates: one table by equality (findRowsBy), or
 * a parent row with its children in one statement (findRowWithChildren). Their SQL is built once per
 * DataSource and shape.
 */
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { runStatement } from './prepared';
import { cachedSql, columnOf, driverOf, hydrate, placeholder, selectedColumns, tableOf, type ColumnMetadata } from './sql';

/**
 * `repository.findBy(where)` for hot single-table reads by equality, without the query builder: the SQL
 * is built once per (entity, where columns) and rows are hydrated with the driver's own
 * `prepareHydratedValue` (column transformers included), so the result equals what `findBy` returns
 * (as plain objects). The query builder cost ten times the SQLite lookup (bench -- provisioning profile).
 */
export async function findRowsBy<E extends ObjectLiteral>(
  dataSource: DataSource,
  entity: EntityTarget<E>,
  where: Partial<Record<keyof E & string, unknown>>,
): Promise<E[]> {
  const metadata = dataSource.getMetadata(entity);
  const properties = Object.keys(where);
  const columns = properties.map((property) => columnOf(metadata, property));
  const sql = cachedSql(dataSource, `find\u0000${metadata.name}\u0000${properties.join('\u0000')}`, () => {
    const kind = driverOf(dataSource);
    const escape = (name: string) => dataSource.driver.escape(name);
    // Like findBy, leave out columns declared `select: false`.
    const selected = selectedColumns(metadata.columns).map((column) => escape(column.databaseName)).join(', ');
    const conditions = columns.map((column, i) => `${escape(column.databaseName)} = ${placeholder(kind, i + 1)}`).join(' AND ');
    return `SELECT ${selected} FROM ${tableOf(dataSource, entity)} WHERE ${conditions}`;
  });
  const parameters = columns.map((column, i) => dataSource.driver.preparePersistentValue(where[properties[i] as keyof E & string], column));
  const { rows } = await runStatement(dataSource, sql, parameters);
  const selected = selectedColumns(metadata.columns);
  return rows.map((row) => hydrate<E>(dataSource, selected, row));
}

/**
 * One row of `parent` by equality on its columns and the rows of `child` whose `link` column equals the
 * parent's, in ONE statement (`SELECT … FROM parent LEFT JOIN child ON … WHERE …`) where findRowsBy
 * would take two: a parent and its children read together, e.g. an eUICC and its profiles at a card's
 * first contact. Both come out as findRowsBy gives them (selected columns, the driver's hydration);
 * undefined when no parent matches. `where` must select at most one parent row. Children come in no
 * particular order, as findRowsBy's.
 */
export async function findRowWithChildren<P extends ObjectLiteral, C extends ObjectLiteral>(
  dataSource: DataSource,
  parent: EntityTarget<P>,
  where: Partial<Record<keyof P & string, unknown>>,
  child: EntityTarget<C>,
  link: { parent: keyof P & string; child: keyof C & string },
): Promise<{ row: P; children: C[] } | undefined> {
  const parentMetadata = dataSource.getMetadata(parent);
  const childMetadata = dataSource.getMetadata(child);
  const properties = Object.keys(where);
  const conditions = properties.map((property) => columnOf(parentMetadata, property));
  const parentColumns = selectedColumns(parentMetadata.columns);
  const childColumns = selectedColumns(childMetadata.columns);
  // A child row is there when its primary key is (a LEFT JOIN without a match gives NULLs). Programming
  // errors of the caller: without a selected primary key a child cannot be told from none.
  const keyIndexes = childMetadata.primaryColumns.map((column) => childColumns.indexOf(column));
  if (keyIndexes.length === 0 || keyIndexes.some((i) => i < 0)) throw new Error(`findRowWithChildren: ${childMetadata.name} needs a selected primary key`);
  const key = `join\u0000${parentMetadata.name}\u0000${properties.join('\u0000')}\u0001${childMetadata.name}\u0000${link.parent}\u0000${link.child}`;
  const sql = cachedSql(dataSource, key, () => {
    const kind = driverOf(dataSource);
    const escape = (name: string) => dataSource.driver.escape(name);
    const list = [
      ...parentColumns.map((column, i) => `p.${escape(column.databaseName)} AS ${escape(`p${i}`)}`),
      ...childColumns.map((column, i) => `c.${escape(column.databaseName)} AS ${escape(`c${i}`)}`),
    ].join(', ');
    const on = `c.${escape(columnOf(childMetadata, link.child).databaseName)} = p.${escape(columnOf(parentMetadata, link.parent).databaseName)}`;
    const filter = conditions.map((column, i) => `p.${escape(column.databaseName)} = ${placeholder(kind, i + 1)}`).join(' AND ');
    return `SELECT ${list} FROM ${tableOf(dataSource, parent)} p LEFT JOIN ${tableOf(dataSource, child)} c ON ${on} WHERE ${filter}`;
  });
  const parameters = conditions.map((column, i) => dataSource.driver.preparePersistentValue(where[properties[i] as keyof P & string], column));
  const { rows } = await runStatement(dataSource, sql, parameters);
  const [first] = rows;
  if (!first) return undefined;
  const aliased = (columns: readonly ColumnMetadata[], prefix: string, row: Record<string, unknown>) =>
    Object.fromEntries(columns.map((column, i) => [column.databaseName, row[`${prefix}${i}`]]));
  return {
    row: hydrate<P>(dataSource, parentColumns, aliased(parentColumns, 'p', first)),
    children: rows
      .filter((row) => keyIndexes.every((i) => row[`c${i}`] !== null && row[`c${i}`] !== undefined))
      .map((row) => hydrate<C>(dataSource, childColumns, aliased(childColumns, 'c', row))),
  };
}
