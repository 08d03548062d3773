import { expect, it } from '@jest/globals';
import { RspError } from '@rsp/errors';
import { EXPIRED_CODE, PersistenceError, SecretBox, StateMachine, type FlowDefinition } from '@rsp/persistence';
import { describeEachDatabase } from './support';

class EuiccUnreachable extends RspError {
  static override readonly code = 'ERR_TEST_EUICC_UNREACHABLE';
}
/** Stands in for the process dying mid-step (kill -9): not an RspError, so the row stays running. */
class SimulatedCrash extends Error {}

type DownloadContext = { eid: string; iccid?: string; sealedKey?: string; isdP?: string; installed?: boolean };

describeEachDatabase('StateMachine', (db) => {
  const box = new SecretBox({ currentKeyId: 'k1', keys: { k1: Buffer.alloc(32, 9) } });
  const runs: string[] = [];
  let crashAt: string | undefined;
  let failAt: string | undefined;
  const step = (name: string, spec: string, output: (c: DownloadContext) => Partial<DownloadContext>) => ({
    name,
    spec,
    run(context: Readonly<DownloadContext>) {
      runs.push(name);
      if (crashAt === name) {
        crashAt = undefined;
        throw new SimulatedCrash(`process killed during ${name}`);
      }
      if (failAt === name) throw new EuiccUnreachable(`no answer during ${name}`);
      return output(context);
    },
  });
  const download: FlowDefinition<DownloadContext> = {
    name: 'profile-download',
    steps: [
      step('reserve-iccid', 'SGP.02 §3.1.1', () => ({ iccid: '8988247000001234567' })),
      step('create-isd-p', 'SGP.02 §3.1.1 (ES3.CreateISDP)', () => ({ isdP: 'A0000005591010FFFFFFFF8900001100' })),
      step('key-establishment', 'SGP.02 §3.1.2', () => ({ sealedKey: box.seal(Buffer.alloc(16, 0x42)) })),
      step('download-install', 'SGP.02 §3.1.3', () => ({ installed: true })),
    ],
  };
  let now = new Date('2026-05-01T00:00:00.000Z');
  const machine = () => new StateMachine(db.dataSource, [download], { now: () => now });
  const reset = () => {
    runs.length = 0;
    crashAt = failAt = undefined;
  };

  it('runs all steps, merging and persisting each output', async () => {
    reset();
    const done = await machine().start('profile-download', { eid: '89049032123451234512345678901235' });
    expect(runs).toEqual(['reserve-iccid', 'create-isd-p', 'key-establishment', 'download-install']);
    expect(done).toMatchObject({ status: 'succeeded', stepIndex: 4, stepName: null, attempts: 1, errorCode: null });
    const stored = await machine().get(done.id);
    expect(stored.context).toMatchObject({ eid: '89049032123451234512345678901235', iccid: '8988247000001234567', installed: true });
    // The secret went in sealed, never in clear.
    expect(JSON.stringify(stored.context)).not.toContain('42424242');
    expect(box.open(String(stored.context.sealedKey))).toEqual(Buffer.alloc(16, 0x42));
  });

  it('after a crash mid-step, resume continues from the last persisted step and does not rerun completed ones', async () => {
    reset();
    crashAt = 'key-establishment';
    await expect(machine().start('profile-download', { eid: 'E1' }, { id: 'tx-crash' })).rejects.toThrow(SimulatedCrash);
    const interrupted = await machine().get('tx-crash');
    expect(interrupted).toMatchObject({ status: 'running', stepIndex: 2, stepName: 'key-establishment' });
    expect(interrupted.context).toMatchObject({ iccid: '8988247000001234567', isdP: 'A0000005591010FFFFFFFF8900001100' });
    expect(await machine().findStale(new Date(now.getTime() + 1))).toMatchObject([{ id: 'tx-crash' }]);

    runs.length = 0;
    const resumed = await machine().resume('tx-crash'); // a fresh StateMachine, as after a restart
    expect(runs).toEqual(['key-establishment', 'download-install']);
    expect(resumed).toMatchObject({ status: 'succeeded', attempts: 2, stepIndex: 4 });
    expect((await machine().resume('tx-crash')).status).toBe('succeeded'); // finished: nothing reruns
    expect(runs).toEqual(['key-establishment', 'download-install']);
  });

  it('persists the RspError code of a failing step', async () => {
    reset();
    failAt = 'create-isd-p';
    const failed = await machine().start('profile-download', { eid: 'E2' });
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'ERR_TEST_EUICC_UNREACHABLE', stepName: 'create-isd-p' });
    expect(await machine().get(failed.id)).toMatchObject({
      status: 'failed',
      errorCode: 'ERR_TEST_EUICC_UNREACHABLE',
      errorMessage: 'no answer during create-isd-p',
      stepIndex: 1,
    });
    expect(runs).toEqual(['reserve-iccid', 'create-isd-p']);
  });

  it('expires a transaction whose validity period elapsed before it finished', async () => {
    reset();
    crashAt = 'create-isd-p';
    await expect(machine().start('profile-download', { eid: 'E3' }, { id: 'tx-expire', validityPeriodMs: 60_000 })).rejects.toThrow(
      SimulatedCrash,
    );
    now = new Date(now.getTime() + 60_000);
    runs.length = 0;
    const expired = await machine().resume('tx-expire');
    expect(expired).toMatchObject({ status: 'expired', errorCode: EXPIRED_CODE });
    expect(runs).toEqual([]);
    expect((await machine().get('tx-expire')).status).toBe('expired');
  });

  it('persists onFailure context with a failed row; findRunning / findEnded / annotate serve start-up recovery', async () => {
    reset();
    const withHook: FlowDefinition<DownloadContext & { failedAt?: string; compensated?: boolean }> = {
      ...download,
      name: 'download-with-hook',
      onFailure: (error, _context, info) => ({ failedAt: `${info.step}:${error.code}` }),
    };
    const hooked = new StateMachine(db.dataSource, [withHook as FlowDefinition], { now: () => now });
    failAt = 'key-establishment';
    const failed = await hooked.start('download-with-hook', { eid: '89049032123451234512345678901236' }, { id: 'tx-hook-fail' });
    expect(failed.status).toBe('failed');
    expect((await hooked.get('tx-hook-fail')).context).toMatchObject({ failedAt: 'key-establishment:ERR_TEST_EUICC_UNREACHABLE', isdP: expect.any(String) });
    failAt = undefined;
    crashAt = 'create-isd-p';
    await expect(hooked.start('download-with-hook', { eid: '89049032123451234512345678901237' }, { id: 'tx-hook-run' })).rejects.toThrow(SimulatedCrash);
    expect((await hooked.findRunning('download-with-hook')).map((record) => record.id)).toEqual(['tx-hook-run']);
    expect((await hooked.findEnded('download-with-hook', ['failed'], new Date(now.getTime() - 1000))).map((record) => record.id)).toEqual(['tx-hook-fail']);
    await hooked.annotate('tx-hook-fail', { compensated: true });
    expect((await hooked.get('tx-hook-fail')).context).toMatchObject({ compensated: true, failedAt: expect.any(String) });
    await expect(hooked.annotate('tx-hook-run', { compensated: true })).rejects.toBeInstanceOf(PersistenceError.InvalidOptions);
  });

  it('rejects unknown flows and transactions with typed errors', async () => {
    await expect(machine().start('nope', {})).rejects.toBeInstanceOf(PersistenceError.UnknownFlow);
    await expect(machine().resume('missing')).rejects.toBeInstanceOf(PersistenceError.NotFound);
  });
});

describeEachDatabase('StateMachine after a real kill -9', (db) => {
  it('resumes a flow whose process was SIGKILLed mid-step without rerunning finished steps', async () => {
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const { crashFlow } = await import('./fixtures/crash-flow');
    const worker = fileURLToPath(new URL('./fixtures/crash-flow.ts', import.meta.url));
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const args = ['--import', 'tsx', worker, db.url, db.schema ?? '-', 'tx-kill9'];
    const child = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect({ signal: child.signal, stderr: child.stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });

    const machine = new StateMachine(db.dataSource, [crashFlow(false)]);
    const interrupted = await machine.get('tx-kill9');
    expect(interrupted).toMatchObject({ status: 'running', stepIndex: 1, stepName: 'two' });
    expect(interrupted.context.runs).toEqual([`one@${child.pid}`]);
    const done = await machine.resume('tx-kill9');
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(done.context.runs).toEqual([`one@${child.pid}`, `two@${process.pid}`, `three@${process.pid}`]);
  }, 60_000);
});
