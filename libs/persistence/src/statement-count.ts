/**
 * Counts the SQL statements every DataSource of this process sends (TypeORM calls its logger's `logQuery`
 * for each one, the raw `dataSource.query` paths included). The provisioning bench and the cost test read
 * it to print and pin "SQL statements per provisioning"; it logs nothing and costs an increment.
 * `traceSqlStatements` also keeps the statement texts (never the parameters: they may hold sealed keys).
 */
import type { Logger } from 'typeorm';

let statements = 0;
let trace: string[] | undefined;

/** Statements sent since the process started (read twice and subtract). */
export function sqlStatementCount(): number {
  return statements;
}

/** Starts keeping the statement texts; the returned function stops and returns them. */
export function traceSqlStatements(): () => string[] {
  const kept: string[] = [];
  trace = kept;
  return () => {
    if (trace === kept) trace = undefined;
    return kept;
  };
}

export const statementCountingLogger: Logger = {
  logQuery: (query) => {
    statements += 1;
    trace?.push(query);
  },
  logQueryError: () => undefined,
  logQuerySlow: () => undefined,
  logSchemaBuild: () => undefined,
  logMigration: () => undefined,
  log: () => undefined,
};
