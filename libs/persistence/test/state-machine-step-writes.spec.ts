/**
 * A step's own write handed to its checkpoint (StepInfo.commitWithCheckpoint, atomic-writes.ts
 * runWritesWithLast): ONE statement with the checkpoint on PostgreSQL, the write then the checkpoint on
 * SQLite; a step that throws drops its write, a riding step's write waits for the next checkpoint (or the
 * failed row's write), and the checkpoint's own count still tells another worker's advance apart.
 */
import { expect, it } from '@jest/globals';
import { RspError } from '@rsp/errors';
import {
  OutboxMessage,
  insertRowsStatement,
  runWritesWithLast,
  StateMachine,
  TransactionRecord,
  updateRowsStatement,
  type FlowDefinition,
  type StepInfo,
} from '@rsp/persistence';
import { describeEachDatabase, statementsSent } from './support';

class Refused extends RspError {
  static override readonly code = 'ERR_TEST_REFUSED';
}

type Context = { n: number; done?: string[] };

describeEachDatabase('StateMachine step writes', (db) => {
  const at = new Date('2026-06-01T10:00:00.000Z');
  /** A write on a table of its own (the outbox's), one row per call: its id says which step wrote it. */
  const note = (id: string) =>
    insertRowsStatement(db.dataSource, OutboxMessage, [
      Object.assign(new OutboxMessage(), {
        id,
        destination: 'test',
        payload: { id },
        status: 'delivered' as const,
        attempts: 0,
        nextAttemptAt: at,
        claimedUntil: null,
        deliveredAt: at,
        lastError: null,
        createdAt: at,
      }),
    ]);
  const notes = async (prefix: string) =>
    (await db.dataSource.getRepository(OutboxMessage).find({ order: { id: 'ASC' } })).map((row) => row.id).filter((id) => id.startsWith(prefix));
  let failAt: string | undefined;
  const step = (name: string, checkpoint?: false) => ({
    name,
    ...(checkpoint === false ? { checkpoint } : {}),
    run(ctx: Readonly<Context>, info: StepInfo) {
      info.commitWithCheckpoint(note(`${info.transactionId}:${name}`));
      if (failAt === name) throw new Refused(name);
      return { done: [...(ctx.done ?? []), name] };
    },
  });
  const flow: FlowDefinition<Context> = { name: 'step-writes', steps: [step('riding', false), step('first'), step('second')] };
  const machine = () => new StateMachine(db.dataSource, [flow]);
  it('a step\'s write commits with its checkpoint: one statement on PostgreSQL, the write then the UPDATE on SQLite, no transaction', async () => {
    failAt = undefined;
    const words = await statementsSent(() => machine().start('step-writes', { n: 1 }, { id: 'ok' }));
    // The row's INSERT; riding's write waits for first's checkpoint, and two writes on one table do not
    // fold (one snapshot, atomic-writes.ts), so they go one by one; second's write ends the flow in ONE.
    expect(words).toEqual(['INSERT', 'INSERT', 'INSERT', 'UPDATE', ...(db.kind === 'postgres' ? ['WITH'] : ['INSERT', 'UPDATE'])]);
    expect(await notes('ok:')).toEqual(['ok:first', 'ok:riding', 'ok:second']);
    expect(await machine().get('ok')).toMatchObject({ status: 'succeeded', context: { done: ['riding', 'first', 'second'] } });
  });

  it('a step that throws drops its own write; the failed row carries the riding and earlier steps\' writes', async () => {
    failAt = 'first';
    const failed = await machine().start('step-writes', { n: 2 }, { id: 'fail' });
    expect(failed).toMatchObject({ status: 'failed', stepName: 'first', errorCode: 'ERR_TEST_REFUSED' });
    // riding completed (its output is in the failed row's context), so its write is there too; first's is not.
    expect(await notes('fail:')).toEqual(['fail:riding']);
    expect((await machine().get('fail')).context).toMatchObject({ done: ['riding'] });
  });

  it('runWritesWithLast returns the last statement\'s count: 0 when the row moved on (the write itself still runs, as it did before the checkpoint)', async () => {
    failAt = undefined;
    await machine().start('step-writes', { n: 3 }, { id: 'moved' });
    const stale = updateRowsStatement(db.dataSource, TransactionRecord, { id: 'moved', stepIndex: 1, status: 'running' }, { updatedAt: at });
    expect(await runWritesWithLast(db.dataSource, [note('moved:late')], stale)).toBe(0);
    const current = updateRowsStatement(db.dataSource, TransactionRecord, { id: 'moved', status: 'succeeded' }, { updatedAt: at });
    expect(await runWritesWithLast(db.dataSource, [note('moved:later')], current)).toBe(1);
    expect(await runWritesWithLast(db.dataSource, [], updateRowsStatement(db.dataSource, TransactionRecord, { id: 'moved' }, { updatedAt: at }))).toBe(1);
    expect(await notes('moved:')).toEqual(['moved:first', 'moved:late', 'moved:later', 'moved:riding', 'moved:second']);
  });
});
