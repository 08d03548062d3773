/**
 * `BENCH_SQL_TIME=1`: how long SQLite takes per statement text during the measured rounds (embedded stack).
 * better-sqlite3 runs each statement synchronously on the calling thread, so wrapping its Statement's
 * `run` / `all` / `get` for the rounds times the statement itself: TypeORM's runner and ours around it
 * are not counted. Bench-only instrumentation, removed when it stops.
 *
 * Round eight found the SM-DP's reservation this way (307 µs of 1 255 µs of SQLite per provisioning: a
 * sort of every available subscription), which the profile only showed as "SQLite".
 */
import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';

export interface StatementTime {
  /** The statement's text, whitespace folded, cut at 100 characters. */
  text: string;
  count: number;
  totalMs: number;
  /** The median and the slowest: a GC pause or a preemption lands in one statement's time, and shows in the latter. */
  medianMs: number;
  maxMs: number;
}

interface Samples {
  text: string;
  ms: number[];
}

type Method = 'run' | 'all' | 'get';
const METHODS: readonly Method[] = ['run', 'all', 'get'];

/** Starts timing every better-sqlite3 statement of this thread; the returned function stops and reports. */
export function startSqliteTiming(): () => StatementTime[] {
  const probe = new Database(':memory:');
  const prototype = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<Method, (...args: unknown[]) => unknown> & { source?: string };
  probe.close();
  const originals = new Map(METHODS.map((method) => [method, prototype[method]]));
  const samples = new Map<string, Samples>();
  for (const method of METHODS) {
    const original = originals.get(method) as (...args: unknown[]) => unknown;
    prototype[method] = function timed(this: { source: string }, ...args: unknown[]): unknown {
      const start = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const ms = performance.now() - start;
        const text = this.source.replace(/\s+/g, ' ').slice(0, 100);
        let entry = samples.get(text);
        if (!entry) samples.set(text, (entry = { text, ms: [] }));
        entry.ms.push(ms);
      }
    };
  }
  return () => {
    for (const method of METHODS) prototype[method] = originals.get(method) as (...args: unknown[]) => unknown;
    return [...samples.values()].map(summarise).sort((a, b) => b.totalMs - a.totalMs);
  };
}

function summarise({ text, ms }: Samples): StatementTime {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    text,
    count: ms.length,
    totalMs: ms.reduce((sum, one) => sum + one, 0),
    medianMs: sorted[Math.floor((sorted.length - 1) / 2)] as number,
    maxMs: sorted[sorted.length - 1] as number,
  };
}

/** The table the bench prints: the statements that took most, per provisioning. */
export function printSqliteTiming(times: readonly StatementTime[], provisionings: number, top = 15): void {
  const totalUs = (1000 * times.reduce((sum, time) => sum + time.totalMs, 0)) / provisionings;
  console.log(`\nSQLite, time per provisioning by statement (${provisionings} provisionings; ${totalUs.toFixed(0)} µs in all):`);
  console.log('| statement | per provisioning | µs: mean | median | slowest | µs per provisioning |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const time of times.slice(0, top)) {
    const each = (1000 * time.totalMs) / time.count;
    console.log(`| \`${time.text}\` | ${(time.count / provisionings).toFixed(2)} | ${each.toFixed(1)} | ${(1000 * time.medianMs).toFixed(1)} | ${(1000 * time.maxMs).toFixed(0)} | ${((1000 * time.totalMs) / provisionings).toFixed(1)} |`);
  }
}
