/**
 * `npm run bench -- owner-status` (bench/owner-status.ts): the owner registry in process, a service's cache
 * resolving EIDs it has never seen (each a signed "not registered" document fetched and verified), one
 * line per round with the CPU per status; bad options refused before anything starts.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { runOwnerStatusBench } from '../../bench/owner-status';

describe('bench owner-status', () => {
  const argv = process.argv;
  afterEach(() => {
    process.argv = argv;
    jest.restoreAllMocks();
  });

  it('refuses bad options naming the flag', async () => {
    process.argv = ['node', 'bench/run.ts', 'owner-status', '--statuses', '2'];
    await expect(runOwnerStatusBench()).rejects.toThrow('--statuses must be an integer of at least 4');
    process.argv = ['node', 'bench/run.ts', 'owner-status', '--rounds', '0'];
    await expect(runOwnerStatusBench()).rejects.toThrow('--rounds must be a positive integer');
  });

  it('resolves 8 first statuses per round (a resolution that fails throws) and prints µs per status', async () => {
    process.argv = ['node', 'bench/run.ts', 'owner-status', '--statuses', '8', '--rounds', '2'];
    const lines: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    await runOwnerStatusBench();
    const rounds = lines.filter((line) => line.startsWith('round '));
    expect(rounds).toHaveLength(2);
    for (const line of rounds) expect(line).toMatch(/^round \d, per status: main thread \d+ µs, process \d+ µs, wall \d+ µs$/);
  }, 60_000);
});
