/**
 * The owner portal as a person who bought an oven uses it, in headless Chromium against the whole
 * in-process stack (scripts/stack.ts: SM-SR, SM-DP, virtual eUICCs, owner registry, dev IdP): claim
 * (a wrong code first: the error shows beside the form), give carol access, give and withdraw an
 * operator permission, see the operator and plan the operators report, move to another operator with
 * a PAC, sell with a step-up sign-in that keeps the chosen fields, a phone-sized run, and a claim done
 * with the keyboard only. Screenshots: portal-*.png (docs/img with RSP_UPDATE_SCREENSHOTS=1).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { enabledIsdp } from '@rsp/card';
import { generateTestPki } from '@rsp/pki';
import type { Stack } from '../../scripts/stack';
import { chromiumRunnable, SCREENSHOT_DIR, launchChromium, lowestContrast, watchPage, type BrowserGlobals } from '../support/chromium';
import { apiClient, OwnerClient } from './owner-support';
import { MnoClient, startE2eStack } from './support';

const runnable = chromiumRunnable('test/e2e/portal-owner.spec.ts');
const STEP_MS = 90_000;
const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const MAKER_KEY = randomBytes(16).toString('hex');
const SMSR_ID = `smsr.portal-${process.pid}`;

(runnable ? describe : describe.skip)('owner portal: an oven owner in the browser', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let seen: ReturnType<typeof watchPage>;
  let portalUrl: string;
  let mnoA: MnoClient;
  let mnoB: MnoClient;
  const ovens: Array<{ eid: string; deviceUrl: string; claimCode: string }> = [];
  const registry = () => stack.registry as NonNullable<Stack['registry']>;
  const idp = () => stack.idp as NonNullable<Stack['idp']>;
  const device = (eid: string) => page.locator(`[data-testid="device"][data-eid="${eid}"]`);
  const card = (eid: string) => stack.fleetOf(eid).pool.snapshot(eid);

  async function statusMatches(expected: RegExp, target: Page = page): Promise<string> {
    await target.waitForFunction((source) => new RegExp(source).test((globalThis as unknown as BrowserGlobals).document.querySelector('[data-testid="status"]')?.textContent ?? ''), expected.source, { timeout: 60_000 });
    return (await target.getByTestId('status').textContent()) ?? '';
  }

  async function logIn(user: string, button = 'sign-in', target: Page = page): Promise<void> {
    await target.getByTestId(button).click();
    await target.waitForURL(/\/interaction\//);
    await target.fill('input[name="username"]', user);
    await target.fill('input[name="password"]', user);
    await target.click('button[type="submit"]');
    await target.waitForURL(portalUrl);
    await statusMatches(new RegExp(`Signed in as ${user}\\.`), target);
  }

  beforeAll(async () => {
    const keyA = randomBytes(16).toString('hex');
    const keyB = randomBytes(16).toString('hex');
    stack = await startE2eStack('embedded', {
      pki,
      database: { kind: 'sqlite-memory' },
      ids: { smsrId: SMSR_ID, smdpId: `smdp.portal-${process.pid}` },
      mnos: [
        { mnoId: 'mno.a', apiKey: keyA },
        { mnoId: 'mno.b', apiKey: keyB },
      ],
      devices: [{ model: 'oven', count: 2, firstSerial: 46_000_000 + (process.pid % 400) * 2 }],
      owners: { registryUrl: 'https://owners.rsp.test', makers: [{ makerId: 'oven-maker', makerDomain: 'oven-maker.example', apiKey: MAKER_KEY }] },
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
    });
    mnoA = new MnoClient('mno.a', keyA, stack.smdp.httpUrl, stack.smsr.httpUrl);
    mnoB = new MnoClient('mno.b', keyB, stack.smdp.httpUrl, stack.smsr.httpUrl);
    await mnoA.stock('a-iot', 2, '8949041');
    await mnoB.stock('b-iot', 2, '8949042');
    const maker = apiClient(registry().httpUrl, MAKER_KEY);
    for (const [index, eid] of stack.eids.entries()) {
      const claimCode = `OVEN-${randomBytes(3).toString('hex').toUpperCase()}`;
      const reply = await maker.post('/makers/devices', { eid, deviceId: `oven-${index + 1}`, model: 'Oven X1', claimCode });
      expect(reply.status).toBe(201);
      ovens.push({ eid, deviceUrl: reply.body.deviceUrl as string, claimCode });
    }
    portalUrl = `${registry().httpUrl}/portal`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(20_000);
    seen = watchPage(page);
  }, STEP_MS);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('alice signs in and claims the oven; a wrong code shows beside the claim form in plain words', async () => {
    const oven = ovens[0]!;
    await page.goto(portalUrl);
    await statusMatches(/^Signed out\.$/);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'portal-sign-in.png') });
    await logIn('alice');
    await page.getByTestId('claim-device-url').fill(oven.deviceUrl);
    await page.getByTestId('claim-code').fill('WRONG-CODE');
    await page.getByTestId('claim-submit').click();
    const error = page.getByTestId('claim-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toContain('The claim code does not match this device');
    expect(await page.getByTestId('claim-error-code').textContent()).toBe('ERR_OWNER_CLAIM_CODE_INVALID');
    expect(await page.getByTestId('grant-error').isVisible()).toBe(false); // only beside the form that failed
    await page.locator('form[data-testid="claim-form"]').screenshot({ path: join(SCREENSHOT_DIR, 'portal-error-beside-form.png') });

    await page.getByTestId('claim-code').fill(oven.claimCode);
    await page.getByTestId('claim-submit').click();
    await statusMatches(/Device claimed/);
    expect(await error.isVisible()).toBe(false);
    expect(await device(oven.eid).getAttribute('data-role')).toBe('owner');
    // The main view names no issuer or subject identifiers.
    const visible = await page.locator('[data-testid="devices"]').innerText();
    expect(visible).not.toContain(idp().issuer);
  }, STEP_MS);

  it('alice gives carol access, gives mno.a a permission and withdraws it, makes a household, saves settings; the activity shows it all', async () => {
    const oven = ovens[0]!;
    await page.getByTestId('device-select').selectOption(oven.eid);
    await page.getByTestId('grant-sub').fill('carol');
    await page.getByTestId('grant-role').selectOption('admin');
    await page.getByTestId('grant-submit').click();
    await statusMatches(/Added carol as admin/);
    await page.locator('[data-testid="person"][data-sub="carol"][data-role="admin"]').waitFor();

    await page.getByTestId('consent-mno').selectOption('mno.a');
    await page.getByTestId('consent-op-delete').check();
    await page.getByTestId('consent-submit').click();
    await statusMatches(/Permission given to mno\.a/);
    const active = page.locator('[data-testid="consent"][data-mno="mno.a"][data-state="active"]');
    await active.waitFor();
    expect(await active.textContent()).toContain('install, switch on, remove');
    await page.getByTestId('consents').screenshot({ path: join(SCREENSHOT_DIR, 'portal-consents.png') });
    const jti = await active.getAttribute('data-jti');
    await active.getByTestId('consent-revoke').click();
    await statusMatches(/Permission withdrawn/);
    await page.locator(`[data-testid="consent"][data-jti="${jti}"][data-state="revoked"]`).waitFor();

    // A household with dave in it, and the oven's settings; both show in the activity.
    await page.getByTestId('group-name').fill('Kitchen');
    await page.getByTestId('group-member').fill('dave');
    await page.getByTestId('group-submit').click();
    await statusMatches(/Household Kitchen created/);
    await page.getByTestId('settings-json').fill('{ "temperatureUnit": "C" }');
    await page.getByTestId('settings-submit').click();
    await statusMatches(/Settings saved/);
    await page.getByTestId('settings-json').fill('[1, 2]');
    await page.getByTestId('settings-submit').click();
    await page.getByTestId('settings-error').waitFor({ state: 'visible' });
    expect(await page.getByTestId('settings-error-code').textContent()).toBe('ERR_PORTAL_BAD_SETTINGS');
    await page.getByTestId('activity-refresh').click();
    for (const action of ['group.device.add', 'device.settings', 'consent.revoke', 'grant.create', 'device.claim']) {
      await page.locator(`[data-testid="activity-item"][data-action="${action}"]`).first().waitFor();
    }
  }, STEP_MS);

  it('mno.a installs a profile (with a consent); the card shows the operator and plan; alice moves to mno.b with a PAC', async () => {
    const oven = ovens[0]!;
    const alice = new OwnerClient(registry().httpUrl, await idp().issueIdToken({ sub: 'alice', aud: 'owner-portal', authTime: Math.floor(Date.now() / 1000) }));
    mnoA.consent = (await alice.post(`/devices/${oven.eid}/consents`, { mnoId: 'mno.a', operations: ['DownloadProfile', 'EnableProfile'], expiresInSeconds: 600 })).body.consent as string;
    const download = await mnoA.es2('downloadProfile', { eid: oven.eid, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: true });
    expect(download.header.functionExecutionStatus.status).toBe('Executed-Success');

    await page.getByTestId('refresh-devices').click();
    await page.waitForFunction((eid) => /Operator mno\.a · plan a-iot · on/.test((globalThis as unknown as BrowserGlobals).document.querySelector(`[data-testid="device"][data-eid="${eid}"] [data-testid="device-profile"]`)?.textContent ?? ''), oven.eid);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'portal-devices.png') });

    const pac = await apiClient(registry().httpUrl, mnoA.apiKey).post('/mno/porting-codes', { eid: oven.eid, iccid: download.iccid });
    expect(pac.status).toBe(201);
    await page.getByTestId('port-pac').fill(String(pac.body.pac).toLowerCase()); // typed as read out: upper-cased by the page
    await page.getByTestId('port-recipient').selectOption('mno.b');
    await page.getByTestId('port-profile-type').fill('b-iot');
    await page.getByTestId('port-submit').click();
    await statusMatches(/Moved to mno\.b/);
    await page.waitForFunction((eid) => /Operator mno\.b · plan b-iot · on/.test((globalThis as unknown as BrowserGlobals).document.querySelector(`[data-testid="device"][data-eid="${eid}"] [data-testid="device-profile"]`)?.textContent ?? ''), oven.eid);
    expect(enabledIsdp(card(oven.eid))?.profile?.iccid).not.toBe(download.iccid);
  }, STEP_MS);

  it('selling with an old sign-in asks for a fresh one; the subscription and profile chosen survive it; the code shows', async () => {
    const oven = ovens[0]!;
    // alice's sign-in of an hour ago (the registry wants auth_time within 300 s to start a sale).
    const old = await idp().issueIdToken({ sub: 'alice', aud: 'owner-portal', authTime: Math.floor(Date.now() / 1000) - 3600 });
    await page.evaluate((session) => (globalThis as unknown as BrowserGlobals).sessionStorage.setItem('rsp.portal.oidc.session', session), JSON.stringify({ idToken: old, claims: decodeJwt(old) }));
    await page.reload();
    await statusMatches(/Welcome back, alice/);
    await page.getByTestId('device-select').selectOption(oven.eid);
    await page.getByTestId('transfer-subscription').selectOption('leave');
    const profile = page.getByTestId('transfer-profile');
    await page.waitForFunction(() => Array.from((globalThis as unknown as BrowserGlobals).document.querySelector('[data-testid="transfer-profile"]')?.options ?? []).some((option) => option.value.startsWith('mno.b|')));
    const choice = await profile.locator('option[value^="mno.b|"]').getAttribute('value');
    await profile.selectOption(choice!);
    await page.getByTestId('transfer-submit').click();
    await page.getByTestId('transfer-error').waitFor({ state: 'visible' });
    expect(await page.getByTestId('transfer-error-code').textContent()).toBe('ERR_IDENTITY_STEP_UP_REQUIRED');
    await page.locator('section[aria-labelledby="manage-title"]').screenshot({ path: join(SCREENSHOT_DIR, 'portal-step-up.png') });

    await logIn('alice', 'transfer-step-up');
    expect(await page.getByTestId('device-select').inputValue()).toBe(oven.eid);
    expect(await page.getByTestId('transfer-subscription').inputValue()).toBe('leave');
    expect(await profile.inputValue()).toBe(choice);
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.activeElement?.getAttribute('data-testid'))).toBe('transfer-submit');
    await page.getByTestId('transfer-submit').click();
    await statusMatches(/^Transfer started/);
    expect(((await page.getByTestId('transfer-code').textContent()) ?? '').length).toBeGreaterThanOrEqual(4);
    await page.getByTestId('activity-refresh').click();
    await page.locator('[data-testid="activity-item"][data-action="transfer.start"][data-outcome="ok"]').first().waitFor();
    await page.locator('[data-testid="activity-item"][data-action="transfer.start"][data-outcome="ERR_IDENTITY_STEP_UP_REQUIRED"]').first().waitFor();
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'portal-sell.png'), fullPage: true });
    expect(seen).toEqual({ cspViolations: [], pageErrors: [] });
  }, STEP_MS);

  it('on a phone-sized screen nothing scrolls sideways; bob claims the second oven with the keyboard only', async () => {
    const oven = ovens[1]!;
    const phone = await browser.newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const phoneSeen = watchPage(phone);
    try {
      await phone.goto(portalUrl);
      await statusMatches(/^Signed out\.$/, phone);
      // Keyboard only: Tab to the sign-in button, Enter.
      await tabTo(phone, 'sign-in');
      await phone.keyboard.press('Enter');
      await phone.waitForURL(/\/interaction\//);
      await phone.fill('input[name="username"]', 'bob');
      await phone.fill('input[name="password"]', 'bob');
      await phone.keyboard.press('Enter');
      await phone.waitForURL(portalUrl);
      await statusMatches(/Signed in as bob\./, phone);
      await tabTo(phone, 'claim-device-url');
      await phone.keyboard.type(oven.deviceUrl);
      await phone.keyboard.press('Tab');
      expect(await phone.evaluate(() => (globalThis as unknown as BrowserGlobals).document.activeElement?.getAttribute('data-testid'))).toBe('claim-code');
      await phone.keyboard.type(oven.claimCode);
      await phone.keyboard.press('Enter');
      await statusMatches(/Device claimed/, phone);
      await phone.locator(`[data-testid="device"][data-eid="${oven.eid}"][data-role="owner"]`).waitFor();
      const overflow = await phone.evaluate(() => (globalThis as unknown as BrowserGlobals).document.documentElement.scrollWidth - (globalThis as unknown as BrowserGlobals).document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await phone.screenshot({ path: join(SCREENSHOT_DIR, 'portal-phone.png') });
      // WCAG AA (§1.4.3): text at least 4.5:1 against its background, in light and dark colour schemes.
      const TEXT = 'h1, h2, h3, p, label, button, a, summary, dt, dd, li, span, strong, code, legend, option';
      for (const scheme of ['light', 'dark'] as const) {
        await phone.emulateMedia({ colorScheme: scheme });
        const lowest = await phone.evaluate(lowestContrast, TEXT);
        expect({ scheme, ...lowest, ok: lowest.ratio >= 4.5 }).toEqual({ scheme, ...lowest, ok: true });
        expect(lowest.element).not.toBe(''); // something was measured
      }
      expect(phoneSeen).toEqual({ cspViolations: [], pageErrors: [] });
    } finally {
      await phone.close();
    }
  }, STEP_MS);

  /** Presses Tab until the element with this test id has the focus (at most 80 times). */
  async function tabTo(target: Page, testId: string): Promise<void> {
    for (let step = 0; step < 80; step += 1) {
      if ((await target.evaluate(() => (globalThis as unknown as BrowserGlobals).document.activeElement?.getAttribute('data-testid'))) === testId) return;
      await target.keyboard.press('Tab');
    }
    throw new Error(`Tab never reached ${testId}`);
  }

});
