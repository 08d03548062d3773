/**
 * bench/host-cpu.ts: the CPU the bench's process does not see, between two readings. PostgreSQL's is
 * summed per process, so a backend that exits in between (the pool closes a connection idle for 10 s,
 * which the pipelined connection made common) does not make the figure negative.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuBetween, processContextSwitches, threadSyscalls } from '../../bench/host-cpu';

describe('cpuBetween', () => {
  it('takes differences of the host and Mosquitto figures, and leaves out a figure missing from either reading', () => {
    expect(cpuBetween({ hostMs: 100, stealMs: 1, idleMs: 50, mosquittoMs: 7 }, { hostMs: 160, stealMs: 1, idleMs: 70, mosquittoMs: 9 })).toEqual({ hostMs: 60, stealMs: 0, idleMs: 20, mosquittoMs: 2 });
    expect(cpuBetween({ hostMs: 100 }, { hostMs: 160, mosquittoMs: 9 })).toEqual({ hostMs: 60 });
  });

  it('sums PostgreSQL over the processes alive at the second reading: an exited backend is not negative, a new one counts from zero', () => {
    const before = { postgresByPid: new Map([[1, 100], [2, 1200]]) }; // backend 2 is an idle pool connection
    const after = { postgresByPid: new Map([[1, 150], [3, 30]]) }; // 2 exited, 3 started
    expect(cpuBetween(before, after)).toEqual({ postgresMs: 80 });
  });
});

describe('processContextSwitches', () => {
  it('counts a sleep of this thread as a voluntary switch (Linux /proc/self/task/*/status)', () => {
    const before = processContextSwitches();
    expect(before).toEqual({ voluntary: expect.any(Number), involuntary: expect.any(Number) });
    // A futex wait with a relative timeout always sleeps. (A 20 ms timer did not always: on a loaded host the
    // thread could be preempted past the timer's due time, and libuv then polled without sleeping.)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    expect(processContextSwitches()!.voluntary).toBeGreaterThan(before!.voluntary);
  });
});

describe('threadSyscalls', () => {
  it('counts this thread\'s read and write syscalls (Linux /proc/thread-self/io)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rsp-syscalls-'));
    try {
      const before = threadSyscalls();
      expect(before).toEqual({ reads: expect.any(Number), writes: expect.any(Number) });
      writeFileSync(join(dir, 'f'), 'x'); // one write(2) at least
      readFileSync(join(dir, 'f'));
      const after = threadSyscalls()!;
      expect(after.writes).toBeGreaterThan(before!.writes);
      expect(after.reads).toBeGreaterThan(before!.reads);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
