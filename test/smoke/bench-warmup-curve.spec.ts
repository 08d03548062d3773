// The bench's warm-up curve (bench/warmup-curve.ts): every round counted, pooled into at most a dozen steps.
import { describe, expect, it } from '@jest/globals';
import { warmupCurve } from '../../bench/warmup-curve';

describe('bench warm-up curve', () => {
  it('prints each round while there are a dozen or fewer', () => {
    const rounds = [
      { provisionings: 40, seconds: 1, servicesMs: 20 },
      { provisionings: 40, seconds: 0.5, servicesMs: 10 },
    ];
    expect(warmupCurve(rounds)).toBe("each round (rate, services' CPU per provisioning): 40/s 20.0 ms → 80/s 10.0 ms");
  });

  it('pools longer warm-ups into at most 12 steps, weighting each round by its provisionings (a short last round included)', () => {
    // 50 rounds of 40 and a last one of 20: 51 rounds, pooled 5 at a time into 11 steps.
    const rounds = Array.from({ length: 51 }, (_, i) => ({ provisionings: i === 50 ? 20 : 40, seconds: 0.5, servicesMs: i < 5 ? 8 : 4 }));
    const curve = warmupCurve(rounds);
    const steps = curve.split(': ')[1]?.split(' → ') ?? [];
    expect(curve.startsWith('5 rounds at a time')).toBe(true);
    expect(steps).toHaveLength(11);
    expect(steps[0]).toBe('80/s 8.0 ms');
    expect(steps[10]).toBe('40/s 4.0 ms');
  });
});
