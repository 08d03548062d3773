/**
 * One-off administrative SQL on PostgreSQL (schema set-up at start-up and in tests), each statement on
 * its own short connection so it never shares a pool with a DataSource that may not exist yet.
 */
import pg from 'pg';
import { PersistenceError } from './errors';

/** Runs `sql` on a fresh connection to `url` and closes it. */
export async function runAdminSql(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function quotedSchema(schema: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new PersistenceError.InvalidOptions(`not a schema name: ${schema}`);
  return `"${schema}"`;
}

/** `CREATE SCHEMA [IF NOT EXISTS] "schema"`; the name must be a plain identifier. */
export function createSchema(url: string, schema: string, options: { ifNotExists?: boolean } = {}): Promise<void> {
  return runAdminSql(url, `CREATE SCHEMA ${options.ifNotExists ? 'IF NOT EXISTS ' : ''}${quotedSchema(schema)}`);
}

/** `DROP SCHEMA IF EXISTS "schema" CASCADE`. */
export function dropSchema(url: string, schema: string): Promise<void> {
  return runAdminSql(url, `DROP SCHEMA IF EXISTS ${quotedSchema(schema)} CASCADE`);
}
