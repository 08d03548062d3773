// threadCpuMs: the per-thread CPU the bench splits a provisioning by, finer than a clock tick where Linux
// keeps schedstat (a round of 40 provisionings lasts a fraction of a second: 10 ms ticks would swamp it).
import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { threadCpuMs } from '../src/worker-threads';

describe('threadCpuMs', () => {
  it('reads the calling thread’s CPU below the 10 ms clock tick (schedstat), not in whole ticks', () => {
    if (!existsSync('/proc/thread-self/schedstat')) return; // Linux without scheduler statistics: ticks only
    const before = threadCpuMs() as number;
    const cpuBefore = process.cpuUsage();
    let spin = 0;
    while (process.cpuUsage(cpuBefore).user < 3_000) spin += 1; // about 3 ms of CPU on this thread
    const used = (threadCpuMs() as number) - before;
    expect(spin).toBeGreaterThan(0);
    expect(used).toBeGreaterThan(0);
    expect(used % 10).not.toBe(0); // not a whole number of ticks
  });
});
