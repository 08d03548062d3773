/**
 * Several writes that commit together or not at all, in as few round trips as the driver allows.
 *
 * | writes | PostgreSQL | SQLite |
 * |---|---|---|
 * | one | the statement alone (atomic by itself) | the same |
 * | several statements, each on its own table | ONE statement: `WITH w1 AS (…), w2 AS (…) <last>` | BEGIN, each, COMMIT |
 * | two on one table, or any callback | BEGIN, each in order, COMMIT | the same |
 *
 * Why the middle row is safe on PostgreSQL (PostgreSQL 15 §7.8.4, Data-Modifying Statements in WITH):
 * every sub-statement runs exactly once and to completion, and the whole text is one statement, so
 * under autocommit it commits or fails as one. The sub-statements share one snapshot and their order
 * is unspecified, so none may depend on another's effect: hence one table each (§7.8.4: "trying to
 * update the same row twice in a single statement is not supported"). A BEGIN / COMMIT pair costs a
 * round trip each, and on this stack's PostgreSQL every round trip wakes a backend and then the
 * service (docs/performance.md, round six): two writes went from four round trips to one.
 *
 * SQLite has no data-modifying WITH; its statements run in-process, so BEGIN / COMMIT cost no round trip.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { driverKindOf } from './data-source';
import { runStatement } from './prepared';
import { runWriteStatement, type WriteStatement } from './sql';

/**
 * A write {@link runWrites} cannot fold into one statement: it runs in the transaction, in order. Alone it
 * runs on the DataSource's manager without a transaction, so it must be one statement (a delete, an update).
 */
export type TransactionalWrite = (manager: EntityManager) => Promise<unknown>;

const combinedTexts = new Map<string, string>();

/** Runs `writes` atomically, in one statement where the table above allows it, else in one transaction. */
export async function runWrites(dataSource: DataSource, writes: ReadonlyArray<WriteStatement | TransactionalWrite>): Promise<void> {
  if (writes.length === 0) return;
  const [only] = writes;
  if (writes.length === 1 && only !== undefined) {
    // Alone, a write needs no BEGIN / COMMIT: a callback gets the DataSource's own (untransacted) manager.
    if (typeof only === 'function') await only(dataSource.manager);
    else await runWriteStatement(dataSource, only);
    return;
  }
  const statements = writes.filter((write): write is WriteStatement => typeof write !== 'function');
  if (statements.length === writes.length && foldsIntoOne(dataSource, statements)) {
    await runFolded(dataSource, statements);
    return;
  }
  await dataSource.transaction(async (manager) => {
    for (const write of writes) {
      if (typeof write === 'function') await write(manager);
      else await runWriteStatement(manager, write);
    }
  });
}

/**
 * `writes`, then `last`, and the rows `last` changed: the state machine's checkpoint with the writes its
 * step handed over (StepInfo.commitWithCheckpoint), so a step's own effect costs no round trip of its own.
 *
 * - PostgreSQL, each write on a table of its own (as in {@link runWrites}): ONE statement, `WITH w1 AS
 *   (…) last`. The step's effect and the checkpoint commit together, and the count is the main
 *   statement's (its command tag: a WITH's sub-statements report none).
 * - SQLite, or writes that cannot fold: one after the other, `last` at the end, without a transaction,
 *   as the step's writes ran before (a BEGIN / COMMIT pair would be two statements more for nothing the
 *   flow needs): a crash between them leaves the effect without the checkpoint, and the step runs again
 *   as a repeat, which its own rules already make safe (state-machine.ts).
 */
export async function runWritesWithLast(dataSource: DataSource, writes: readonly WriteStatement[], last: WriteStatement): Promise<number> {
  const all = [...writes, last];
  if (writes.length > 0 && foldsIntoOne(dataSource, all)) return runFolded(dataSource, all);
  for (const write of writes) await runWriteStatement(dataSource, write);
  return runWriteStatement(dataSource, last);
}

/** PostgreSQL, and each statement on a table of its own: the middle row of the table above. */
function foldsIntoOne(dataSource: DataSource, statements: readonly WriteStatement[]): boolean {
  return driverKindOf(dataSource.options) === 'postgres' && new Set(statements.map((statement) => statement.table)).size === statements.length;
}

/** The statements as ONE `WITH …` statement; the rows the last one changed. */
async function runFolded(dataSource: DataSource, statements: readonly WriteStatement[]): Promise<number> {
  // A fixed combination of fixed texts is prepared like its parts; one with a row-count text is not.
  const prepare = statements.every((statement) => statement.prepare);
  return (await runStatement(dataSource, combine(statements), statements.flatMap((statement) => [...statement.parameters]), prepare)).affected;
}

/**
 * `WITH w1 AS (s1), …, w(n-1) AS (s(n-1)) sn`, each statement's `$k` renumbered after the values of the
 * ones before it. The texts come from sql.ts's builders, whose only `$` are their placeholders.
 */
function combine(statements: readonly WriteStatement[]): string {
  const key = statements.map((statement) => statement.sql).join('\u0000');
  let text = combinedTexts.get(key);
  if (text !== undefined) return text;
  let offset = 0;
  const parts = statements.map((statement) => {
    const base = offset;
    offset += statement.parameters.length;
    return statement.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + base}`);
  });
  const last = parts.pop() as string;
  text = `WITH ${parts.map((part, i) => `w${i + 1} AS (${part})`).join(', ')} ${last}`;
  // Only texts that recur are kept: a multi-row INSERT's text varies with its row count.
  if (statements.every((statement) => statement.prepare)) combinedTexts.set(key, text);
  return text;
}
