/**
 * `npm run bench -- user-path [--devices N] [--concurrency C] [--passes P] [--type bbq|oven|generic]`: the
 * path a user runs, each program started as the README starts it, in a process of its own:
 *
 * 1. the stack as `npm start` runs it (scripts/start.ts: the embedded broker, SQLite files, the services'
 *    info-level JSON logs), in a temporary data directory, every port a free one;
 * 2. a fleet of N cards beside it (`npm run sim -- --devices N --register …`: manufactured, registered with
 *    the SM-SR over ES1, online over one gateway connection);
 * 3. the demo MNO's stock (`npx rsp mno stock --generate N×P`, 10 000 a call), then P passes of
 *    `npx rsp es2 download-profiles --enable --concurrency C`, a profile per card each pass.
 *
 * Per pass it prints what the CLI reports (calls/s, p50 / p99 of a call) and, per provisioning, the CPU of
 * the stack's process and of the fleet's (/proc/<pid>/stat, 10 ms ticks: every thread of each; the stack's
 * main thread, where the services run, apart: /proc/<pid>/task/<pid>/schedstat), the whole
 * host's (/proc/stat: the CLI and anything else running included), and what the stack wrote (/proc/<pid>/io
 * wchar and syscw: SQLite's WAL, sockets and logs alike). The first pass meets a stack V8 has not compiled
 * yet; the provisioning bench's figures come after 2000 warm-up provisionings on one process (rounds
 * thirteen and fourteen in docs/performance.md compare the two). A call that fails fails the run, and the
 * stack's and the fleet's whole output go to bench/out/user-path-*.log (the services' logs say why). Last,
 * the warnings and errors of the stack's log over the run, grouped by message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { schedstatCpuMs, statCpuMs } from '@rsp/mqtt-transport';
import { MAX_GENERATE } from '../cli/inventory';
import { EPHEMERAL_START_PORTS, printedUrls } from '../test/support/npm-start';
import { cpuBetween, OutsideCpuMeter } from './host-cpu';

/** Where a failed run leaves its programs' output. */
const OUT_DIR = 'bench/out';

/** The `rsp mno stock --generate` counts that stock `total` profiles, each call its own keys file. */
export function stockCalls(total: number, perCall = MAX_GENERATE): number[] {
  const counts: number[] = [];
  for (let left = total; left > 0; left -= perCall) counts.push(Math.min(perCall, left));
  return counts;
}

export interface UserPathOptions {
  devices: number;
  concurrency: number;
  passes: number;
  type: 'bbq' | 'oven' | 'generic';
}

export function userPathOptions(argv: readonly string[] = process.argv.slice(2)): UserPathOptions {
  const { values } = parseArgs({
    args: argv.filter((arg) => arg !== 'user-path'),
    options: { devices: { type: 'string' }, concurrency: { type: 'string' }, passes: { type: 'string' }, type: { type: 'string' } },
    strict: false,
  });
  const positive = (name: string, value: unknown, fallback: number): number => {
    const number = Number(value ?? fallback);
    if (!Number.isInteger(number) || number < 1) throw new Error(`--${name} must be a positive integer`);
    return number;
  };
  const type = String(values.type ?? 'bbq');
  if (type !== 'bbq' && type !== 'oven' && type !== 'generic') throw new Error('--type must be bbq, oven or generic');
  return { devices: positive('devices', values.devices, 1000), concurrency: positive('concurrency', values.concurrency, 40), passes: positive('passes', values.passes, 2), type };
}

/** The services' warnings and errors in `output` (pino's JSON lines, level 40 and up), grouped by what they say. */
export interface LogWarnings {
  warnings: number;
  errors: number;
  /** Each message with its EIDs and other numbers masked, its service, and how often; most frequent first. */
  kinds: Array<{ service: string; message: string; count: number }>;
}

