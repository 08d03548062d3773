/**
 * A small, dependency-free benchmark harness: warm up, then run a function in batches until a time
 * budget is spent, and report operations per second. Figures are printed, never asserted.
 */
import { performance } from 'node:perf_hooks';

export interface Measurement {
  name: string;
  opsPerSecond: number;
  iterations: number;
}

export function measure(name: string, fn: () => unknown, budgetMs = Number(process.env.BENCH_MS ?? 700)): Measurement {
  for (let i = 0; i < 50; i += 1) fn(); // warm-up: JIT and lazy initialisation out of the figure
  let iterations = 0;
  let batch = 16;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    for (let i = 0; i < batch; i += 1) fn();
    iterations += batch;
    elapsed = performance.now() - start;
    if (elapsed < budgetMs / 10) batch *= 2;
  }
  return { name, opsPerSecond: (iterations * 1000) / elapsed, iterations };
}

export interface Comparison {
  ours: Measurement;
  /** The raw node:crypto work the operation cannot avoid, measured in the same run. */
  raw: Measurement;
}

export function printComparisons(title: string, rows: Comparison[]): void {
  console.log(`\n## ${title}`);
  console.log('| operation | ops/s | raw node:crypto baseline | baseline ops/s | ours / baseline |');
  console.log('|---|---:|---|---:|---:|');
  for (const { ours, raw } of rows) {
    const ratio = ours.opsPerSecond / raw.opsPerSecond;
    console.log(
      `| ${ours.name} | ${fmt(ours.opsPerSecond)} | ${raw.name} | ${fmt(raw.opsPerSecond)} | ${ratio.toFixed(2)} |`,
    );
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
