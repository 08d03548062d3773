/**
 * Reports of a scenario run: JUnit XML (one testsuite per file set, one testcase per scenario and per step,
 * with timings and failure messages; the format CI servers read) and a self-contained HTML page (inline CSS,
 * no script, no fetch) with each scenario's steps, the exact difference of a failed step, and its message
 * sequence diagram.
 */
import type { SequenceHop } from '@rsp/contracts';
import { escapeXml, renderSequenceSvg } from './sequence-svg';

export interface StepResult {
  name: string;
  /** What the step did, e.g. `ES2 DownloadProfile as mno.a`. */
  action: string;
  durationMs: number;
  ok: boolean;
  /** One line per difference (expected vs got), or the error. */
  failures: string[];
  /** The answer, shown on failure (never a secret: consents and tokens are redacted by the runner). */
  answer?: unknown;
}

export interface ScenarioResult {
  file: string;
  name: string;
  covers: Array<{ function: string; clause: string; outcome: string }>;
  durationMs: number;
  ok: boolean;
  steps: StepResult[];
  hops: SequenceHop[];
  /** Set-up or tear-down failure outside any step. */
  error?: string;
}

export function junitXml(suiteName: string, results: readonly ScenarioResult[]): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const cases: string[] = [];
  let failures = 0;
  for (const scenario of results) {
    const failed = !scenario.ok;
    if (failed) failures += 1;
    const message = scenario.error ?? scenario.steps.find((step) => !step.ok)?.failures.join('; ') ?? '';
    cases.push(
      `  <testcase classname="${escapeXml(scenario.file)}" name="${escapeXml(scenario.name)}" time="${seconds(scenario.durationMs)}">` +
        (failed ? `<failure message="${escapeXml(firstLine(message))}">${escapeXml(message)}</failure>` : '') +
        '</testcase>',
    );
    scenario.steps.forEach((step, index) => {
      if (!step.ok) failures += 1;
      cases.push(
        `  <testcase classname="${escapeXml(`${scenario.file} › ${scenario.name}`)}" name="${escapeXml(`${index + 1}. ${step.name}`)}" time="${seconds(step.durationMs)}">` +
          (step.ok ? '' : `<failure message="${escapeXml(firstLine(step.failures.join('; ')))}">${escapeXml(step.failures.join('\n'))}</failure>`) +
          '</testcase>',
      );
    });
  }
  const total = results.reduce((sum, scenario) => sum + 1 + scenario.steps.length, 0);
  const time = results.reduce((sum, scenario) => sum + scenario.durationMs, 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(suiteName)}" tests="${total}" failures="${failures}" time="${seconds(time)}">`,
    ` <testsuite name="${escapeXml(suiteName)}" tests="${total}" failures="${failures}" errors="0" skipped="0" time="${seconds(time)}">`,
    ...cases,
    ' </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1b1b1f;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:32px}.ok{color:#2e6b30}.failed{color:#b3261e}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccd;padding:4px 8px;text-align:left;vertical-align:top}
.diff{background:#fdecea;color:#5f1410;white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:12px;margin:0}
details pre{max-height:260px;overflow:auto;background:#f5f5f7;padding:8px;font-size:12px}.covers{color:#555;font-size:12px}
.diagram{overflow-x:auto;border:1px solid #dde;padding:6px;background:#fff}`;

export function htmlReport(title: string, results: readonly ScenarioResult[]): string {
  const passed = results.filter((scenario) => scenario.ok).length;
  const sections = results.map((scenario, index) => {
    const rows = scenario.steps
      .map(
        (step, stepIndex) =>
          `<tr class="${step.ok ? 'ok' : 'failed'}"><td>${stepIndex + 1}</td><td>${escapeXml(step.name)}</td><td>${escapeXml(step.action)}</td><td>${Math.round(step.durationMs)} ms</td>` +
          `<td>${step.ok ? 'passed' : `<pre class="diff">${escapeXml(step.failures.join('\n'))}</pre>${step.answer === undefined ? '' : `<details><summary>answer</summary><pre>${escapeXml(JSON.stringify(step.answer, null, 2))}</pre></details>`}`}</td></tr>`,
      )
      .join('\n');
    return `<section id="s${index}" data-ok="${scenario.ok}">
<h2 class="${scenario.ok ? 'ok' : 'failed'}">${scenario.ok ? '✔' : '✘'} ${escapeXml(scenario.name)}</h2>
<p class="covers">${escapeXml(scenario.file)} · ${Math.round(scenario.durationMs)} ms · ${scenario.covers.map((c) => `${c.function} (${c.outcome}, ${c.clause})`).map(escapeXml).join(' · ')}</p>
${scenario.error ? `<pre class="diff">${escapeXml(scenario.error)}</pre>` : ''}
<table><thead><tr><th>#</th><th>step</th><th>action</th><th>time</th><th>result</th></tr></thead><tbody>
${rows}
</tbody></table>
<div class="diagram">${renderSequenceSvg(scenario.hops, { title: scenario.name })}</div>
</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title><style>${CSS}</style></head>
<body><h1>${escapeXml(title)}</h1>
<p><strong class="${passed === results.length ? 'ok' : 'failed'}">${passed} of ${results.length} scenarios passed</strong></p>
${sections.join('\n')}
</body></html>
`;
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.slice(0, 300) ?? '';
}
