/**
 * The SGP.02 §5.1 function frame on its own: ports faked (an idempotency store with the claim / replay /
 * conflict rule of @rsp/persistence, a virtual clock), one table per interface. The end-to-end table of the
 * same inputs on ES1, ES2, ES3 and ES4 is test/e2e/function-frame.spec.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { RspError } from '@rsp/errors';
import { generateEid } from '@rsp/pki';
import {
  FunctionFrame,
  STATUS_CODE,
  StatusError,
  es2,
  es4,
  failed,
  functionRow,
  httpAnswerBeforeFrame,
  type ClaimOutcome,
  type FrameCall,
  type FunctionExecutionStatus,
  type IdempotencyClaims,
  type ProvenRequester,
} from '../src';

const EID = '89049032123451234512345678901235';
const ICCID = '89882119900000000012';

/** The rule of @rsp/persistence's stores, in memory; `hold` keeps a claim "running" until released. */
class FakeClaims implements IdempotencyClaims {
  readonly records = new Map<string, { fingerprint: string | undefined; outcome?: ClaimOutcome<unknown> }>();
  failing = false;

  async claimOrReplay<T>(requester: string, callId: string, compute: () => Promise<T>, fingerprint?: string): Promise<ClaimOutcome<T>> {
    if (this.failing) throw new Error('database unreachable');
    const key = `${requester}|${callId}`;
    const existing = this.records.get(key);
    if (existing) {
      if (existing.fingerprint !== fingerprint) return { status: 'conflict' };
      return (existing.outcome as ClaimOutcome<T> | undefined) ?? { status: 'in-progress' };
    }
    const record: { fingerprint: string | undefined; outcome?: ClaimOutcome<unknown> } = { fingerprint };
    this.records.set(key, record);
    const response = await compute();
    record.outcome = { status: 'succeeded', response, replayed: true };
    return { status: 'succeeded', response, replayed: false };
  }

  /** A first call that is still running; `release` stores its answer. */
  hold(requester: string, callId: string, fingerprint: string): { release(response: unknown): void } {
    const record: { fingerprint: string | undefined; outcome?: ClaimOutcome<unknown> } = { fingerprint };
    this.records.set(`${requester}|${callId}`, record);
    return { release: (response) => void (record.outcome = { status: 'succeeded', response, replayed: true }) };
  }
}

/** Virtual time: `sleep` moves the clock on at once; `onSleep` runs on each (a first call finishing meanwhile). */
class VirtualClock {
  time = 1_000_000;
  sleeps = 0;
  onSleep: () => void = () => undefined;
  now = () => this.time;
  sleep = async (ms: number) => {
    this.time += ms;
    this.sleeps += 1;
    this.onSleep();
  };
}

interface Bench {
  frame: FunctionFrame;
  claims: FakeClaims;
  clock: VirtualClock;
  ran: string[];
  warnings: string[];
}

function bench(options: { replayWaitMs?: number; handler?: () => Promise<Record<string, unknown>>; guard?: () => Promise<FunctionExecutionStatus | void> } = {}): Bench {
  const claims = new FakeClaims();
  const clock = new VirtualClock();
  const ran: string[] = [];
  const warnings: string[] = [];
  const getEis = functionRow<es4.GetEisRequest>({
    name: 'GetEIS',
    spec: 'SGP.02 §5.6 [U numbering]',
    validator: es4.getEisRequest,
    handler: async (request, call) => {
      ran.push(`${call.iface}.GetEIS ${request.eid} deadline=${call.deadline ?? '-'}`);
      return options.handler ? options.handler() : { eis: { eid: request.eid } };
    },
    ...(options.guard ? { guard: options.guard } : {}),
  });
  const enable = functionRow<es2.EnableProfileRequest>({
    name: 'EnableProfile',
    spec: 'SGP.02 §5.3 [U numbering]',
    validator: es2.enableProfileRequest,
    handler: async () => {
      throw new RspError('card said no');
    },
  });
  const register = functionRow<es4.GetEisRequest>({ name: 'RegisterEIS', spec: 'SGP.02 §5.5.1', validator: es4.getEisRequest, handler: async () => ({}), authenticatesRequester: true });
  const frame = new FunctionFrame({
    tables: [
      { iface: 'ES4', rows: [getEis], idempotency: claims },
      { iface: 'ES2', rows: [getEis, enable], idempotency: claims, claimKey: (requester) => requester, fingerprintName: (name) => name },
      { iface: 'ES1', rows: [register, getEis], idempotency: claims },
    ],
    fingerprint: (fn, request) => `${fn}:${JSON.stringify(request)}`,
    clock,
    logger: { warn: (message) => void warnings.push(message), error: (message) => void warnings.push(message) },
    ...(options.replayWaitMs !== undefined ? { replayWaitMs: options.replayWaitMs } : {}),
  });
  return { frame, claims, clock, ran, warnings };
}

