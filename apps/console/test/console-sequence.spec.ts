/**
 * An ES2 call's diagram down to the eUICC (apps/console/src/splice-hops.ts, console-server.ts): the console
 * reads the SM-DP's transaction, then, with the same operator key, the SM-SR's record of each ES3 call in
 * it (by the hop's correlationId), and draws the card's scripts right below the ES3 request they served.
 * Stub services stand in for the SM-DP and the SM-SR; the renderer is a spy. No browser needed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SequenceHop } from '@rsp/contracts';
import { startConsole, type ConsoleHandle } from '../src/console-server';
import { es3CallIds, spliceCardHops } from '../src/splice-hops';

const KEY = 'console-sequence-key';
const t0 = 1_700_000_000_000;
const hop = (from: SequenceHop['from'], to: SequenceHop['to'], iface: SequenceHop['interface'], label: string, kind: SequenceHop['kind'], at: number, correlationId?: string): SequenceHop => ({
  from,
  to,
  interface: iface,
  label,
  kind,
  at,
  ...(correlationId ? { correlationId } : {}),
});
const DOWNLOAD: SequenceHop[] = [
  hop('MNO', 'SM-DP', 'ES2', 'downloadProfile', 'request', t0, 'dl-1'),
  hop('SM-DP', 'SM-SR', 'ES3', 'CreateISDP', 'request', t0 + 1, 'es3-create'),
  hop('SM-SR', 'SM-DP', 'ES3', 'CreateISDP', 'response', t0 + 9, 'es3-create'),
  hop('SM-DP', 'SM-SR', 'ES3', 'SendData', 'request', t0 + 10, 'es3-other-mno'),
  hop('SM-SR', 'SM-DP', 'ES3', 'SendData', 'response', t0 + 19, 'es3-other-mno'),
  hop('SM-DP', 'MNO', 'ES2', 'downloadProfile', 'response', t0 + 20, 'dl-1'),
];
const CREATE_AT_SMSR: SequenceHop[] = [
  hop('SM-DP', 'SM-SR', 'ES3', 'CreateISDP', 'request', t0 + 2, 'es3-create'),
  hop('SM-SR', 'eUICC', 'ES5', 'INSTALL', 'request', t0 + 3),
  hop('eUICC', 'SM-SR', 'ES5', 'INSTALL', 'response', t0 + 4),
  hop('SM-SR', 'SM-DP', 'ES3', 'CreateISDP', 'response', t0 + 8, 'es3-create'),
];

describe('splice-hops', () => {
  it('lists the ES3 requests once each, and puts only the card hops after the request they served', () => {
    expect(es3CallIds([...DOWNLOAD, DOWNLOAD[1] as SequenceHop])).toEqual(['es3-create', 'es3-other-mno']);
    const spliced = spliceCardHops(DOWNLOAD, new Map([['es3-create', CREATE_AT_SMSR]]));
    expect(spliced.map((h) => `${h.from}>${h.to} ${h.label} ${h.kind}`)).toEqual([
      'MNO>SM-DP downloadProfile request',
      'SM-DP>SM-SR CreateISDP request',
      'SM-SR>eUICC INSTALL request',
      'eUICC>SM-SR INSTALL response',
      'SM-SR>SM-DP CreateISDP response',
      'SM-DP>SM-SR SendData request',
      'SM-SR>SM-DP SendData response',
      'SM-DP>MNO downloadProfile response',
    ]);
  });
});

describe('console: an SM-DP transaction drawn down to the eUICC', () => {
  const seen: Array<{ service: string; path: string; key: string | undefined }> = [];
  let rendered: unknown[] = [];
  let smdp: Server;
  let smsr: Server;
  let operatorConsole: ConsoleHandle;

  const serve = (service: string, route: (path: string, response: ServerResponse) => void): Promise<Server> =>
    new Promise((resolve) => {
      const server = createServer((request: IncomingMessage, response: ServerResponse) => {
        const path = new URL(request.url ?? '/', 'http://stub').pathname;
        const key = request.headers['x-api-key'];
        seen.push({ service, path, key: typeof key === 'string' ? key : undefined });
        if (key !== KEY) return void response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"ERR_TEST_KEY"}}');
        route(path, response);
      });
      server.listen(0, '127.0.0.1', () => resolve(server));
    });
  const json = (response: ServerResponse, status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const url = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  beforeAll(async () => {
    smdp = await serve('smdp', (path, response) => (path === '/transactions/dl-1' ? json(response, 200, { hops: DOWNLOAD }) : json(response, 404, { error: { code: 'ERR_SMDP_TRANSACTION_NOT_FOUND' } })));
    // The SM-SR shows this MNO the CreateISDP that served it; the other ES3 call served another MNO: 404.
    smsr = await serve('smsr', (path, response) =>
      path === '/transactions/es3-create' ? json(response, 200, { interface: 'ES3', hops: CREATE_AT_SMSR }) : json(response, 404, { error: { code: 'ERR_SMSR_TRANSACTION_NOT_FOUND' } }),
    );
    operatorConsole = await startConsole({
      port: 0,
      smdpUrl: url(smdp),
      smsrUrl: url(smsr),
      renderSequence: (hops) => {
        rendered = hops;
        return '<svg xmlns="http://www.w3.org/2000/svg"/>';
      },
    });
  });
  afterAll(async () => {
    await operatorConsole?.close();
    for (const server of [smdp, smsr]) {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
  });

  const base = () => operatorConsole.url.replace(/\/console$/, '');

  it('reads each ES3 call at the SM-SR with the same key and draws the card hops below it; a call the SM-SR does not show stays without', async () => {
    const response = await fetch(`${base()}/api/sequence/dl-1.svg`, { headers: { 'x-api-key': KEY } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect((rendered as SequenceHop[]).map((h) => `${h.from}>${h.to} ${h.label}`)).toEqual([
      'MNO>SM-DP downloadProfile',
      'SM-DP>SM-SR CreateISDP',
      'SM-SR>eUICC INSTALL',
      'eUICC>SM-SR INSTALL',
      'SM-SR>SM-DP CreateISDP',
      'SM-DP>SM-SR SendData',
      'SM-SR>SM-DP SendData',
      'SM-DP>MNO downloadProfile',
    ]);
    const smsrReads = seen.filter((read) => read.service === 'smsr');
    expect(smsrReads.map((read) => read.path).sort()).toEqual(['/transactions/es3-create', '/transactions/es3-other-mno']);
    expect(smsrReads.every((read) => read.key === KEY)).toBe(true);
  });

  it('gives the page the same hops as JSON, for its list', async () => {
    const response = await fetch(`${base()}/api/sequence/dl-1.json`, { headers: { 'x-api-key': KEY } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const { hops } = (await response.json()) as { hops: SequenceHop[] };
    expect(hops).toEqual(rendered);
    expect(hops.filter((h) => h.from === 'eUICC' || h.to === 'eUICC')).toHaveLength(2);
  });

  it("without the operator's key nothing is read below the SM-DP's refusal", async () => {
    seen.length = 0;
    const response = await fetch(`${base()}/api/sequence/dl-1.svg`);
    expect(response.status).toBe(401);
    expect(seen.filter((read) => read.service === 'smsr')).toEqual([]);
  });
});
