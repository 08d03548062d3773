/**
 * `npm run bench -- user-path` (bench/user-path.ts): npm start, a fleet beside it and the CLI, each in a
 * process of its own, on a few cards: every download answered, and a row per pass with each process's
 * CPU; bad options refused before anything starts.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { logWarnings, runUserPathBench, stockCalls, userPathOptions } from '../../bench/user-path';

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

  it("counts the services' warnings and errors, grouped by message with EIDs and numbers masked", () => {
    const output = [
      'keys     RSP_SECRET_BOX_KEYS unset: generated once (development only)',
      '{"level":30,"time":"t","service":"sm-dp","msg":"ES2 DownloadProfile accepted"}',
      '{"level":40,"time":"t","service":"sm-dp","msg":"device status of 89049032123451234512345679352382 could not be fetched: ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE (owner registry unreachable, ECONNRESET)"}',
      '{"level":40,"time":"t","service":"sm-dp","msg":"device status of 89049032123451234512345679352285 could not be fetched: ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE (owner registry unreachable, ECONNRESET)"}',
      '{"level":50,"time":"t","service":"sm-sr","msg":"card 89049032123451234512345679348696 notification #2 not confirmed"}',
      '{"level":40,"time":"t","service":"sm-sr","msg":"cut sho',
    ].join('\n');
    expect(logWarnings(output)).toEqual({
      warnings: 3,
      errors: 1,
      kinds: [
        { service: 'sm-dp', message: 'device status of <EID> could not be fetched: ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE (owner registry unreachable, ECONNRESET)', count: 2 },
        { service: 'sm-sr', message: 'card <EID> notification #<n> not confirmed', count: 1 },
        { service: '?', message: '{"level":<n>,"time":"t","service":"sm-sr","msg":"cut sho', count: 1 },
      ],
    });
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
    expect(lines.find((line) => line.includes("the stack's log over the run"))).toMatch(/: \d+ warnings, 0 errors$/);
  }, 120_000);
});
