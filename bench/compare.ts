/**
 * `npx tsx bench/compare.ts <git revision> [--pairs N] [provisioning options …]`: the provisioning bench
 * on a checkout of <revision> and on this working tree, alternately (base, ours, base, ours …), so that
 * the host's drift falls on both sides; prints each run's figures and the ratio of the medians.
 *
 * Why: a shared 2-core host moves by ±15 % from one minute to the next and more from one day to the next
 * (docs/performance.md, round four), so one run against another proves nothing. Every figure of
 * docs/performance.md's "before → after" tables was taken this way by hand; this does it in one command.
 * The base runs its own bench (its checkout's bench/), so options it does not know are its to refuse.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median } from './ab';

interface RunFigures {
  rate: number;
  cpuMs: number;
  servicesThreadMs: number | undefined;
}

/** The median-round figures from the bench's table (its labels since the JIT's warm-up was counted apart). */
export function parseProvisioningFigures(output: string): RunFigures | undefined {
  const rate = /^\| \d+ provisionings, \d+ in flight[^|]*\| ([\d.]+) \/s/m.exec(output)?.[1];
  const cpu = /^\| CPU per provisioning, services and cards together[^|]*\| ([\d.]+) ms/m.exec(output)?.[1];
  const thread = /^\| … … the services' thread[^|]*\| ([\d.]+) ms/m.exec(output)?.[1];
  if (rate === undefined || cpu === undefined) return undefined;
  return { rate: Number(rate), cpuMs: Number(cpu), servicesThreadMs: thread === undefined ? undefined : Number(thread) };
}

function git(args: string[], cwd: string): string {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

function runBench(cwd: string, options: readonly string[]): RunFigures {
  const result = spawnSync('npx', ['tsx', 'bench/run.ts', 'provisioning', ...options], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const figures = result.status === 0 ? parseProvisioningFigures(result.stdout) : undefined;
  if (!figures) throw new Error(`the bench in ${cwd} gave no figures (exit ${result.status}): ${(result.stderr || result.stdout).slice(-800)}`);
  return figures;
}

function main(): void {
  const args = process.argv.slice(2);
  const pairsAt = args.indexOf('--pairs');
  const pairs = pairsAt >= 0 ? Number(args[pairsAt + 1]) : 2;
  const rest = pairsAt >= 0 ? [...args.slice(0, pairsAt), ...args.slice(pairsAt + 2)] : args;
  const [revision, ...benchOptions] = rest;
  if (!revision || revision.startsWith('-') || !Number.isInteger(pairs) || pairs < 1) {
    console.error('usage: npx tsx bench/compare.ts <git revision> [--pairs N] [provisioning options …]');
    process.exit(2);
  }
  const ours = resolve('.');
  const commit = git(['rev-parse', '--verify', `${revision}^{commit}`], ours);
  const base = mkdtempSync(join(tmpdir(), 'rsp-bench-base-'));
  git(['worktree', 'add', '--detach', base, commit], ours);
  try {
    symlinkSync(join(ours, 'node_modules'), join(base, 'node_modules')); // same dependencies, nothing installed
    console.log(`# bench compare — base ${commit.slice(0, 10)} (${revision}) against this working tree, ${pairs} alternating pairs`);
    console.log(`provisioning options: ${benchOptions.join(' ') || '(defaults)'}\n`);
    console.log("| pair | side | provisionings/s | CPU ms per provisioning | services' thread ms |");
    console.log('|---:|---|---:|---:|---:|');
    const runs: Record<'base' | 'ours', RunFigures[]> = { base: [], ours: [] };
    for (let pair = 1; pair <= pairs; pair += 1) {
      for (const side of ['base', 'ours'] as const) {
        const figures = runBench(side === 'base' ? base : ours, benchOptions);
        runs[side].push(figures);
        console.log(`| ${pair} | ${side} | ${figures.rate.toFixed(1)} | ${figures.cpuMs.toFixed(1)} | ${figures.servicesThreadMs?.toFixed(1) ?? '–'} |`);
      }
    }
    const rate = (side: 'base' | 'ours') => median(runs[side].map((run) => run.rate));
    const cpu = (side: 'base' | 'ours') => median(runs[side].map((run) => run.cpuMs));
    console.log(
      `\nmedians: base ${rate('base').toFixed(1)} /s ${cpu('base').toFixed(1)} ms, ours ${rate('ours').toFixed(1)} /s ${cpu('ours').toFixed(1)} ms; ` +
        `ours ÷ base: rate ${(rate('ours') / rate('base')).toFixed(3)}, CPU ${(cpu('ours') / cpu('base')).toFixed(3)}`,
    );
  } finally {
    git(['worktree', 'remove', '--force', base], ours);
    rmSync(base, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.dirname, 'compare.ts')) main();
