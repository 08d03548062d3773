/**
 * The scenario kit (docs/scenarios.md): the case library in scenarios/sgp02 runs green; a scenario that
 * expects the wrong status fails, exits non-zero and names the step and the difference in both reports;
 * the JUnit file is well-formed JUnit XML; the HTML report opens in Chromium with its sequence diagram
 * (screenshot in docs/img); the generated JSON Schema and coverage table are current.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { generateTestPki } from '@rsp/pki';
import { runScenarioCommand } from '../../cli/scenario';
import { loadScenarios, runScenarios } from '../../scripts/scenario-runner';
import { DOC_FILE, docWithCoverage, renderedSchema, SCHEMA_FILE } from '../../scripts/scenario-docs';

const chromiumPath = process.env.RSP_TEST_CHROMIUM ?? '/usr/bin/chromium';
// In CI a missing Chromium fails the browser test (it never skips there).
const browserRunnable = process.env.CI === 'true' || existsSync(chromiumPath);
if (!browserRunnable) console.warn(`test/e2e/scenarios.spec.ts browser checks skipped: no Chromium at ${chromiumPath} (set RSP_TEST_CHROMIUM)`);

let dir: string;
let browser: Browser | undefined;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rsp-scenarios-'));
  if (browserRunnable) {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the case library scenarios/sgp02', () => {
  it('runs green, each scenario on its own stack', async () => {
    const loaded = loadScenarios('scenarios/sgp02');
    expect(loaded.length).toBeGreaterThanOrEqual(60);
    const results = await runScenarios(loaded, { pki: generateTestPki({ curve: 'P-256', euiccCount: 0 }) });
    const failed = results.filter((result) => !result.ok).map((result) => `${result.file}: ${result.error ?? result.steps.find((step) => !step.ok)?.failures.join('; ')}`);
    expect(failed).toEqual([]);
    // Every scenario's diagram shows the hops it caused; no consent or token ever reaches a hop.
    for (const result of results) expect(result.hops.length).toBeGreaterThan(0);
    expect(JSON.stringify(results)).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\./);
    // Nor a transfer code (XXXX-XXXX-XXXX) or a PAC (3 letters, 6 digits) in a step's description.
    const actions = results.flatMap((result) => result.steps.map((step) => step.action));
    expect(actions.filter((action) => /^owner (redeem|port)/.test(action))).not.toHaveLength(0);
    expect(actions.filter((action) => /\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b|\b[A-Z]{3}\d{6}\b/.test(action))).toEqual([]);
  }, 480_000);

  it('the JSON Schema and the coverage table are what the code generates (npm run scenarios:docs)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(renderedSchema());
    const doc = readFileSync(DOC_FILE, 'utf8');
    expect(doc).toBe(docWithCoverage(doc));
  });

  it('docs/scenarios.md shows the testbed example exactly as the suite runs it', () => {
    expect(readFileSync(DOC_FILE, 'utf8')).toContain(readFileSync('test/e2e/testbed-example.spec.ts', 'utf8'));
  });
});

describe('a scenario that expects the wrong status', () => {
  it('fails, exits 2, and names the step and the difference in the output, the JUnit and the HTML report', async () => {
    const junit = join(dir, 'out.xml');
    const html = join(dir, 'out.html');
    let output = '';
    const code = await runScenarioCommand('test/e2e/fixtures/scenario-wrong-status.yaml', { junit, html, stack: 'embedded' }, (text) => void (output += text));
    expect(code).toBe(2);
    const difference = 'functionExecutionStatus: expected Failed 8.2.1/3.7, got Executed-Success';
    expect(output).toContain('download expecting a refusal that does not come');
    expect(output).toContain(difference);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain('name="1. download expecting a refusal that does not come"');
    expect(xml).toContain(difference);
    expect(xml).not.toContain('never runs');
    const page = readFileSync(html, 'utf8');
    expect(page).toContain(difference);

    if (!browser) return;
    // Standard JUnit XML: it parses, with testsuites > testsuite > testcase and one failure per failed case.
    const tab = await browser.newPage();
    // Evaluated in the page (a string: the project's TypeScript has no DOM library).
    const shape = await tab.evaluate(`(() => {
      const parsed = new DOMParser().parseFromString(${JSON.stringify(xml)}, 'application/xml');
      return {
        error: parsed.querySelector('parsererror') !== null,
        root: parsed.documentElement.nodeName,
        cases: parsed.querySelectorAll('testsuites > testsuite > testcase').length,
        failures: parsed.querySelectorAll('testcase > failure').length,
        declared: parsed.querySelector('testsuite')?.getAttribute('failures'),
      };
    })()`);
    expect(shape).toEqual({ error: false, root: 'testsuites', cases: 2, failures: 2, declared: '2' });
    await tab.close();
  }, 60_000);

  it('the HTML report opens in Chromium with the sequence diagram (screenshot in docs/img)', async () => {
    if (!browser) return;
    const html = join(dir, 'report.html');
    const code = await runScenarioCommand('scenarios/sgp02/es2-delete-enabled-refused.yaml', { html, stack: 'embedded' }, () => undefined);
    expect(code).toBe(0);
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`file://${html}`);
    const diagram = (await page.evaluate(`(() => ({
      svgs: document.querySelectorAll('svg.sequence').length,
      actors: [...document.querySelectorAll('svg.sequence g.actor')].map((actor) => actor.getAttribute('data-actor')),
      interfaces: [...new Set([...document.querySelectorAll('svg.sequence g.hop')].map((hop) => hop.getAttribute('data-interface')))].sort(),
      failedHops: document.querySelectorAll('svg.sequence g.hop[data-failed="true"]').length,
    }))()`)) as { svgs: number; actors: string[]; interfaces: string[]; failedHops: number };
    expect(diagram.svgs).toBe(1);
    expect(diagram.actors).toEqual(['MNO', 'SM-DP', 'SM-SR', 'eUICC']);
    expect(diagram.interfaces).toEqual(expect.arrayContaining(['ES2', 'ES3', 'ES5', 'ES8']));
    expect(diagram.failedHops).toBeGreaterThan(0); // the refused delete is drawn as a failed hop
    // The committed picture is refreshed on demand only, so a test run leaves the tree clean.
    await page.screenshot({ path: process.env.RSP_UPDATE_SCREENSHOTS === '1' ? 'docs/img/scenario-report.png' : join(dir, 'scenario-report.png') });
    await page.close();
  }, 60_000);
});
