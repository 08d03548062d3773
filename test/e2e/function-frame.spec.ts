/**
 * One SGP.02 frame (libs/contracts/src/function-frame.ts), one answer: the same bad inputs sent to ES1 (HTTP,
 * the EUM), ES2 (HTTP, the MNO), ES3 (MQTT service requests, as an SM-DP identity) and ES4 (HTTP, the MNO)
 * of an embedded stack get the same functionExecutionStatus (and, on HTTP, the same status code).
 *
 * A call "in progress" is a claim held open in the interface's own idempotency store, as a first call
 * still running (or a crashed one a resumed flow will settle) looks to a repeat; the repeat waits for it
 * (docs/services.md "HTTP binding"): busy after `replayWaitMs`, Expired when its validityPeriod ends first.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { es3Pattern, statusOnly, type FrameInterface, type FunctionFrame } from '@rsp/contracts';
import { connectMqtt, RspRequester } from '@rsp/mqtt-transport';
import { generateTestPki } from '@rsp/pki';
import { buildSignedEis } from '../../simulator/src/eum';
import { DEMO_IDS, startStack, type Stack } from '../../scripts/stack';
import { principal } from '../support/brokers';
import type { ExecutionStatus, FunctionResult } from './support';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const MNO = { mnoId: 'mno.frame', apiKey: `frame-${randomUUID()}` };
const SMDP_CALLER = 'smdp.frame'; // an SM-DP identity of its own: the stack's SM-DP holds `smdp.demo`
const REPLAY_WAIT_MS = 1_500;

let stack: Stack;
let mqtt: MqttClient;
let es3: RspRequester;
let eids: [string, string];
const held: Array<(response: FunctionResult) => void> = [];

beforeAll(async () => {
  stack = await startStack({
    pki,
    database: { kind: 'sqlite-memory' },
    mnos: [MNO],
    devices: [{ model: 'oven', count: 2, firstSerial: 61_000_000 + (process.pid % 1000) * 3 }],
    extraPrincipals: [principal(SMDP_CALLER, 'sm-dp')],
    replayWaitMs: REPLAY_WAIT_MS,
    logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
  });
  eids = stack.eids as [string, string];
  mqtt = await connectMqtt({ url: stack.mqttUrl, credentials: stack.credentialsFor(SMDP_CALLER) });
  es3 = new RspRequester({ client: mqtt, caller: SMDP_CALLER, timeoutMs: 10_000 });
}, 60_000);

afterAll(async () => {
  for (const release of held) release(statusOnly({ status: 'Executed-Success' }));
  await es3?.close();
  await mqtt?.endAsync();
  await stack?.close();
});

/** Sent as is: an object is JSON, a string is the raw HTTP body (or the ES3 request data). */
type Body = Record<string, unknown> | string;
interface Reply {
  httpStatus?: number;
  status: ExecutionStatus;
}

interface Interface {
  iface: FrameInterface;
  /** The function the rows call, as this transport names it. */
  fn: string;
  /** Two valid requests (different parameters) for a header. */
  request(header: Record<string, unknown>, which: 0 | 1): Record<string, unknown>;
  requester: string;
  send(fn: string, body: Body): Promise<Reply>;
  frame(): FunctionFrame;
}

async function http(url: string, body: Body, apiKey?: string): Promise<Reply> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const result = (await response.json()) as FunctionResult;
  return { httpStatus: response.status, status: result.header.functionExecutionStatus };
}

const eisOf = (eid: string) => buildSignedEis(stack.fleetOf(eid).pool.snapshot(eid), { eumId: DEMO_IDS.eumId, smsrId: DEMO_IDS.smsrId, eumPrivateKey: pki.eum.privateKey });

const INTERFACES: Interface[] = [
  {
    iface: 'ES1',
    fn: 'registerEIS',
    requester: DEMO_IDS.eumId, // configured without an API key: the EIS signature proves it
    request: (header, which) => ({ header, eis: eisOf(eids[which]) }),
    send: (fn, body) => http(`${stack.smsr.httpUrl}/gsma/es1/${fn}`, body),
    frame: () => stack.smsr.service.frame,
  },
  {
    iface: 'ES2',
    fn: 'getEIS',
    requester: MNO.mnoId,
    request: (header, which) => ({ header, eid: eids[which], smsrId: DEMO_IDS.smsrId }),
    send: (fn, body) => http(`${stack.smdp.httpUrl}/gsma/es2/${fn}`, body, MNO.apiKey),
    frame: () => stack.smdp.frame,
  },
  {
    iface: 'ES3',
    fn: 'GetEIS',
    requester: SMDP_CALLER,
    request: (header, which) => ({ header, eid: eids[which] }),
    send: async (fn, body) => ({ status: (await es3.request<FunctionResult>(es3Pattern(DEMO_IDS.smsrId, fn), body)).header.functionExecutionStatus }),
    frame: () => stack.smsr.service.frame,
  },
  {
    iface: 'ES4',
    fn: 'getEIS',
    requester: MNO.mnoId,
    request: (header, which) => ({ header, eid: eids[which] }),
    send: (fn, body) => http(`${stack.smsr.httpUrl}/gsma/es4/${fn}`, body, MNO.apiKey),
    frame: () => stack.smsr.service.frame,
  },
];

const header = (target: Interface, extra: Record<string, unknown> = {}) => ({ functionRequesterIdentifier: target.requester, functionCallIdentifier: randomUUID(), ...extra });

