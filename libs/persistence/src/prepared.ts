/**
 * One hot-path statement, prepared once per connection on both drivers.
 *
 * TypeORM sends every PostgreSQL statement unnamed, so the server parses and plans it on every call: for
 * a primary-key SELECT that is half of the backend's CPU (49 against 102 µs measured on this stack's
 * PostgreSQL 15; 134 against 162 µs for an UPDATE with its commit). A named statement is parsed and
 * planned once per connection: pg sends the Parse message only the first time it sees a name on a
 * connection (`connection.parsedStatements`), then only Bind / Execute. better-sqlite3's statements are
 * already prepared and cached by TypeORM's runner, so SQLite goes through the runner unchanged.
 *
 * Only texts built once from metadata and constants come here (the callers cache them), never text that
 * varies with input, so the names a connection holds stay a small fixed set. A DataSource opened with
 * `preparedStatements: false` (RSP_DATABASE_PREPARED_STATEMENTS=0, for a pooler that cannot keep them)
 * sends everything unnamed, as TypeORM does.
 */
import { QueryFailedError, type DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { driverKindOf, preparesStatements } from './data-source';
import { statementPipelineOf } from './pipeline';

/** What a statement gave: rows (SELECT, RETURNING) and the affected row count where the driver says it. */
export interface StatementResult {
  readonly rows: Array<Record<string, unknown>>;
  readonly affected: number;
}

/** The slice of pg's client this module uses (a pooled client, a transaction's, or the pipeline). */
interface PgClient {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: Array<Record<string, unknown>>; rowCount: number | null }>;
}

const names = new Map<string, string>();

/** The process-wide name of a statement text: the same text always gets the same name, on every connection. */
function statementName(sql: string): string {
  let name = names.get(sql);
  if (name === undefined) names.set(sql, (name = `rsp_${names.size + 1}`));
  return name;
}

/** The DataSource behind a DataSource or an EntityManager (a transaction's manager). */
export function sourceOf(target: DataSource | EntityManager): DataSource {
  return 'manager' in target && 'driver' in target ? (target as DataSource) : (target as EntityManager).connection;
}

/**
 * Runs `sql` on the transaction's connection when `target` is a transaction's manager, else on the
 * DataSource's pipelined connection on PostgreSQL (pipeline.ts), else (SQLite, or PostgreSQL behind a
 * pooler) on one taken from the pool and given back. Counted and logged like any TypeORM statement
 * (statement-count.ts), and a failure is TypeORM's QueryFailedError carrying the driver's error, as
 * `runner.query` throws it (so isUniqueViolation still reads its code). `prepare: false` for a text that
 * varies (a multi-row INSERT's row count): it runs unnamed, as TypeORM runs it.
 */
export async function runStatement(target: DataSource | EntityManager, sql: string, parameters: unknown[], prepare = true): Promise<StatementResult> {
  const dataSource = sourceOf(target);
  const transactionRunner = (target as EntityManager).queryRunner;
  // Outside a transaction, PostgreSQL's statements share one pipelined connection (pipeline.ts).
  const pipeline = transactionRunner ? undefined : statementPipelineOf(dataSource);
  if (pipeline) return runOnPg(dataSource, pipeline, sql, parameters, prepare);
  const runner: QueryRunner = transactionRunner ?? dataSource.createQueryRunner();
  try {
    if (!prepare || driverKindOf(dataSource.options) !== 'postgres' || !preparesStatements(dataSource.options)) {
      const result = (await runner.query(sql, parameters, true)) as { records?: Array<Record<string, unknown>>; affected?: number };
      const rows = result.records ?? [];
      return { rows, affected: result.affected ?? rows.length };
    }
    return await runOnPg(dataSource, (await runner.connect()) as PgClient, sql, parameters, true, runner);
  } finally {
    if (!transactionRunner) await runner.release();
  }
}

/** One statement on a pg client, named when `prepare`: counted, logged and failed as TypeORM does. */
async function runOnPg(dataSource: DataSource, client: PgClient, sql: string, parameters: unknown[], prepare: boolean, runner?: QueryRunner): Promise<StatementResult> {
  dataSource.logger.logQuery(sql, parameters, runner);
  try {
    const raw = await client.query(prepare ? { name: statementName(sql), text: sql, values: parameters } : { text: sql, values: parameters });
    return { rows: raw.rows, affected: raw.rowCount ?? raw.rows.length };
  } catch (error) {
    dataSource.logger.logQueryError(error instanceof Error ? error : String(error), sql, parameters, runner);
    throw new QueryFailedError(sql, parameters, error as Error);
  }
}
