/**
 * bench/ab.ts: `--ab` runs the measured rounds of two variants in one process, in the order a b b a, and
 * sets the variant an experiment reads before each round; the sign test says how uneven a split is.
 */
import { describe, expect, it, jest } from '@jest/globals';
import { BENCH_VARIANT, alternatingRounds, printAb, signTestP } from '../../bench/ab';

describe('alternatingRounds', () => {
  it('runs a b b a … with the variant set for each round, and clears it afterwards', async () => {
    const seen: unknown[] = [];
    let n = 0;
    const by = await alternatingRounds(8, async () => {
      seen.push((globalThis as Record<symbol, unknown>)[BENCH_VARIANT]);
      n += 1;
      return { ok: 1, total: 1, rate: n, cpuMs: n };
    });
    expect(seen).toEqual(['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']);
    expect(by.a.map((round) => round.rate)).toEqual([1, 4, 5, 8]);
    expect(by.b.map((round) => round.rate)).toEqual([2, 3, 6, 7]);
    expect(BENCH_VARIANT in globalThis).toBe(false);
  });

  it('clears the variant when a round fails', async () => {
    await expect(alternatingRounds(4, async () => Promise.reject(new Error('round failed')))).rejects.toThrow('round failed');
    expect(BENCH_VARIANT in globalThis).toBe(false);
  });
});

describe('signTestP', () => {
  it('is the two-sided binomial tail of a fair coin', () => {
    expect(signTestP(10, 20)).toBe(1);
    expect(signTestP(0, 5)).toBeCloseTo(2 / 32, 10);
    expect(signTestP(3, 20)).toBeCloseTo(signTestP(17, 20), 12);
    expect(signTestP(3, 20)).toBeCloseTo((2 * (1 + 20 + 190 + 1140)) / 2 ** 20, 12);
  });
});

describe('printAb', () => {
  it('prints each variant’s outcomes, each figure’s medians and their ratio, and how often b’s services’ thread came out lower', () => {
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      printAb({
        a: [
          { ok: 40, total: 40, rate: 100, cpuMs: 10, servicesThreadMs: 5 },
          { ok: 40, total: 40, rate: 110, cpuMs: 11, servicesThreadMs: 6 },
        ],
        b: [
          { ok: 40, total: 40, rate: 120, cpuMs: 9, servicesThreadMs: 4 },
          { ok: 39, total: 40, rate: 130, cpuMs: 10, servicesThreadMs: 7 },
        ],
      });
    } finally {
      log.mockRestore();
    }
    const text = lines.join('\n');
    expect(text).toContain('Executed-Success a 80/80, b 79/80');
    expect(text).toContain('| provisionings/s | 105.0 (105.0) | 125.0 (125.0) | 1.190 |');
    expect(text).toContain("| the services' thread, ms per provisioning | 5.50 (5.50) | 5.50 (5.50) | 1.000 |");
    expect(text).not.toContain('the whole host'); // no reading, no row
    expect(text).toContain("b's services' thread below a's in 1 of 2 neighbouring pairs");
  });
});
