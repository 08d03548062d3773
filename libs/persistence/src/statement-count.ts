/**
 * Counts the SQL statements every DataSource of this process sends (TypeORM calls its logger's `logQuery`
 * for each one, the raw `dataSource.query` paths included). The provisioning bench and the cost test read
 * it to print and pin "SQL statements per provisioning"; it logs nothing and costs an increment.
 */
import type { Logger } from 'typeorm';

let statements = 0;

/** Statements sent since the process started (read twice and subtract). */
export function sqlStatementCount(): number {
  return statements;
}

export const statementCountingLogger: Logger = {
  logQuery: () => {
    statements += 1;
  },
  logQueryError: () => undefined,
  logQuerySlow: () => undefined,
  logSchemaBuild: () => undefined,
  logMigration: () => undefined,
  log: () => undefined,
};
