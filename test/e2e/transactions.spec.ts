/**
 * Transactions that can be followed (issue 13): each ES2 call is a resource of its MNO at the SM-DP, with
 * its steps (the ES3 calls, their outcome and time), final status and hops, and a Server-Sent Events
 * stream; each ES4 call is one at the SM-SR, its steps the ES5 scripts it ran on the card; `npx rsp es2 download-profile … --consent "$C" --watch` follows a download on a claimed device.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SequenceHop } from '@rsp/contracts';
import { startConsole } from '../../apps/console/src/console-server';
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
        env: { RSP_SMDP_URL: bed.stack.smdp.httpUrl, RSP_SMSR_URL: bed.stack.smsr.httpUrl, RSP_API_KEY: bed.apiKey('mno.a'), RSP_REQUESTER_ID: 'mno.a' },
      },
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Executed-Success {2}downloadProfile {2}iccid \d+/);
    expect(stderr).toContain(`following ${CALL_ID}`);
    for (const step of ['es3.GetEIS', 'es3.CreateISDP', 'es3.SendData']) expect(stderr).toMatch(new RegExp(`✔ ${step.replace('.', '\\.')}  Executed-Success`));
    // Each ES3 call's card scripts, from the SM-SR's record, printed indented just before the call's own line.
    expect(stderr).toMatch(/ {6}✔ es5\.[A-Z +]+ {2}9000 \(\d+ ms\)\n.* ✔ es3\.CreateISDP {2}Executed-Success/);
    expect(stderr).toMatch(/ {6}✔ es8\.[A-Z +]+ {2}(9000|61[0-9A-F]{2}) \(\d+ ms\)\n(.* {6}.*\n)*.* ✔ es3\.SendData {2}Executed-Success/);
    expect(stderr).not.toMatch(/ {6}.*\n.* ✔ es3\.GetEIS/); // the SM-SR keeps no record of GetEIS for an MNO
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

  it("the SM-SR keeps each ES3 call of that download, with the card's scripts, under the MNO it served; another MNO and its lists don't see them", async () => {
    const smsr = (path: string, mnoId?: string) => fetch(`${bed.stack.smsr.httpUrl}${path}`, { headers: mnoId ? { 'x-api-key': bed.apiKey(mnoId) } : {} });
    const download = (await (await get(`/transactions/${CALL_ID}`, 'mno.a')).json()) as { hops: Array<{ interface: string; kind: string; label: string; correlationId?: string }> };
    const es3 = download.hops.filter((hop) => hop.interface === 'ES3' && hop.kind === 'request');
    for (const hop of es3) expect(hop.correlationId).toEqual(expect.any(String)); // the ES3 call's own functionCallIdentifier
    const sendData = es3.find((hop) => hop.label === 'SendData') as { correlationId: string };
    const atSmsr = await smsr(`/transactions/${encodeURIComponent(sendData.correlationId)}`, 'mno.a');
    expect(atSmsr.status).toBe(200);
    const call = (await atSmsr.json()) as {
      interface: string;
      functionName: string;
      status: string;
      hops: Array<{ from: string; to: string; interface: string; kind: string; status?: string }>;
    };
    expect(call).toMatchObject({ interface: 'ES3', functionName: 'SendData', status: 'Executed-Success' });
    expect(call.hops[0]).toMatchObject({ from: 'SM-DP', to: 'SM-SR', interface: 'ES3', kind: 'request' });
    expect(call.hops.at(-1)).toMatchObject({ from: 'SM-SR', to: 'SM-DP', interface: 'ES3', kind: 'response' });
    const card = call.hops.filter((hop) => hop.to === 'eUICC' || hop.from === 'eUICC');
    expect(card.length).toBeGreaterThanOrEqual(2);
    expect(card.find((hop) => hop.kind === 'response')?.status).toMatch(/^(9000|61[0-9A-F]{2})$/);

    // The attacker's reads: another MNO, no key, and the lists of ES4 calls.
    expect((await smsr(`/transactions/${encodeURIComponent(sendData.correlationId)}`, 'mno.b')).status).toBe(404);
    expect((await smsr(`/transactions/${encodeURIComponent(sendData.correlationId)}`)).status).toBe(401);
    const es4List = (await (await smsr('/transactions', 'mno.a')).json()) as { transactions: Array<{ interface: string }> };
    expect(es4List.transactions.every((t) => t.interface === 'ES4')).toBe(true);
    const es3List = (await (await smsr('/transactions?interface=ES3', 'mno.a')).json()) as { transactions: Array<{ functionCallIdentifier: string }> };
    expect(es3List.transactions.map((t) => t.functionCallIdentifier)).toEqual(expect.arrayContaining(es3.filter((hop) => hop.label !== 'GetEIS').map((hop) => hop.correlationId)));
    expect(((await (await smsr('/transactions?interface=ES3', 'mno.b')).json()) as { transactions: unknown[] }).transactions).toEqual([]);
  });

  it("the operator console draws that ES2 call down to the eUICC, from both services' records", async () => {
    let drawn: SequenceHop[] = [];
    const operatorConsole = await startConsole({
      port: 0,
      smdpUrl: bed.stack.smdp.httpUrl,
      smsrUrl: bed.stack.smsr.httpUrl,
      renderSequence: (hops) => ((drawn = hops as SequenceHop[]), '<svg xmlns="http://www.w3.org/2000/svg"/>'),
    });
    try {
      const response = await fetch(`${operatorConsole.url.replace(/\/console$/, '')}/api/sequence/${CALL_ID}.svg`, { headers: { 'x-api-key': bed.apiKey('mno.a') } });
      expect(response.status).toBe(200);
      const actors = drawn.map((hop) => `${hop.from}>${hop.to}`);
      expect(actors[0]).toBe('MNO>SM-DP');
      expect(actors).toContain('SM-SR>eUICC');
      expect(actors).toContain('eUICC>SM-SR');
      // Each card hop sits between an ES3 request and its response.
      const firstCard = actors.indexOf('SM-SR>eUICC');
      expect(drawn[firstCard - 1]).toMatchObject({ interface: 'ES3', kind: 'request' });
      const other = await fetch(`${operatorConsole.url.replace(/\/console$/, '')}/api/sequence/${CALL_ID}.svg`, { headers: { 'x-api-key': bed.apiKey('mno.b') } });
      expect(other.status).toBe(404); // another MNO's call: nothing drawn, nothing read below it
    } finally {
      await operatorConsole.close();
    }
  });

  it('the event stream of a finished transaction replays its steps and ends with done', async () => {
    const response = await get(`/transactions/${CALL_ID}/events`, 'mno.a');
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text(); // the stream ends by itself at "done"
    expect(text).toContain('"step":"es3.CreateISDP"');
    expect(text).toMatch(/"step":"done","status":"Executed-Success"/);
  });
});

describe('ES4 transactions', () => {
  const smsr = (path: string, mnoId?: string) => fetch(`${bed.stack.smsr.httpUrl}${path}`, { headers: mnoId ? { 'x-api-key': bed.apiKey(mnoId) } : {} });

  it('GET /transactions/{id} at the SM-SR: the ES5 scripts of a DisableProfile with their status words, MNO → SM-SR → eUICC hops; only for its MNO', async () => {
    const eis = await bed.es4.call('GetEIS', { eid: bed.eid('oven') }, { as: 'mno.a' });
    const enabled = ((eis.body.eis as { profiles: Array<{ iccid: string; state: string; mno?: string }> }).profiles).find((profile) => profile.state === 'Enabled' && profile.iccid.startsWith('8949'));
    expect(enabled).toBeDefined();
    const consent = await bed.owner.consent('alice', 'oven', 'mno.a', ['DisableProfile']);
    const result = await bed.es4.call('DisableProfile', { eid: bed.eid('oven'), iccid: enabled?.iccid }, { as: 'mno.a', consent: String(consent.body.consent), callId: 'es4-disable-1' });
    expect(result.body).toMatchObject({ header: { functionExecutionStatus: { status: 'Executed-Success' } } });

    // A script that started during the call (the card's notification being confirmed) may end just after the answer.
    type Es4Transaction = {
      state: string;
      status: string;
      steps: Array<{ step: string; state: string; status: string; durationMs: number }>;
      hops: Array<{ from: string; to: string; interface: string; kind: string; status?: string }>;
    };
    const read = async (): Promise<Es4Transaction> => {
      const response = await smsr('/transactions/es4-disable-1', 'mno.a');
      expect(response.status).toBe(200);
      return (await response.json()) as Es4Transaction;
    };
    let transaction = await read();
    for (let tries = 0; tries < 50 && transaction.steps.some((step) => step.state === 'running'); tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      transaction = await read();
    }
    expect(transaction).toMatchObject({ state: 'done', status: 'Executed-Success', functionName: 'disableProfile', eid: bed.eid('oven') });
    expect(transaction.steps.length).toBeGreaterThan(0);
    for (const step of transaction.steps) expect(step).toMatchObject({ step: expect.stringMatching(/^es5\./), state: 'done', status: '9000', durationMs: expect.any(Number) });
    expect(transaction.hops[0]).toMatchObject({ from: 'MNO', to: 'SM-SR', interface: 'ES4', kind: 'request' });
    expect(transaction.hops.filter((hop) => hop.from === 'SM-SR' && hop.to === 'eUICC' && hop.interface === 'ES5').length).toBe(transaction.steps.length);
    expect(transaction.hops.find((hop) => hop.to === 'MNO')).toMatchObject({ from: 'SM-SR', interface: 'ES4', kind: 'response', status: 'Executed-Success' });
    expect(JSON.stringify(transaction)).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\./);

    expect((await smsr('/transactions/es4-disable-1', 'mno.b')).status).toBe(404);
    const anonymous = await smsr('/transactions/es4-disable-1');
    expect([anonymous.status, await anonymous.json()]).toEqual([401, { error: { code: 'ERR_SMSR_UNAUTHENTICATED', message: expect.any(String) } }]);
    const stream = await (await smsr('/transactions/es4-disable-1/events', 'mno.a')).text();
    expect(stream).toMatch(/"step":"done","status":"Executed-Success"/);
  });
});

describe('ES4 from the CLI', () => {
  it('npx rsp es4 enable-profile … --consent "$C" --watch enables a profile on the claimed oven and shows its card scripts as they run', async () => {
    const eis = await bed.es4.call('GetEIS', { eid: bed.eid('oven') }, { as: 'mno.a' });
    const disabled = (eis.body.eis as { profiles: Array<{ iccid: string; state: string }> }).profiles.find((profile) => profile.state === 'Disabled' && profile.iccid.startsWith('8949'));
    expect(disabled).toBeDefined(); // the one the ES4 DisableProfile above disabled
    const token = String((await bed.owner.consent('alice', 'oven', 'mno.a', ['EnableProfile'])).body.consent);
    let stdout = '';
    let stderr = '';
    const code = await runRsp(
      ['es4', 'enable-profile', '--eid', bed.eid('oven'), '--iccid', String(disabled?.iccid), '--consent', token, '--watch', '--call-id', 'es4-enable-cli-1'],
      {
        stdout: (text) => void (stdout += text),
        stderr: (text) => void (stderr += text),
        env: { RSP_SMSR_URL: bed.stack.smsr.httpUrl, RSP_API_KEY: bed.apiKey('mno.a'), RSP_REQUESTER_ID: 'mno.a' },
      },
    );
    expect([code, stdout]).toEqual([0, expect.stringMatching(/^Executed-Success {2}enableProfile/)]);
    expect(stderr).toContain('following es4-enable-cli-1');
    expect(stderr).toMatch(/✔ es5\.[A-Z +]+ {2}9000 \(\d+ ms\)/);
    expect(stderr).toMatch(/done: Executed-Success/);
    expect(`${stdout}${stderr}`).not.toContain(token);
  }, 60_000);
});

describe('MNO notifications read back (GET /mno/notifications)', () => {
  it('each service lists the notifications it sent to the calling MNO, with their delivery state; another MNO sees none, no key is 401', async () => {
    type Listed = { notifications: Array<{ interface: string; delivery: string; notification: { interface: string; function: string; body: { eid?: string } } }> };
    const read = async (base: string, mnoId?: string) => fetch(`${base}/mno/notifications`, { headers: mnoId ? { 'x-api-key': bed.apiKey(mnoId) } : {} });
    // The download (ES2) and the disable (ES4) above each notified mno.a; the outbox delivers right after the commit.
    let es2: Listed = { notifications: [] };
    let es4: Listed = { notifications: [] };
    for (let tries = 0; tries < 50 && !(es2.notifications.some((n) => n.delivery === 'delivered') && es4.notifications.length > 0); tries += 1) {
      es2 = (await (await read(bed.stack.smdp.httpUrl, 'mno.a')).json()) as Listed;
      es4 = (await (await read(bed.stack.smsr.httpUrl, 'mno.a')).json()) as Listed;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(es2.notifications[0]).toMatchObject({ interface: 'ES2', notification: { interface: 'ES2', function: expect.stringMatching(/^Handle/) } });
    expect(es2.notifications.some((n) => n.delivery === 'delivered')).toBe(true);
    expect(es4.notifications.map((n) => n.notification.function)).toContain('HandleProfileDisabledNotification');
    for (const [base, prefix] of [[bed.stack.smdp.httpUrl, 'ERR_SMDP'], [bed.stack.smsr.httpUrl, 'ERR_SMSR']] as const) {
      expect(((await (await read(base, 'mno.b')).json()) as Listed).notifications).toEqual([]);
      expect((await read(base)).status).toBe(401);
      for (const limit of ['0', '201', 'ten']) {
        const bad = await fetch(`${base}/mno/notifications?limit=${limit}`, { headers: { 'x-api-key': bed.apiKey('mno.a') } });
        expect([limit, bad.status, ((await bad.json()) as { error: { code: string } }).error.code]).toEqual([limit, 400, `${prefix}_BAD_QUERY`]);
      }
    }
  });
});

