/**
 * `npx rsp scenario run <file|dir> [--junit PATH] [--html PATH] [--seed N]`: runs scenario files
 * (docs/scenarios.md), each on an in-process stack of its own, prints one line per scenario (and the
 * differences of a failed step), writes the reports, and exits 0 only when every scenario passed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface ScenarioRunOptions {
  junit?: string;
  html?: string;
  seed?: number;
  stack: string;
}

/** Exit code: 0 all passed, 2 a scenario failed, 1 a file could not be read. */
export async function runScenarioCommand(path: string, options: ScenarioRunOptions, out: (text: string) => void): Promise<number> {
  if (options.stack !== 'embedded') {
    out(`rsp: --stack ${options.stack}: only the embedded stack is available (each scenario gets its own)\n`);
    return 1;
  }
  // Loaded on demand: the stack is heavy and the ES commands do not need it.
  const { loadScenarios, runScenarios } = await import('../scripts/scenario-runner');
  const { htmlReport, junitXml } = await import('@rsp/scenario');
  let loaded;
  try {
    loaded = loadScenarios(resolve(path));
  } catch (error) {
    out(`rsp: ${(error as Error).message}\n`);
    return 1;
  }
  out(`running ${loaded.length} scenario${loaded.length === 1 ? '' : 's'} from ${path}\n`);
  const results = await runScenarios(loaded, {
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    onResult: (result, index, total) => {
      out(`${result.ok ? '✔' : '✘'} [${index + 1}/${total}] ${result.name} (${result.file}, ${Math.round(result.durationMs)} ms)\n`);
      if (result.error) out(`    ${result.error}\n`);
      for (const step of result.steps.filter((s) => !s.ok)) {
        out(`    step "${step.name}" (${step.action}):\n`);
        for (const failure of step.failures) out(`      ${failure}\n`);
      }
    },
  });
  const title = `Scenarios: ${path}`;
  if (options.junit) write(options.junit, junitXml(title, results));
  if (options.html) write(options.html, htmlReport(title, results));
  const failed = results.filter((result) => !result.ok).length;
  out(`${results.length - failed} passed, ${failed} failed${options.junit ? `; JUnit ${options.junit}` : ''}${options.html ? `; HTML ${options.html}` : ''}\n`);
  return failed === 0 ? 0 : 2;
}

function write(path: string, text: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileSync(path, text);
}
