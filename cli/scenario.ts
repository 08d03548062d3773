/**
 * `npx rsp scenario run <file|dir> [--junit PATH] [--html PATH] [--seed N] [--stack embedded | --smdp URL
 * --smsr URL --sim URL --registry URL …]`: runs scenario files (docs/scenarios.md), each on an in-process
 * stack of its own, or against a running stack with fresh cards and ids of its own
 * (scripts/remote-testbed.ts), prints one line per scenario (and the differences of a failed step), writes
 * the reports, and exits 0 only when every scenario passed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface ScenarioRunOptions {
  junit?: string;
  html?: string;
  seed?: number;
  stack?: string;
  smdp?: string;
  smsr?: string;
  sim?: string;
  registry?: string;
  idp?: string;
  mqttUrl?: string;
  dataDir?: string;
  smsrId?: string;
  smdpId?: string;
  operator?: string[];
}

const REMOTE_FLAGS = ['smdp', 'smsr', 'sim', 'registry', 'idp', 'mqttUrl', 'dataDir', 'smsrId', 'smdpId', 'operator'] as const;

/** Exit code: 0 all passed, 2 a scenario failed, 1 a file could not be read. */
export async function runScenarioCommand(path: string, options: ScenarioRunOptions, out: (text: string) => void): Promise<number> {
  const remoteFlags = REMOTE_FLAGS.filter((flag) => options[flag] !== undefined);
  const stack = options.stack ?? (remoteFlags.length > 0 ? 'remote' : 'embedded');
  if (stack !== 'embedded' && stack !== 'remote') {
    out(`rsp: --stack ${stack}: embedded (an in-process stack per scenario) or remote (a running stack)\n`);
    return 1;
  }
  if (stack === 'embedded' && remoteFlags.length > 0) {
    out(`rsp: --stack embedded runs its own stacks: drop --${remoteFlags.map(kebab).join(', --')}\n`);
    return 1;
  }
  const operators: Record<string, string> = {};
  for (const pair of options.operator ?? []) {
    const [name, mnoId, extra] = pair.split('=');
    if (!name || !mnoId || extra !== undefined) {
      out(`rsp: --operator ${pair}: expected <scenario operator>=<the stack's mnoId>, e.g. mno.a=mno.demo\n`);
      return 1;
    }
    operators[name] = mnoId;
  }
  // Loaded on demand: the stack is heavy and the ES commands do not need it.
  const { loadScenarios, runScenarios } = await import('../scripts/scenario-runner');
  const { NPM_START_DEFAULTS, RemoteStackUnusable } = await import('../scripts/remote-testbed');
  const remote =
    stack === 'remote'
      ? {
          ...NPM_START_DEFAULTS,
          ...Object.fromEntries(REMOTE_FLAGS.filter((flag) => flag !== 'operator' && options[flag] !== undefined).map((flag) => [flag, options[flag]])),
          ...(Object.keys(operators).length > 0 ? { operators } : {}),
        }
      : undefined;
  const { htmlReport, junitXml } = await import('@rsp/scenario');
  let loaded;
  try {
    loaded = loadScenarios(resolve(path));
  } catch (error) {
    out(`rsp: ${(error as Error).message}\n`);
    return 1;
  }
  out(`running ${loaded.length} scenario${loaded.length === 1 ? '' : 's'} from ${path}${remote ? ` against the stack at ${remote.smdp} (SM-DP), ${remote.smsr} (SM-SR)` : ''}\n`);
  let results;
  try {
    results = await runScenarios(loaded, {
    ...(remote ? { remote } : {}),
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
  } catch (error) {
    // The running stack cannot be used as given (a URL, the data directory): one line naming the flag.
    if (!(error instanceof RemoteStackUnusable)) throw error;
    out(`rsp: ${error.message}\n`);
    return 1;
  }
  const title = `Scenarios: ${path}`;
  if (options.junit) write(options.junit, junitXml(title, results));
  if (options.html) write(options.html, htmlReport(title, results));
  const failed = results.filter((result) => !result.ok).length;
  out(`${results.length - failed} passed, ${failed} failed${options.junit ? `; JUnit ${options.junit}` : ''}${options.html ? `; HTML ${options.html}` : ''}\n`);
  return failed === 0 ? 0 : 2;
}

function kebab(flag: string): string {
  return flag.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function write(path: string, text: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileSync(path, text);
}
