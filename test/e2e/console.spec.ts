/**
 * The operator console (docs/console.md) in headless Chromium against the in-process stack: the relay
 * reaches only console calls, the SM-SR fleet read shows an MNO only its own profiles (the attacker's
 * side: no key, another MNO), the key is entered once and never shown back, a download started from the
 * console is followed live (the profile appears and turns Enabled on the device's event stream), the
 * fleet search, and the ES4 buttons (a refused delete shows beside the device; delete asks first).
 * Screenshots: console-*.png (docs/img with RSP_UPDATE_SCREENSHOTS=1).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { generateTestPki } from '@rsp/pki';
import type { Stack } from '../../scripts/stack';
import { chromiumRunnable, SCREENSHOT_DIR, launchChromium, lowestContrast, watchPage, type BrowserGlobals } from '../support/chromium';
import { MnoClient, startE2eStack } from './support';

const runnable = chromiumRunnable('test/e2e/console.spec.ts');
const STEP_MS = 90_000;
const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const SMSR_ID = `smsr.console-${process.pid}`;
const KEY_A = randomBytes(16).toString('hex');
const KEY_B = randomBytes(16).toString('hex');

(runnable ? describe : describe.skip)('operator console', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let seen: ReturnType<typeof watchPage>;
  let consoleUrl: string;
  let mnoB: MnoClient;
  const origin = () => new URL(consoleUrl).origin;
  const profileRow = (state?: string) => page.locator(`[data-testid="profile"]${state ? `[data-state="${state}"]` : ''}`);

  async function statusMatches(expected: RegExp): Promise<void> {
    await page.waitForFunction((source) => new RegExp(source).test((globalThis as unknown as BrowserGlobals).document.querySelector('[data-testid="status"]')?.textContent ?? ''), expected.source, { timeout: 60_000 });
  }

  const smsrGet = (path: string, apiKey?: string) => fetch(`${stack.smsr.httpUrl}${path}`, { headers: apiKey ? { 'x-api-key': apiKey } : {} });

  beforeAll(async () => {
    stack = await startE2eStack('embedded', {
      pki,
      database: { kind: 'sqlite-memory' },
      ids: { smsrId: SMSR_ID, smdpId: `smdp.console-${process.pid}` },
      mnos: [
        { mnoId: 'mno.a', apiKey: KEY_A },
        { mnoId: 'mno.b', apiKey: KEY_B },
      ],
      devices: [{ model: 'oven', count: 2, firstSerial: 47_000_000 + (process.pid % 400) * 2 }],
      console: { port: 0 },
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
    });
    consoleUrl = (stack.console as NonNullable<Stack['console']>).url;
    const mnoA = new MnoClient('mno.a', KEY_A, stack.smdp.httpUrl, stack.smsr.httpUrl);
    mnoB = new MnoClient('mno.b', KEY_B, stack.smdp.httpUrl, stack.smsr.httpUrl);
    await mnoA.stock('a-iot', 3, '8949051');
    await mnoB.stock('b-iot', 1, '8949052');
    const other = await mnoB.es2('downloadProfile', { eid: stack.eids[1], smsrId: SMSR_ID, profileType: 'b-iot', enableProfile: true });
    expect(other.header.functionExecutionStatus.status).toBe('Executed-Success');
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.setDefaultTimeout(30_000);
    seen = watchPage(page);
  }, STEP_MS);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('serves the page with a strict CSP; the relay refuses everything but console calls', async () => {
    const response = await fetch(consoleUrl);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    // The inventory (Ki/OPc) and ES1 stay out of reach, even with a valid key.
    for (const [method, path] of [
      ['GET', '/api/smdp/mno/subscriptions'],
      ['POST', '/api/smdp/mno/profileTypes'],
      ['POST', '/api/smsr/gsma/es1/registerEIS'],
      ['GET', '/api/smsr/mno/fleet/../../gsma/es4/getEIS'],
      ['GET', '/api/elsewhere/anything'],
    ] as const) {
      const refused = await fetch(`${origin()}${path}`, { method, headers: { 'x-api-key': KEY_A, 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect({ path, status: refused.status }).toEqual({ path, status: 404 });
    }
  });

  it('the SM-SR fleet read shows an MNO only its own profiles; no key, no fleet', async () => {
    expect((await smsrGet('/mno/fleet')).status).toBe(401);
    expect((await smsrGet('/mno/fleet', 'not-a-key')).status).toBe(401);
    const ofB = (await (await smsrGet('/mno/fleet', KEY_B)).json()) as { devices: Array<{ eid: string; profiles: Array<{ profileType: string; state: string }> }> };
    expect(ofB.devices).toEqual([{ eid: stack.eids[1], platformType: expect.any(String), profiles: [expect.objectContaining({ profileType: 'b-iot', state: 'Enabled' })] }]);
    const ofA = (await (await smsrGet('/mno/fleet', KEY_A)).json()) as { devices: unknown[] };
    expect(ofA.devices).toEqual([]); // B's device is not in A's fleet
    const seenByA = (await (await smsrGet(`/mno/fleet/${stack.eids[1]}`, KEY_A)).json()) as { profiles: unknown[] };
    expect(seenByA.profiles).toEqual([]); // and A sees none of B's profiles on it
    expect((await smsrGet(`/mno/fleet/${'8'.repeat(32)}`, KEY_A)).status).toBe(404);
    expect((await smsrGet(`/mno/fleet/${stack.eids[1]}/events`)).status).toBe(401);
  });

  it('one MNO cannot hold more than 16 device streams open; closing one frees its place', async () => {
    const aborts: AbortController[] = [];
    const open = async () => {
      const abort = new AbortController();
      aborts.push(abort);
      return (await fetch(`${stack.smsr.httpUrl}/mno/fleet/${stack.eids[1]}/events`, { headers: { 'x-api-key': KEY_B }, signal: abort.signal })).status;
    };
    try {
      const statuses = [];
      for (let index = 0; index < 16; index += 1) statuses.push(await open());
      expect(statuses.every((status) => status === 200)).toBe(true);
      const refused = await fetch(`${stack.smsr.httpUrl}/mno/fleet/${stack.eids[1]}/events`, { headers: { 'x-api-key': KEY_B } });
      expect({ status: refused.status, body: await refused.json() }).toEqual({ status: 429, body: { error: expect.objectContaining({ code: 'ERR_SMSR_TOO_MANY_STREAMS' }) } });
      expect(await open()).toBe(429); // still full
      aborts.shift()?.abort();
      let again = 429;
      for (let attempt = 0; attempt < 50 && again === 429; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        again = await open();
      }
      expect(again).toBe(200);
    } finally {
      for (const abort of aborts) abort.abort();
    }
  });

  it('a wrong key is refused beside the key form; the right one opens the console and is never shown back', async () => {
    await page.goto(consoleUrl);
    await statusMatches(/Enter your operator credentials/);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'console-sign-in.png') });
    await page.getByTestId('key-mno').fill('mno.a');
    await page.getByTestId('key-value').fill('wrong-key');
    await page.getByTestId('key-submit').click();
    await page.getByTestId('key-error').waitFor({ state: 'visible' });
    expect(await page.getByTestId('key-error-code').textContent()).toBe('ERR_SMSR_UNAUTHENTICATED');

    await page.getByTestId('key-mno').fill('mno.a');
    await page.getByTestId('key-value').fill(KEY_A);
    await page.getByTestId('key-submit').click();
    await page.getByTestId('console').waitFor({ state: 'visible' });
    expect(await page.getByTestId('who-mno').textContent()).toBe('mno.a');
    expect(await page.getByTestId('key-value').inputValue()).toBe('');
    expect(await page.content()).not.toContain(KEY_A);
    expect(await page.getByTestId('fleet-empty').isVisible()).toBe(true);
  }, STEP_MS);

  it('the operator downloads a profile from the console and follows it live: it appears and turns Enabled', async () => {
    const eid = stack.eids[0] as string;
    await page.getByTestId('open-eid').fill(eid);
    await page.getByTestId('open-submit').click();
    await page.waitForFunction(() => (globalThis as unknown as BrowserGlobals).document.querySelector('[data-testid="device-live"]')?.textContent === 'live');
    await page.getByTestId('download-type').fill('a-iot');
    await page.getByTestId('download-smsr').fill(SMSR_ID);
    await page.getByTestId('download-submit').click();
    await profileRow('Enabled').waitFor({ timeout: 60_000 });
    await statusMatches(/Download done: ICCID \d+/);
    await page.locator('[data-testid="transaction"][data-status="Executed-Success"]').first().waitFor();
    await page.locator('[data-testid="notification"]').filter({ hasText: 'now Enabled' }).first().waitFor();
    // The SM-DP's own ES2 notification to this MNO, read back from its outbox, with its delivery state.
    await page.getByTestId('mno-notes-refresh').click();
    await page.locator('[data-testid="mno-notification"][data-interface="ES2"]').filter({ hasText: 'HandleProfile' }).first().waitFor();
    // The download was followed step by step (the SM-DP's transaction stream) and is drawn as a sequence diagram.
    await page.locator('[data-testid="tx-step"]').filter({ hasText: 'es3.SendData' }).first().waitFor();
    await page.locator('[data-testid="hop"][data-interface="ES3"]').first().waitFor();
    // Down to the eUICC: the SM-SR's records of the download's ES3 calls, with the card's scripts.
    await page.locator('[data-testid="hop"][data-interface="ES8"]').filter({ hasText: 'SM-SR → eUICC' }).first().waitFor();
    await page.waitForFunction(() => {
      const image = (globalThis as unknown as BrowserGlobals).document.querySelector('[data-testid="tx-diagram"]') as unknown as { complete: boolean; naturalWidth: number; hidden: boolean } | null;
      return image !== null && !image.hidden && image.complete && image.naturalWidth > 0;
    });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'console-download.png'), fullPage: true });
  }, STEP_MS);

  it('the fleet search finds the device by profile type and state, and nothing for a stranger string', async () => {
    await page.getByTestId('fleet-q').fill('a-iot');
    await page.getByTestId('fleet-search').click();
    await page.locator(`[data-testid="fleet-device"][data-eid="${stack.eids[0]}"]`).waitFor();
    expect(await page.locator('[data-testid="fleet-device"]').count()).toBe(1);
    await page.locator('section[aria-labelledby="fleet-title"]').screenshot({ path: join(SCREENSHOT_DIR, 'console-fleet.png') });
    await page.getByTestId('fleet-q').fill('no-such-thing');
    await page.getByTestId('fleet-search').click();
    await page.getByTestId('fleet-empty').waitFor({ state: 'visible' });
  }, STEP_MS);

  it('ES4 buttons: deleting an enabled profile is refused beside the device; disable, then delete after confirming', async () => {
    page.once('dialog', (dialog) => void dialog.accept());
    await profileRow('Enabled').getByTestId('profile-delete').click();
    await page.getByTestId('device-error').waitFor({ state: 'visible' });
    expect(await page.getByTestId('device-error-code').textContent()).toMatch(/^Failed 8\.2\.1\//);
    expect(await page.getByTestId('device-error').textContent()).toContain('disable it first');
    await page.locator('section[aria-labelledby="device-title"]').screenshot({ path: join(SCREENSHOT_DIR, 'console-error.png') });

    await profileRow('Enabled').getByTestId('profile-disable').click();
    await profileRow('Disabled').waitFor();
    page.once('dialog', (dialog) => void dialog.dismiss()); // "Cancel": nothing happens
    await profileRow('Disabled').getByTestId('profile-delete').click();
    await statusMatches(/disableProfile of …\d{4}: Executed-Success/);
    expect(await profileRow('Disabled').count()).toBe(1);
    page.once('dialog', (dialog) => void dialog.accept());
    await profileRow('Disabled').getByTestId('profile-delete').click();
    await page.waitForFunction(() => (globalThis as unknown as BrowserGlobals).document.querySelector('[data-testid="profile"]') === null);
    await page.locator('[data-testid="notification"]').filter({ hasText: 'deleted' }).first().waitFor();
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const lowest = await page.evaluate(lowestContrast, 'h1, h2, h3, p, label, button, th, td, code, span, strong, li, caption');
      expect({ scheme, ...lowest, ok: lowest.ratio >= 4.5 }).toEqual({ scheme, ...lowest, ok: true }); // WCAG AA §1.4.3
    }
    expect(seen).toEqual({ cspViolations: [], pageErrors: [] });
  }, STEP_MS);

  it('an ES4 call made from the console is followed at the SM-SR: its ES5 scripts as steps, MNO → SM-SR → eUICC hops and the diagram', async () => {
    const disable = page.locator('[data-testid="transaction"]').filter({ has: page.locator('[data-testid="transaction-interface"]', { hasText: 'ES4' }) }).filter({ hasText: 'disableProfile' }).first();
    await disable.getByTestId('transaction-open').click();
    await page.locator('[data-testid="tx-step"]').filter({ hasText: /^es5\./ }).first().waitFor();
    await page.locator('[data-testid="hop"][data-interface="ES5"]').first().waitFor();
    await page.waitForFunction(() => {
      const image = (globalThis as unknown as BrowserGlobals).document.querySelector('[data-testid="tx-diagram"]') as unknown as { complete: boolean; naturalWidth: number; hidden: boolean } | null;
      return image !== null && !image.hidden && image.complete && image.naturalWidth > 0;
    });
    expect(seen).toEqual({ cspViolations: [], pageErrors: [] });
  }, STEP_MS);
});
