/**
 * Transactions that can be followed (issue 13): each ES2 call is a resource of its MNO at the SM-DP, with
 * its steps (the ES3 calls, their outcome and time), final status and hops, and a Server-Sent Events
 * stream; `npx rsp es2 download-profile … --consent "$C" --watch` follows a download on a claimed device.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runRsp } from '../../cli/rsp';
import { createTestbed, type Testbed } from '../../scripts/testbed';

let bed: Testbed;
beforeAll(async () => {
  bed = await createTestbed({ operators: { 'mno.a': { profileTypes: { 'a-iot': 2 } }, 'mno.b': { profileTypes: { 'b-iot': 1 } } } });
}, 30_000);
afterAll(() => bed?.close());

const CALL_ID = 'watch-download-1';
const get = (path: string, mnoId?: string) =>
  fetch(`${bed.stack.smdp.httpUrl}${path}`, { headers: mnoId ? { 'x-api-key': bed.apiKey(mnoId) } : {} });

describe('ES2 transactions', () => {
  it('npx rsp … --consent "$C" --watch downloads to a claimed oven and shows each step as it happens', async () => {
    expect((await bed.owner.claim('alice', 'oven')).http).toBe(201);
    const consent = await bed.owner.consent('alice', 'oven', 'mno.a', ['DownloadProfile', 'EnableProfile']);
    const token = String(consent.body.consent);
    let stdout = '';
    let stderr = '';
    const code = await runRsp(
      ['es2', 'download-profile', '--eid', bed.eid('oven'), '--profile-type', 'a-iot', '--enable', '--smsr-id', bed.stack.smsr.smsrId, '--consent', token, '--watch', '--call-id', CALL_ID],
      {
        stdout: (text) => void (stdout += text),
        stderr: (text) => void (stderr += text),
        env: { RSP_SMDP_URL: bed.stack.smdp.httpUrl, RSP_API_KEY: bed.apiKey('mno.a'), RSP_REQUESTER_ID: 'mno.a' },
      },
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Executed-Success {2}downloadProfile {2}iccid \d+/);
    expect(stderr).toContain(`following ${CALL_ID}`);
    for (const step of ['es3.GetEIS', 'es3.CreateISDP', 'es3.SendData']) expect(stderr).toMatch(new RegExp(`✔ ${step.replace('.', '\\.')}  Executed-Success`));
    expect(stderr).toMatch(/done: Executed-Success/);
    expect(`${stdout}${stderr}`).not.toContain(token);
  }, 60_000);

  it('GET /transactions/{id}: state, steps with times, final status and hops; only for its MNO', async () => {
    const response = await get(`/transactions/${CALL_ID}`, 'mno.a');
    expect(response.status).toBe(200);
    const transaction = (await response.json()) as {
      state: string;
      status: string;
      functionName: string;
      eid: string;
      steps: Array<{ step: string; state: string; durationMs: number }>;
      hops: Array<{ from: string; to: string; interface: string; label: string; kind: string }>;
    };
    expect(transaction).toMatchObject({ state: 'done', status: 'Executed-Success', functionName: 'downloadProfile', eid: bed.eid('oven') });
    expect(transaction.steps.map((step) => step.step)).toEqual(expect.arrayContaining(['es3.CreateISDP', 'es3.SendData', 'es3.ProfileDownloadCompleted']));
    for (const step of transaction.steps) expect(step.durationMs).toEqual(expect.any(Number));
    expect(transaction.hops[0]).toMatchObject({ from: 'MNO', to: 'SM-DP', interface: 'ES2', kind: 'request' });
    expect(transaction.hops.at(-1)).toMatchObject({ from: 'SM-DP', to: 'MNO', interface: 'ES2', kind: 'response', status: 'Executed-Success' });
    expect(transaction.hops.filter((hop) => hop.interface === 'ES3').length).toBeGreaterThanOrEqual(6);
    expect(JSON.stringify(transaction)).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\./); // no consent or token in a transaction

    expect((await get(`/transactions/${CALL_ID}`, 'mno.b')).status).toBe(404); // another MNO's call is not found
    expect((await get(`/transactions/${CALL_ID}`)).status).toBe(401);
    const list = (await (await get('/transactions?state=done', 'mno.a')).json()) as { transactions: Array<{ functionCallIdentifier: string }> };
    expect(list.transactions.map((t) => t.functionCallIdentifier)).toContain(CALL_ID);
    const others = (await (await get('/transactions', 'mno.b')).json()) as { transactions: unknown[] };
    expect(others.transactions).toEqual([]);
  });

  it('the event stream of a finished transaction replays its steps and ends with done', async () => {
    const response = await get(`/transactions/${CALL_ID}/events`, 'mno.a');
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text(); // the stream ends by itself at "done"
    expect(text).toContain('"step":"es3.CreateISDP"');
    expect(text).toMatch(/"step":"done","status":"Executed-Success"/);
  });
});