const header = (extra: Record<string, unknown> = {}) => ({ functionRequesterIdentifier: 'mno.a', functionCallIdentifier: 'call-1', ...extra });
const proven = (id = 'mno.a'): ProvenRequester => ({ kind: 'proven', id });
const call = (overrides: Partial<FrameCall> = {}): FrameCall => ({
  iface: 'ES4',
  functionName: 'getEIS',
  body: { header: header(), eid: EID },
  requester: proven(),
  ...overrides,
});
const codes = (status: FunctionExecutionStatus) => [status.status, status.statusCodeData?.subjectCode, status.statusCodeData?.reasonCode, status.statusCodeData?.subjectIdentifier];

describe('refusals before anything runs (steps 1–4)', () => {
  const cases: Array<{ title: string; call: Partial<FrameCall>; http: number; expected: Array<string | undefined> }> = [
    { title: 'no credential', call: { requester: { kind: 'missing' } }, http: 401, expected: ['Failed', '1.1', '1.1', undefined] },
    { title: 'a credential naming nobody', call: { requester: { kind: 'unknown' } }, http: 200, expected: ['Failed', '1.1', '1.1', undefined] },
    { title: 'an unknown function', call: { functionName: 'frobnicate' }, http: 200, expected: ['Failed', '1.6', '3.1', 'frobnicate'] },
    { title: 'a body that is not an object', call: { body: '{not json' }, http: 200, expected: ['Failed', '1.6', '2.1', 'body'] },
    { title: 'a body without header', call: { body: { eid: EID } }, http: 200, expected: ['Failed', '1.6', '2.2', 'header'] },
    { title: 'an invalid parameter', call: { body: { header: header(), eid: '123' } }, http: 200, expected: ['Failed', '1.6', '2.1', 'eid'] },
    { title: 'a header naming another requester', call: { requester: proven('mno.b') }, http: 200, expected: ['Failed', '1.1', '1.2', 'mno.a'] },
    {
      title: 'no credential for a function that does not prove its requester itself',
      call: { requester: { kind: 'by-function', allowed: () => true } },
      http: 401,
      expected: ['Failed', '1.1', '1.1', undefined],
    },
    {
      title: 'no credential from a requester configured with one (ES1)',
      call: { iface: 'ES1', functionName: 'registerEIS', requester: { kind: 'by-function', allowed: () => false } },
      http: 401,
      expected: ['Failed', '1.1', '1.1', undefined],
    },
  ];
  it.each(cases)('$title', async ({ call: overrides, http, expected }) => {
    const { frame, ran } = bench();
    const answer = await frame.call(call(overrides));
    expect(answer.httpStatus).toBe(http);
    expect(codes(answer.response.header.functionExecutionStatus)).toEqual(expected);
    expect(Object.keys(answer.response)).toEqual(['header']);
    expect(ran).toEqual([]);
  });

  it('a function that proves its requester itself runs for an allowed requester without a credential', async () => {
    const { frame } = bench();
    const answer = await frame.call(call({ iface: 'ES1', functionName: 'RegisterEIS', requester: { kind: 'by-function', allowed: (claimed) => claimed === 'mno.a' } }));
    expect(answer.response.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
  });
});

describe('idempotency (step 7)', () => {
  it('runs once; the identical repeat replays the identical answer; another request under the identifier is refused 1.6 / 3.3', async () => {
    const { frame, ran, warnings } = bench();
    const first = await frame.call(call());
    expect(first.response).toEqual({ header: { functionExecutionStatus: { status: 'Executed-Success' } }, eis: { eid: EID } });
    expect(await frame.call(call())).toEqual(first);
    const other = await frame.call(call({ body: { header: header(), eid: generateEid('89044045', 12345) } }));
    expect(other.response).toEqual({
      header: {
        functionExecutionStatus: {
          status: 'Failed',
          statusCodeData: { subjectCode: '1.6', reasonCode: '3.3', subjectIdentifier: 'header.functionCallIdentifier', message: 'functionCallIdentifier already used for another request' },
        },
      },
    });
    expect(ran).toHaveLength(1);
    expect(warnings).toEqual(['ES4.GetEIS from mno.a: functionCallIdentifier reused with another request, refused']);
  });

  it('keys and fingerprints per interface: the same identifier on ES4 and ES2 are two calls; ES2 keeps the bare MNO id and name', async () => {
    const { frame, claims, ran } = bench();
    await frame.call(call());
    await frame.call(call({ iface: 'ES2', body: { header: header(), eid: EID, smsrId: 'smsr.a' } }));
    expect(ran).toHaveLength(2);
    expect([...claims.records.keys()]).toEqual(['ES4/mno.a|call-1', 'mno.a|call-1']);
    expect(frame.claimOf('ES2', 'getEIS', { header: header(), eid: EID, smsrId: 'smsr.a' })).toMatchObject({ key: 'mno.a', callId: 'call-1', fingerprint: expect.stringMatching(/^GetEIS:/) });
    expect(frame.claimOf('ES4', 'GetEIS', call().body).fingerprint).toMatch(/^ES4\.GetEIS:/);
  });

  it('a store failure is answered 1.2 / 4.2 and logged', async () => {
    const { frame, claims, warnings } = bench();
    claims.failing = true;
    expect(codes((await frame.call(call())).response.header.functionExecutionStatus)).toEqual(['Failed', '1.2', '4.2', undefined]);
    expect(warnings).toEqual(['ES4.GetEIS: idempotency store failed: Error: database unreachable']);
  });
});

describe('a repeat of a call in progress waits for it (step 8)', () => {
  const held = (b: Bench, body: unknown) => {
    const { key, callId, fingerprint } = b.frame.claimOf('ES4', 'GetEIS', body);
    return b.claims.hold(key, callId, fingerprint);
  };

  it('gets the first call\'s answer once it is stored (by any process)', async () => {
    const b = bench();
    const first = held(b, call().body);
    b.clock.onSleep = () => b.clock.sleeps === 3 && first.release({ header: { functionExecutionStatus: { status: 'Executed-Success' } }, eis: { eid: EID } });
    const answer = await b.frame.call(call());
    expect(answer.response).toEqual({ header: { functionExecutionStatus: { status: 'Executed-Success' } }, eis: { eid: EID } });
    expect(b.ran).toEqual([]); // never run twice
  });

  const bounds: Array<{ title: string; extra: Record<string, unknown>; transportDeadlineIn?: number; waited: number; expected: Array<string | undefined> }> = [
    { title: 'until replayWaitMs, then Failed 1.2 / 4.4 busy', extra: {}, waited: 5_000, expected: ['Failed', '1.2', '4.4', undefined] },
    { title: 'until its validityPeriod, then Expired 1.6 / 5.3', extra: { validityPeriod: 2 }, waited: 2_000, expected: ['Expired', '1.6', '5.3', EID] },
    { title: 'until just before the transport deadline, then busy', extra: {}, transportDeadlineIn: 1_000, waited: 750, expected: ['Failed', '1.2', '4.4', undefined] },
  ];
  it.each(bounds)('$title', async ({ extra, transportDeadlineIn, waited, expected }) => {
    const b = bench({ replayWaitMs: 5_000 });
    const body = { header: header(extra), eid: EID };
    held(b, body);
    const start = b.clock.now();
    const answer = await b.frame.call(call({ body, ...(transportDeadlineIn !== undefined ? { transportDeadline: start + transportDeadlineIn } : {}) }));
    expect(codes(answer.response.header.functionExecutionStatus)).toEqual(expected);
    expect(b.clock.now() - start).toBe(waited);
    expect(b.clock.sleeps).toBeGreaterThan(3); // polled, with a growing pause
    expect(b.clock.sleeps).toBeLessThan(30);
  });
});

describe('deadline, guard and errors (steps 5, 6, 9)', () => {
  it('validityPeriod becomes an epoch-ms deadline counted from receipt', async () => {
    const { frame, ran, clock } = bench();
    await frame.call(call({ body: { header: header({ validityPeriod: 30 }), eid: EID } }));
    expect(ran).toEqual([`ES4.GetEIS ${EID} deadline=${clock.now() + 30_000}`]);
  });

  it('a guard refusal is answered and not stored: the same identifier runs once the guard allows it', async () => {
    let allow = false;
    const refusal = failed(STATUS_CODE.EUICC_REFUSED, EID);
    const { frame, ran } = bench({ guard: async () => (allow ? undefined : refusal) });
    expect((await frame.call(call())).response.header.functionExecutionStatus).toEqual(refusal);
    allow = true;
    expect((await frame.call(call())).response.header.functionExecutionStatus.status).toBe('Executed-Success');
    expect(ran).toHaveLength(1);
  });

  it('a guard that throws is answered with the mapped status, naming the EID', async () => {
    const { frame } = bench({ guard: async () => Promise.reject(new StatusError(STATUS_CODE.EUICC_REFUSED)) });
    expect(codes((await frame.call(call())).response.header.functionExecutionStatus)).toEqual(['Failed', '8.1', '3.8', undefined]);
  });

  it('a handler that decides its own outcome returns the whole response (a persisted flow ended Failed with output)', async () => {
    const flowAnswer = { header: { functionExecutionStatus: failed(STATUS_CODE.ISDP_EXECUTION_ERROR, ICCID) }, iccid: ICCID };
    const { frame } = bench({ handler: async () => flowAnswer });
    expect((await frame.call(call())).response).toEqual(flowAnswer);
  });

  it('a StatusError keeps its codes; any other error is 1.2 / 4.2, logged by code, never its stack', async () => {
    const refused = bench({ handler: async () => Promise.reject(new StatusError(STATUS_CODE.EID_UNKNOWN, EID)) });
    expect(codes((await refused.frame.call(call())).response.header.functionExecutionStatus)).toEqual(['Failed', '8.1.1', '3.9', EID]);
    expect(refused.warnings).toEqual([]);
    const broken = bench();
    const answer = await broken.frame.call(call({ iface: 'ES2', functionName: 'EnableProfile', body: { header: header(), eid: EID, iccid: ICCID, smsrId: 'smsr.a' } }));
    expect(codes(answer.response.header.functionExecutionStatus)).toEqual(['Failed', '1.2', '4.2', ICCID]);
    expect(broken.warnings).toEqual(['ES2.EnableProfile from mno.a failed: ERR_RSP_GENERIC: card said no']);
    expect(JSON.stringify(answer)).not.toMatch(/card said no|at .*\.ts/);
  });
});

describe('the HTTP binding before the frame', () => {
  const cases: Array<{ rejectedWith: number | undefined; http: number; expected: Array<string | undefined> }> = [
    { rejectedWith: 400, http: 200, expected: ['Failed', '1.6', '2.1', 'body'] }, // unparsable JSON: as a body the validators refuse
    { rejectedWith: 413, http: 200, expected: ['Failed', '1.6', '2.1', 'body'] },
    { rejectedWith: 415, http: 200, expected: ['Failed', '1.6', '2.1', 'body'] },
    { rejectedWith: 404, http: 404, expected: ['Failed', '1.6', '3.1', undefined] },
    { rejectedWith: undefined, http: 500, expected: ['Failed', '1.2', '4.2', undefined] },
  ];
  it.each(cases)('rejected with $rejectedWith → HTTP $http', ({ rejectedWith, http, expected }) => {
    const answer = httpAnswerBeforeFrame(rejectedWith);
    expect(answer.httpStatus).toBe(http);
    expect(codes(answer.response.header.functionExecutionStatus)).toEqual(expected);
  });

  it('answers an unreadable body like the frame answers a body that is not an object', async () => {
    const { frame } = bench();
    const viaFrame = await frame.call(call({ body: 'not an object' }));
    expect(httpAnswerBeforeFrame(400)).toEqual(viaFrame);
  });
});
