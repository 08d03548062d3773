/**
 * Steps that ride on the next step's write (`checkpoint: false`), `info.repeat` after a crash, and the
 * statements a flow costs (one INSERT, one UPDATE per checkpointed step, the last one ending the flow).
 */
import { expect, it } from '@jest/globals';
import { RspError } from '@rsp/errors';
import { sqlStatementCount, StateMachine, type FlowDefinition, type StepInfo } from '@rsp/persistence';
import { describeEachDatabase } from './support';

class Refused extends RspError {
  static override readonly code = 'ERR_TEST_REFUSED';
}
class SimulatedCrash extends Error {}

type Context = { eid: string; iccid?: string; eis?: string; checked?: boolean; isdp?: string; done?: boolean };

describeEachDatabase('StateMachine checkpoints', (db) => {
  const seen: Array<{ step: string; repeat: boolean; attempt: number }> = [];
  let crashAt: string | undefined;
  let failAt: string | undefined;
  const step = (name: string, output: Partial<Context>, checkpoint?: false) => ({
    name,
    ...(checkpoint === false ? { checkpoint } : {}),
    run(_: Readonly<Context>, info: StepInfo) {
      seen.push({ step: name, repeat: info.repeat, attempt: info.attempt });
      if (crashAt === name) {
        crashAt = undefined;
        throw new SimulatedCrash(name);
      }
      if (failAt === name) throw new Refused(name);
      return output;
    },
  });
  const flow: FlowDefinition<Context> = {
    name: 'ride-along',
    steps: [
      step('reserve', { iccid: '8988' }, false),
      step('read-eis', { eis: 'eis' }, false),
      step('create', { isdp: 'A000' }),
      step('finish', { done: true }),
    ],
  };
  const machine = () => new StateMachine(db.dataSource, [flow]);
  const reset = () => {
    seen.length = 0;
    crashAt = failAt = undefined;
  };

  it('costs one INSERT and one UPDATE per checkpointed step; the last step ends the flow in the same UPDATE', async () => {
    reset();
    const before = sqlStatementCount();
    const done = await machine().start('ride-along', { eid: 'e1' });
    expect(sqlStatementCount() - before).toBe(3); // INSERT, UPDATE after create (reserve, read-eis ride on it), UPDATE after finish = succeeded
    expect(done).toMatchObject({ status: 'succeeded', stepName: null, stepIndex: 4, context: { eid: 'e1', iccid: '8988', eis: 'eis', isdp: 'A000', done: true } });
    expect(seen.every((entry) => !entry.repeat)).toBe(true);
  });

  it('after a crash, the steps riding on the lost write run again, and every one up to the checkpoint is told it may be a repeat', async () => {
    reset();
    crashAt = 'create';
    const id = 'crash-in-create';
    await expect(machine().start('ride-along', { eid: 'e2' }, { id })).rejects.toThrow(SimulatedCrash);
    const stored = await machine().get(id);
    expect(stored).toMatchObject({ status: 'running', stepName: 'reserve', stepIndex: 0, context: { eid: 'e2' } }); // nothing of reserve / read-eis written
    seen.length = 0;
    const resumed = await machine().resume(id);
    expect(resumed.status).toBe('succeeded');
    expect(seen).toEqual([
      { step: 'reserve', repeat: true, attempt: 2 },
      { step: 'read-eis', repeat: true, attempt: 2 },
      { step: 'create', repeat: true, attempt: 2 }, // it may have run before the crash: it checks its side effects
      { step: 'finish', repeat: false, attempt: 2 },
    ]);
  });

  it('a failure in a riding step stores the step that failed and the context up to it', async () => {
    reset();
    failAt = 'read-eis';
    const failed = await machine().start('ride-along', { eid: 'e3' }, { id: 'fail-in-read' });
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'ERR_TEST_REFUSED' });
    expect(await machine().get('fail-in-read')).toMatchObject({ status: 'failed', stepName: 'read-eis', stepIndex: 1, context: { iccid: '8988' } });
  });
});
