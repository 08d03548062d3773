/**
 * Headless Chromium for the browser tests (playwright-core, Debian's chromium as in CI). In CI
 * (CI=true) a missing browser fails the suite, never skips it; elsewhere the suite is skipped with a
 * warning. Screenshots meant for the docs go to docs/img.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.RSP_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const DOCS_IMG_DIR = fileURLToPath(new URL('../../docs/img/', import.meta.url));

/** Whether the browser suite runs here; logs why not. */
export function chromiumRunnable(suite: string): boolean {
  const runnable = process.env.CI === 'true' || existsSync(CHROMIUM_PATH);
  if (!runnable) console.warn(`${suite} skipped: no Chromium at ${CHROMIUM_PATH} (set RSP_TEST_CHROMIUM)`);
  return runnable;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** Collects CSP violations and uncaught page errors (both must stay empty). */
export function watchPage(page: Page): { cspViolations: string[]; pageErrors: string[] } {
  const seen = { cspViolations: [] as string[], pageErrors: [] as string[] };
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) seen.cspViolations.push(message.text());
  });
  page.on('pageerror', (error) => seen.pageErrors.push(error.message));
  return seen;
}

/** The bits of the page's globals the tests read inside `page.evaluate` (the repo compiles without the DOM lib). */
interface BrowserElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  options?: ArrayLike<{ value: string }>;
}
export interface BrowserGlobals {
  document: {
    querySelector(selector: string): BrowserElement | null;
    activeElement: BrowserElement | null;
    documentElement: { scrollWidth: number; clientWidth: number };
  };
  sessionStorage: { setItem(key: string, value: string): void };
}