export function logWarnings(output: string): LogWarnings {
  const summary: LogWarnings = { warnings: 0, errors: 0, kinds: [] };
  const byKind = new Map<string, { service: string; message: string; count: number }>();
  for (const [line, level] of output.matchAll(/^\{"level":(\d+),[^\n]*/gm)) {
    if (Number(level) < 40) continue;
    if (Number(level) >= 50) summary.errors += 1;
    else summary.warnings += 1;
    let service = '?';
    let message = line;
    try {
      const entry = JSON.parse(line) as { service?: string; msg?: string };
      service = entry.service ?? service;
      message = entry.msg ?? message;
    } catch {
      // a line cut short when the program stopped: counted as it stands
    }
    const masked = message.replace(/\b89\d{30}\b/g, '<EID>').replace(/\d+/g, '<n>');
    const key = `${service} ${masked}`;
    const kind = byKind.get(key) ?? { service, message: masked, count: 0 };
    kind.count += 1;
    byKind.set(key, kind);
  }
  summary.kinds = [...byKind.values()].sort((a, b) => b.count - a.count);
  return summary;
}

/** A program of the path: its output so far, and a wait for a line of it. */
class Program {
  output = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer): void => void (this.output += chunk.toString());
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.on('close', resolve));
  }

  /** The first match of `pattern` in the output, once it shows; an error with the output if the program exits first. */
  async line(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.output);
      if (match) return match;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`${this.name} ${this.child.exitCode !== null ? `exited (${this.child.exitCode})` : 'timed out'} before printing ${pattern}:\n${this.output.slice(-3000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** CPU ms of every thread so far (/proc/<pid>/stat: 10 ms ticks). */
  cpuMs(): number {
    return statCpuMs(`/proc/${this.child.pid}/stat`) ?? Number.NaN;
  }

  /** CPU ms so far of the main thread alone (the services' JavaScript, for the stack): its task's schedstat. */
  mainThreadCpuMs(): number {
    return schedstatCpuMs(`/proc/${this.child.pid}/task/${this.child.pid}/schedstat`) ?? Number.NaN;
  }

  /** Bytes and write calls so far (/proc/<pid>/io wchar, syscw). */
  writes(): { bytes: number; calls: number } {
    const io = Object.fromEntries(readFileSync(`/proc/${this.child.pid}/io`, 'utf8').trim().split('\n').map((line) => line.split(': ') as [string, string]));
    return { bytes: Number(io.wchar), calls: Number(io.syscw) };
  }
}

/**
 * `node --import tsx file.ts`: what `npm start` and `npm run sim` run, without tsx's launcher process in
 * between, so that the pid is the program's own. `npx rsp` runs its bin script (cli/bin/rsp.js) as npx does.
 */
function start(name: string, args: readonly string[], env: Record<string, string> = {}): Program {
  const argv = args[0]?.endsWith('.ts') ? ['--import', 'tsx', ...args] : [...args];
  return new Program(name, spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

async function runToEnd(name: string, args: readonly string[], env: Record<string, string>): Promise<string> {
  const program = start(name, args, env);
  const code = await program.exited;
  if (code !== 0) throw new Error(`${name} exited (${code}):\n${program.output.slice(-3000)}`);
  return program.output;
}

/**
 * Waits until the programs together use under 5 % of a core for a second: at most two minutes and 3 ms
 * per card (the SM-SR confirms about 530 first declarations a second, each with its ISD-R handover: 100 000
 * cards take over three minutes).
 */
async function idle(programs: readonly Program[], cards: number): Promise<void> {
  const cpu = (): number => programs.reduce((sum, program) => sum + program.cpuMs(), 0);
  const deadline = Date.now() + 120_000 + 3 * cards;
  for (let last = cpu(); Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = cpu();
    if (now - last < 50) return;
    last = now;
  }
}

export async function runUserPathBench(): Promise<void> {
  const o = userPathOptions();
  const dataDir = mkdtempSync(join(tmpdir(), 'rsp-user-path-'));
  const running: Program[] = [];
  const removeDataDir = (): void => rmSync(dataDir, { recursive: true, force: true });
  process.once('exit', () => {
    for (const program of running) program.child.kill('SIGKILL');
    removeDataDir();
  });
  try {
    console.log(`\n## user path — npm start, a fleet of ${o.devices} ${o.type} cards (npm run sim --register) and npx rsp es2 download-profiles, each in a process of its own`);
    let t = Date.now();
    const stack = start('npm start', ['scripts/start.ts'], { ...EPHEMERAL_START_PORTS, RSP_DATA_DIR: dataDir });
    running.push(stack);
    await stack.line(/^ready/m, 120_000);
    const urls = printedUrls(stack.output);
    const stackSeconds = (Date.now() - t) / 1000;

    t = Date.now();
    const fleet = start('npm run sim', [
      'simulator/src/cli.ts', '--devices', String(o.devices), '--type', o.type, '--pki-dir', join(dataDir, 'pki', 'nist'),
      '--mqtt-url', urls.mqtt, '--register', urls.smsr, '--beside', urls.sim, '--api-port', '0',
    ]);
    running.push(fleet);
    const fleetApi = (await fleet.line(/device API at (http:\/\/\S+)/, 600_000))[1] as string;
    // Online, each card's eUICC declaration reaches the SM-SR, which confirms it and hands the ISD-R over
    // (Scenario#3): a pass starts once that is done, so its figures hold the downloads alone.
    await idle([stack, fleet], o.devices);
    const fleetSeconds = (Date.now() - t) / 1000;

    const apiKey = readFileSync(join(dataDir, 'demo-mno-api-key'), 'utf8').trim();
    const rsp = (args: readonly string[]): Promise<string> => runToEnd('npx rsp', ['cli/bin/rsp.js', ...args, '--api-key', apiKey], { RSP_SMDP_URL: urls.smdp, RSP_SMSR_URL: urls.smsr });
    t = Date.now();
    for (const [index, count] of stockCalls(o.devices * o.passes).entries()) {
      await rsp(['mno', 'stock', '--profile-type', 'demo-iot', '--generate', String(count), '--out', join(dataDir, `hss-${index + 1}.json`)]);
    }
    console.log(`set-up: npm start ready in ${stackSeconds.toFixed(1)} s; the fleet made, registered, online and its declarations confirmed in ${fleetSeconds.toFixed(1)} s; stock of ${o.devices * o.passes} in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    console.log('\n| pass | answered | calls/s | a call p50 / p99 | CPU ms per provisioning: stack (its main thread) / fleet / host | stack writes per provisioning: KB / calls |');
    console.log('|---|---|---:|---:|---:|---:|');
    const host = new OutsideCpuMeter({ postgres: false });
    for (let pass = 1; pass <= o.passes; pass += 1) {
      const before = { stack: stack.cpuMs(), main: stack.mainThreadCpuMs(), fleet: fleet.cpuMs(), host: host.read(), writes: stack.writes() };
      const output = await rsp(['es2', 'download-profiles', '--eids-from', fleetApi, '--profile-type', 'demo-iot', '--enable', '--concurrency', String(o.concurrency), '--run-id', `user-path-${pass}`]);
      const per = (value: number): string => (value / o.devices).toFixed(1);
      const hostMs = cpuBetween(before.host, host.read()).hostMs;
      const writes = stack.writes();
      const answered = /^(\d+ eUICCs: .*)$/m.exec(output)?.[1] ?? '?';
      const rate = /([\d.]+) calls\/s over [\d.]+ s; a call p50 (\d+) ms, p99 (\d+) ms/.exec(output);
      console.log(
        `| ${pass}${pass === 1 ? ' (cold)' : ''} | ${answered} | ${rate?.[1] ?? '?'} | ${rate ? `${rate[2]} / ${rate[3]} ms` : '?'} | ` +
          `${per(stack.cpuMs() - before.stack)} (${per(stack.mainThreadCpuMs() - before.main)}) / ${per(fleet.cpuMs() - before.fleet)} / ${hostMs !== undefined ? per(hostMs) : '?'} | ` +
          `${((writes.bytes - before.writes.bytes) / 1024 / o.devices).toFixed(0)} / ${per(writes.calls - before.writes.calls)} |`,
      );
    }
    // Every call answered is not the whole story: a retry that succeeded, a late confirmation or a
    // refused message shows only in the services' log.
    const logged = logWarnings(stack.output);
    console.log(`\nthe stack's log over the run (set-up included): ${logged.warnings} warnings, ${logged.errors} errors`);
    for (const kind of logged.kinds.slice(0, 8)) console.log(`  ${kind.count} × ${kind.service}: ${kind.message}`);
  } catch (error) {
    // The stack's and the fleet's whole output (the services' logs say why a call failed) beside the error.
    mkdirSync(OUT_DIR, { recursive: true });
    for (const program of running) {
      const file = join(OUT_DIR, `user-path-${program.name.replace(/\W+/g, '-')}.log`);
      writeFileSync(file, program.output);
      console.error(`${program.name}'s output: ${file}`);
    }
    throw error;
  } finally {
    for (const program of running.reverse()) {
      program.child.kill('SIGINT');
      await Promise.race([program.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      program.child.kill('SIGKILL');
    }
    removeDataDir();
  }
}