/** Holds `body`'s claim open in the interface's store, as a first call still running; returns what ends it. */
async function holdInProgress(target: Interface, body: Record<string, unknown>): Promise<(response: FunctionResult) => void> {
  const { idempotency, key, callId, fingerprint } = target.frame().claimOf(target.iface, target.fn, body);
  let release: (response: FunctionResult) => void = () => undefined;
  const running = new Promise<FunctionResult>((resolve) => (release = resolve));
  held.push(release);
  void idempotency.claimOrReplay(key, callId, () => running, fingerprint);
  await new Promise((resolve) => setTimeout(resolve, 50)); // the claim row is written
  return release;
}

interface Row {
  title: string;
  /** Sends the bad input to one interface, after any preparation. */
  run(target: Interface): Promise<Reply>;
  expected: { status: string; subjectCode: string; reasonCode: string; subjectIdentifier?: string | ((target: Interface) => string | undefined) };
  /** How long the answer may take at least (the in-progress waits). */
  waitsAtLeastMs?: number;
}

const ROWS: Row[] = [
  {
    title: 'an unreadable body (not JSON)',
    run: (target) => target.send(target.fn, '{not json'),
    expected: { status: 'Failed', subjectCode: '1.6', reasonCode: '2.1', subjectIdentifier: 'body' },
  },
  {
    title: 'a body without its header',
    run: (target) => target.send(target.fn, { eid: eids[0] }),
    expected: { status: 'Failed', subjectCode: '1.6', reasonCode: '2.2', subjectIdentifier: 'header' },
  },
  {
    title: 'an unknown function',
    run: (target) => target.send('frobnicate', target.request(header(target), 0)),
    expected: { status: 'Failed', subjectCode: '1.6', reasonCode: '3.1', subjectIdentifier: 'frobnicate' },
  },
  {
    title: 'a functionCallIdentifier reused with another request',
    run: async (target) => {
      const first = header(target);
      await target.send(target.fn, target.request(first, 0)); // answered (for ES1: Failed, the card is registered), and stored
      return target.send(target.fn, target.request(first, 1));
    },
    expected: { status: 'Failed', subjectCode: '1.6', reasonCode: '3.3', subjectIdentifier: 'header.functionCallIdentifier' },
  },
  {
    title: 'a repeat of a call still in progress (busy once replayWaitMs is over)',
    run: async (target) => {
      const body = target.request(header(target), 0);
      await holdInProgress(target, body);
      return target.send(target.fn, body);
    },
    expected: { status: 'Failed', subjectCode: '1.2', reasonCode: '4.4' },
    waitsAtLeastMs: REPLAY_WAIT_MS,
  },
  {
    title: 'a validityPeriod that ends before the call can answer (a repeat of a running call, 1 s)',
    run: async (target) => {
      const body = target.request(header(target, { validityPeriod: 1 }), 0);
      await holdInProgress(target, body);
      return target.send(target.fn, body);
    },
    expected: { status: 'Expired', subjectCode: '1.6', reasonCode: '5.3', subjectIdentifier: (target) => (target.iface === 'ES1' ? undefined : eids[0]) },
    waitsAtLeastMs: 1_000,
  },
];

describe.each(ROWS)('$title', (row) => {
  it('gets the same answer on ES1, ES2, ES3 (MQTT) and ES4', async () => {
    const started = Date.now();
    const replies = await Promise.all(INTERFACES.map(async (target) => ({ iface: target.iface, target, reply: await row.run(target) })));
    for (const { iface, target, reply } of replies) {
      const identifier = typeof row.expected.subjectIdentifier === 'function' ? row.expected.subjectIdentifier(target) : row.expected.subjectIdentifier;
      const statusCodeData = { subjectCode: row.expected.subjectCode, reasonCode: row.expected.reasonCode, ...(identifier !== undefined ? { subjectIdentifier: identifier } : {}) };
      expect({ iface, status: reply.status.status, statusCodeData: reply.status.statusCodeData }).toEqual({
        iface,
        status: row.expected.status,
        statusCodeData: { ...statusCodeData, message: expect.any(String) },
      });
      if (iface !== 'ES3') expect({ iface, httpStatus: reply.httpStatus }).toEqual({ iface, httpStatus: 200 });
    }
    // One message per code pair, whichever interface answered.
    expect(new Set(replies.map(({ reply }) => reply.status.statusCodeData?.message)).size).toBe(1);
    if (row.waitsAtLeastMs !== undefined) expect(Date.now() - started).toBeGreaterThanOrEqual(row.waitsAtLeastMs - 50);
  }, 30_000);
});

it('a repeat that waited gets the first call\'s answer once it is stored, on every interface', async () => {
  const answered = statusOnly({ status: 'Executed-Success' });
  const replies = await Promise.all(
    INTERFACES.map(async (target) => {
      const body = target.request(header(target), 0);
      const release = await holdInProgress(target, body);
      setTimeout(() => release(answered), 300);
      return target.send(target.fn, body);
    }),
  );
  expect(replies.map((reply) => reply.status)).toEqual(INTERFACES.map(() => ({ status: 'Executed-Success' })));
}, 30_000);

it('an ES3 request whose data is null, or not an object, is answered by the frame (1.6), never left unanswered', async () => {
  // The SM-SR's ES3 controller reads the EID and call id of a request before the frame does (to record it
  // for the MNO it serves): a malformed body must still reach the frame, never end the call unanswered.
  const es3Target = INTERFACES.find((target) => target.iface === 'ES3') as Interface;
  for (const body of [null, 42, 'text']) {
    const reply = await es3Target.send(es3Target.fn, body as unknown as Body);
    expect(reply.status).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.6' } });
  }
}, 30_000);
