/**
 * Headless Chromium for the browser tests (playwright-core, Debian's chromium as in CI). In CI
 * (CI=true) a missing browser fails the suite, never skips it; elsewhere the suite is skipped with a
 * warning. Screenshots go to docs/img with RSP_UPDATE_SCREENSHOTS=1 (`RSP_UPDATE_SCREENSHOTS=1 npm test --
 * test/e2e/portal-owner.spec.ts test/e2e/console.spec.ts`), else to a temporary directory, so a test run
 * leaves the working tree clean.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.RSP_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SCREENSHOT_DIR =
  process.env.RSP_UPDATE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/img/', import.meta.url)) : join(tmpdir(), `rsp-screenshots-${process.pid}`);
mkdirSync(SCREENSHOT_DIR, { recursive: true });

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

/**
 * The lowest WCAG 2.x contrast ratio (§1.4.3) between the text colour and the first opaque background
 * behind it, over the visible elements matching `selector`; with the element that has it. Runs in the page.
 */
export function lowestContrast(selector: string): { ratio: number; element: string } {
  interface Styled {
    color: string;
    backgroundColor: string;
  }
  interface Node {
    tagName: string;
    className?: string;
    textContent: string | null;
    parentElement: Node | null;
    getClientRects(): { length: number };
    getAttribute(name: string): string | null;
  }
  const page = globalThis as unknown as { document: { querySelectorAll(selector: string): Iterable<Node> }; getComputedStyle(node: Node): Styled };
  const parse = (value: string): [number, number, number, number] => {
    const parts = (value.match(/[\d.]+/g) ?? ['0', '0', '0', '0']).map(Number);
    return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0, parts[3] ?? 1];
  };
  const luminance = ([r, g, b]: number[]): number => {
    const channel = (c: number) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r ?? 0) + 0.7152 * channel(g ?? 0) + 0.0722 * channel(b ?? 0);
  };
  let lowest = { ratio: 21, element: '' };
  for (const node of page.document.querySelectorAll(selector)) {
    if (node.getClientRects().length === 0 || !(node.textContent ?? '').trim()) continue;
    const fg = parse(page.getComputedStyle(node).color);
    let background: [number, number, number, number] = [255, 255, 255, 1];
    for (let at: Node | null = node; at; at = at.parentElement) {
      const candidate = parse(page.getComputedStyle(at).backgroundColor);
      if (candidate[3] >= 1) {
        background = candidate;
        break;
      }
    }
    const [light, dark] = [luminance(fg), luminance(background)].sort((a, b) => b - a) as [number, number];
    const ratio = (light + 0.05) / (dark + 0.05);
    if (ratio < lowest.ratio) lowest = { ratio, element: `${node.tagName}.${node.className ?? ''} "${(node.textContent ?? '').trim().slice(0, 40)}"` };
  }
  return lowest;
}
