/**
 * `--ab`: two variants of the code measured in ONE process, round by round (a, b, b, a, a, b, b, a …).
 *
 * On this host the rate moves ±15 % from one minute to the next and whole runs drift further, so a change
 * worth a few per cent is lost between two processes (bench:compare alternates whole runs, a minute each).
 * Here each round of `--devices` provisionings lasts a fraction of a second, the two variants share the
 * same warmed JIT, caches, connections and minute, and the order a b b a cancels a steady drift within each
 * group of four. The report gives each variant's Executed-Success count, each figure's median and mean
 * and, pair by pair, how often b's services' thread came out below a's: about half the pairs when the
 * variants do not differ (a sign test gives how likely a split is by chance).
 *
 * How an experiment uses it: the bench sets `globalThis[Symbol.for('rsp.bench.variant')]` to 'a' or 'b'
 * before each round, and a patch under study (never a commit: nothing in libs/ or apps/ reads it) takes
 * its new path when it reads 'b', e.g. `if (globalThis[Symbol.for('rsp.bench.variant')] === 'b') …`.
 * Without such a patch both variants run the same code (an A/A run: how far apart noise puts them).
 */

export const BENCH_VARIANT = Symbol.for('rsp.bench.variant');

export type Variant = 'a' | 'b';

/** What the report reads off one measured round: counts, the rate, and the rest per provisioning. */
export interface AbRound {
  /** Provisionings that ended Executed-Success, of `total`: a variant that breaks the flow shows here first. */
  ok: number;
  total: number;
  rate: number;
  cpuMs: number;
  servicesThreadMs?: number;
  hostMs?: number;
  writeSyscalls?: number;
}

/** Runs `rounds` rounds (a multiple of 4 is best) in the order a b b a, setting the variant before each. */
export async function alternatingRounds(rounds: number, run: () => Promise<AbRound>): Promise<Record<Variant, AbRound[]>> {
  const by: Record<Variant, AbRound[]> = { a: [], b: [] };
  const globals = globalThis as Record<symbol, unknown>;
  try {
    for (let round = 0; round < rounds; round += 1) {
      const variant: Variant = round % 4 === 0 || round % 4 === 3 ? 'a' : 'b';
      globals[BENCH_VARIANT] = variant;
      by[variant].push(await run());
    }
  } finally {
    delete globals[BENCH_VARIANT];
  }
  return by;
}

/** The middle value (the mean of the two middle ones for an even count); bench:compare's and the timeline's too. */
export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

/** The A/B table: each figure's median (and mean) per variant and the ratio b ÷ a of the medians. */
export function printAb(by: Record<Variant, AbRound[]>): void {
  const figures: Array<[string, (round: AbRound) => number | undefined, number]> = [
    ['provisionings/s', (round) => round.rate, 1],
    ['CPU ms per provisioning (the process, client left out)', (round) => round.cpuMs, 2],
    ["the services' thread, ms per provisioning", (round) => round.servicesThreadMs, 2],
    ['the whole host, ms per provisioning', (round) => round.hostMs, 1],
    ["write syscalls per provisioning, the services' thread", (round) => round.writeSyscalls, 1],
  ];
  const outcome = (rounds: AbRound[]) => `${rounds.reduce((sum, round) => sum + round.ok, 0)}/${rounds.reduce((sum, round) => sum + round.total, 0)}`;
  console.log(`\nA/B in one process: ${by.a.length} rounds of a, ${by.b.length} of b, in the order a b b a; Executed-Success a ${outcome(by.a)}, b ${outcome(by.b)}\n`);
  console.log('| figure | a: median (mean) | b: median (mean) | b ÷ a (medians) |');
  console.log('|---|---:|---:|---:|');
  for (const [label, read, digits] of figures) {
    const a = by.a.map(read).filter((value): value is number => value !== undefined && Number.isFinite(value));
    const b = by.b.map(read).filter((value): value is number => value !== undefined && Number.isFinite(value));
    if (a.length === 0 || b.length === 0) continue;
    const show = (values: number[]) => `${median(values).toFixed(digits)} (${mean(values).toFixed(digits)})`;
    console.log(`| ${label} | ${show(a)} | ${show(b)} | ${(median(b) / median(a)).toFixed(3)} |`);
  }
  // Pairs in order (the i-th a with the i-th b: neighbours in a b b a).
  const pairs = Math.min(by.a.length, by.b.length);
  let lower = 0;
  let compared = 0;
  for (let i = 0; i < pairs; i += 1) {
    const a = by.a[i]?.servicesThreadMs;
    const b = by.b[i]?.servicesThreadMs;
    if (a === undefined || b === undefined) continue;
    compared += 1;
    if (b < a) lower += 1;
  }
  if (compared > 0) {
    console.log(
      `\nb's services' thread below a's in ${lower} of ${compared} neighbouring pairs (about half when the variants do not differ; ` +
        `sign test, two-sided p = ${signTestP(lower, compared).toFixed(3)})`,
    );
  }
}

/** Two-sided p of the sign test: the chance of a split at least this uneven if each pair were a coin toss. */
export function signTestP(successes: number, trials: number): number {
  let choose = 1; // C(trials, k), built up term by term
  const terms: number[] = [];
  for (let k = 0; k <= trials; k += 1) {
    terms.push(choose / 2 ** trials);
    choose = (choose * (trials - k)) / (k + 1);
  }
  const tail = (from: number, to: number) => terms.slice(from, to + 1).reduce((sum, term) => sum + term, 0);
  return Math.min(1, 2 * Math.min(tail(0, successes), tail(successes, trials)));
}
