/**
 * The console's transaction view against the documented shapes (docs/console.md): stub SM-DP and SM-SR
 * HTTP servers stand in for the services, so this pins the console's side of the contract: a download
 * started from the page is followed on `GET /transactions/{id}/events` (steps shown as they come), then
 * its hops (`SequenceHop[]`) are listed and the diagram from the console's renderer is shown as an image,
 * under the strict CSP. The relay forwards the operator's key and nothing else of the page's.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import type { SequenceHop } from '@rsp/contracts';
import { startConsole, type ConsoleHandle } from '../src/console-server';
import { chromiumRunnable, launchChromium, watchPage, type BrowserGlobals } from '../../../test/support/chromium';

const runnable = chromiumRunnable('apps/console/test/console-transactions.spec.ts');
const EID = '89049032123451234512345678901235';
const KEY = 'console-test-key';

interface Stub {
  url: string;
  seen: Array<{ method: string; path: string; headers: IncomingMessage['headers'] }>;
  close(): Promise<void>;
}

async function stub(handler: (request: IncomingMessage, response: ServerResponse, path: string) => void): Promise<Stub> {
  const seen: Stub['seen'] = [];
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://stub').pathname;
    seen.push({ method: request.method ?? '', path, headers: request.headers });
    if (request.headers['x-api-key'] !== KEY) return void response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"ERR_TEST_KEY"}}');
    handler(request, response, path);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const json = (response: ServerResponse, body: unknown) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

(runnable ? describe : describe.skip)('console: a transaction followed live and drawn', () => {
  let smdp: Stub;
  let smsr: Stub;
  let operatorConsole: ConsoleHandle;
  let browser: Browser;
  let page: Page;
  let callId = '';
  let hopsRendered: unknown[] = [];
  const t0 = Date.now();
  const hops = (id: string): SequenceHop[] => [
    { from: 'MNO', to: 'SM-DP', interface: 'ES2', label: 'DownloadProfile', kind: 'request', at: t0, durationMs: 420, status: 'Executed-Success', correlationId: id },
    { from: 'SM-DP', to: 'SM-SR', interface: 'ES3', label: 'CreateISDP', kind: 'request', at: t0 + 10, durationMs: 120, status: 'Executed-Success' },
    { from: 'SM-SR', to: 'eUICC', interface: 'ES5', label: 'INSTALL [for install]', kind: 'request', at: t0 + 20, durationMs: 40, status: '9000' },
    { from: 'SM-DP', to: 'MNO', interface: 'ES2', label: 'DownloadProfile', kind: 'response', at: t0 + 420, status: 'Executed-Success', correlationId: id },
  ];

  beforeAll(async () => {
    smsr = await stub((_request, response, path) => {
      if (path === `/mno/fleet/${EID}/events`) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(`event: device\ndata: ${JSON.stringify({ eid: EID, platformType: 'oven', profiles: [] })}\n\n`);
        return;
      }
      json(response, path === '/mno/fleet' ? { devices: [], truncated: false } : { eid: EID, platformType: 'oven', profiles: [] });
    });
    let release: () => void = () => undefined;
    const followed = new Promise<void>((resolve) => (release = resolve));
    smdp = await stub((request, response, path) => {
      if (path === '/gsma/es2/downloadProfile') {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          callId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { header: { functionCallIdentifier: string } }).header.functionCallIdentifier;
          // Answers only once the page follows the steps: the call is really watched while it runs.
          void followed.then(() => json(response, { header: { functionExecutionStatus: { status: 'Executed-Success' } }, iccid: '8949000000000000017' }));
        });
        return;
      }
      const events = /^\/transactions\/([^/]+)\/events$/.exec(path);
      if (events) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const steps = ['validate', 'es3.CreateISDP', 'es3.SendData', 'es3.ProfileDownloadCompleted'];
        steps.forEach((step, index) => setTimeout(() => response.write(`event: step\ndata: ${JSON.stringify({ step, state: 'running' })}\n\n`), 50 * (index + 1)));
        setTimeout(() => {
          response.write(`event: step\ndata: ${JSON.stringify({ step: 'done', status: 'Executed-Success' })}\n\n`);
          release();
        }, 300);
        return;
      }
      const one = /^\/transactions\/([^/]+)$/.exec(path);
      if (one) return json(response, { functionCallIdentifier: one[1], state: 'Executed-Success', hops: hops(one[1] as string) });
      json(response, { transactions: [] });
    });
    operatorConsole = await startConsole({
      port: 0,
      smdpUrl: smdp.url,
      smsrUrl: smsr.url,
      renderSequence: (given) => {
        hopsRendered = given;
        return `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="120"><text x="10" y="20">${given.length} hops</text></svg>`;
      },
    });
    browser = await launchChromium();
    page = await browser.newPage();
    page.setDefaultTimeout(20_000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await operatorConsole?.close();
    await smdp?.close();
    await smsr?.close();
  });

  it('follows the download step by step, then lists its hops and shows the diagram; only the key is forwarded', async () => {
    const seen = watchPage(page);
    await page.goto(operatorConsole.url);
    await page.getByTestId('key-mno').fill('mno.test');
    await page.getByTestId('key-value').fill(KEY);
    await page.getByTestId('key-submit').click();
    await page.getByTestId('console').waitFor({ state: 'visible' });
    await page.getByTestId('open-eid').fill(EID);
    await page.getByTestId('open-submit').click();
    await page.getByTestId('download-type').fill('demo-iot');
    await page.getByTestId('download-smsr').fill('smsr.test');
    await page.getByTestId('download-submit').click();

    await page.locator('[data-testid="tx-step"]').filter({ hasText: 'es3.SendData' }).waitFor();
    await page.locator('[data-testid="hop"][data-interface="ES5"]').waitFor();
    expect(await page.locator('[data-testid="hop"]').count()).toBe(4);
    await page.waitForFunction(() => {
      const image = (globalThis as unknown as BrowserGlobals).document.querySelector('[data-testid="tx-diagram"]') as unknown as { complete: boolean; naturalWidth: number; hidden: boolean } | null;
      return image !== null && !image.hidden && image.complete && image.naturalWidth > 0;
    });
    expect(await page.getByTestId('tx-diagram').getAttribute('src')).toMatch(/^blob:/);
    expect(hopsRendered).toHaveLength(4);
    await page.locator(`[data-testid="transaction"][data-id="${callId}"][data-status="Executed-Success"]`).waitFor();
    expect(await page.getByTestId('tx-id').textContent()).toBe(callId);

    const upstream = [...smdp.seen, ...smsr.seen];
    expect(upstream.map((call) => `${call.method} ${call.path}`)).toEqual(
      expect.arrayContaining(['POST /gsma/es2/downloadProfile', `GET /transactions/${callId}/events`, `GET /transactions/${callId}`, `GET /mno/fleet/${EID}/events`]),
    );
    for (const call of upstream) {
      expect(call.headers['x-api-key']).toBe(KEY);
      expect(Object.keys(call.headers).filter((name) => /cookie|authorization|referer|origin/i.test(name))).toEqual([]);
    }
    expect(seen).toEqual({ cspViolations: [], pageErrors: [] });
  }, 60_000);
});
