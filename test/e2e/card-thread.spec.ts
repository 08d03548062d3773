/**
 * Cards on a thread of their own (issue 11 item 3, simulator/src/fleet-thread.ts): a stack device group
 * with `thread: 'worker'` is manufactured, registered (ES1) and served over the broker from a worker
 * thread; a full ES2 download with enable reaches it there, and the thread reports its own CPU time so the
 * bench can split services from cards. The cards are not reachable in process: only over the broker.
 * The broker runs on a thread of its own too (`brokerThread`, libs/mqtt-transport broker-thread.ts), as in
 * the bench: everything between the services and the cards crosses two thread boundaries.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { generateTestPki } from '@rsp/pki';
import { startStack, type Stack } from '../../scripts/stack';
import { threadCpuMs } from '../../simulator/src/fleet-thread';
import { MnoClient } from './support';

const SMSR_ID = 'smsr.threads';

describe('cards on a worker thread', () => {
  let stack: Stack;
  let mno: MnoClient;

  beforeAll(async () => {
    const apiKey = randomBytes(16).toString('hex');
    stack = await startStack({
      pki: generateTestPki({ curve: 'P-256', euiccCount: 0 }),
      database: { kind: 'sqlite-memory' },
      ids: { smsrId: SMSR_ID, smdpId: 'smdp.threads' },
      mnos: [{ mnoId: 'mno.threads', apiKey }],
      devices: [{ model: 'generic', count: 3, firstSerial: 58_000_000, thread: 'worker' }],
      brokerThread: true,
    });
    mno = new MnoClient('mno.threads', apiKey, stack.smdp.httpUrl, stack.smsr.httpUrl);
    await mno.stock('threads', 3, '8949074');
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('registers the thread’s cards with the SM-SR and provisions one of them over the broker', async () => {
    expect(stack.cardThreads).toHaveLength(1);
    expect(stack.fleets).toHaveLength(0);
    expect(stack.eids).toHaveLength(3);
    const eid = stack.eids[1] as string;
    const result = await mno.es2('downloadProfile', { eid, smsrId: SMSR_ID, profileType: 'threads', enableProfile: true });
    expect(result.header.functionExecutionStatus.status).toBe('Executed-Success');
    const eis = await mno.es4('getEIS', { eid });
    expect(eis.header.functionExecutionStatus.status).toBe('Executed-Success');
    expect(() => stack.fleetOf(eid)).toThrow(/card thread/);
  }, 60_000);

  it('reads the card thread’s and the broker thread’s own CPU time, apart from the services’ thread', async () => {
    const [cardThread] = stack.cardThreads;
    const cards = await cardThread?.cpuMs();
    const broker = stack.broker && 'cpuMs' in stack.broker ? await stack.broker.cpuMs() : 'not a broker thread';
    const main = threadCpuMs();
    if (process.platform !== 'linux') return; // /proc/thread-self is Linux's
    expect(cards).toBeGreaterThan(0);
    expect(broker).toBeGreaterThan(0);
    expect(main).toBeGreaterThan(0);
  });
});
