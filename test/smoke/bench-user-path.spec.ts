/**
 * `npm run bench -- user-path` (bench/user-path.ts): npm start, a fleet beside it and the CLI, each in a
 * process of its own, on a few cards: every download answered, and a row per pass with each process's
 * CPU; bad options refused before anything starts.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { runUserPathBench, stockCalls, userPathOptions } from '../../bench/user-path';

describe('bench user-path', () => {
  const argv = process.argv;
  afterEach(() => {
    process.argv = argv;
    jest.restoreAllMocks();
  });

  it('reads its options, and refuses bad ones naming the flag', () => {
    expect(userPathOptions([])).toEqual({ devices: 1000, concurrency: 40, passes: 2, type: 'bbq' });
    expect(userPathOptions(['user-path', '--devices', '5', '--passes', '1', '--type', 'oven'])).toMatchObject({ devices: 5, passes: 1, type: 'oven' });
    expect(() => userPathOptions(['--devices', '0'])).toThrow('--devices must be a positive integer');
    expect(() => userPathOptions(['--concurrency', 'x'])).toThrow('--concurrency must be a positive integer');
    expect(() => userPathOptions(['--type', 'toaster'])).toThrow('--type must be bbq, oven or generic');
  });

  it('stocks in calls of at most 10 000 profiles, what `rsp mno stock --generate` takes (10 000 cards × 2 passes failed before)', () => {
    expect(stockCalls(6)).toEqual([6]);
    expect(stockCalls(20_000)).toEqual([10_000, 10_000]);
    expect(stockCalls(25_001)).toEqual([10_000, 10_000, 5001]);
  });

  it('runs the path on 3 cards: one row per pass, every download answered Executed-Success', async () => {
    process.argv = ['node', 'bench/run.ts', 'user-path', '--devices', '3', '--concurrency', '2', '--passes', '2'];
    const lines: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    await runUserPathBench();
    expect(lines.find((line) => line.startsWith('set-up:'))).toMatch(/npm start ready in [\d.]+ s; the fleet .* in [\d.]+ s; stock of 6 in/);
    const rows = lines.filter((line) => /^\| \d/.test(line));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/\| 3 eUICCs: 3 Executed-Success \| [\d.]+ \| \d+ \/ \d+ ms \| [\d.]+ \([\d.]+\) \/ [\d.]+ \/ [\d.]+ \| \d+ \/ [\d.]+ \|$/);
  }, 120_000);
});
