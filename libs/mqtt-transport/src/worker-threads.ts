/**
 * What the threads that stand for other machines share (the broker thread, the card thread): the bootstrap
 * that runs their TypeScript entry, and the per-thread CPU time the bench splits a provisioning's CPU by.
 */
import { readFileSync } from 'node:fs';

/**
 * CPU time (ms) of the calling thread, from Linux's /proc/thread-self/schedstat (its first field: the time
 * the scheduler ran the thread, user and system, in ns), else /proc/thread-self/stat (utime + stime in
 * clock ticks: 10 ms at the usual 100 Hz, too coarse for a round of a fraction of a second); undefined
 * where neither exists. process.cpuUsage() counts every thread of the process, so it cannot tell the
 * services from the cards.
 */
export function threadCpuMs(): number | undefined {
  const scheduled = schedstatCpuMs('/proc/thread-self/schedstat');
  if (scheduled !== undefined && scheduled > 0) return scheduled;
  return statCpuMs('/proc/thread-self/stat'); // no schedstat (kernel without CONFIG_SCHED_INFO): the ticks
}

/**
 * CPU time (ms) in a Linux stat file: utime + stime in clock ticks (10 ms). /proc/<pid>/stat counts every
 * thread of a process, those that have ended included; a thread's own is /proc/<pid>/task/<tid>/stat.
 * Undefined when it cannot be read.
 */
export function statCpuMs(file: string): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name `(…)`: state is field 3, utime field 14, stime field 15 (proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const ticksPerSecond = 100; // USER_HZ, fixed at 100 on Linux for /proc (proc(5) "clock ticks")
  return Number.isFinite(ticks) ? (ticks * 1000) / ticksPerSecond : undefined;
}

/**
 * CPU time (ms) in a Linux schedstat file (/proc/<pid>/schedstat for a single-threaded process, or a
 * thread's): its first field, the time the scheduler ran it, in ns; undefined when it cannot be read.
 */
export function schedstatCpuMs(file: string): number | undefined {
  try {
    const nanoseconds = Number(readFileSync(file, 'utf8').split(' ')[0]);
    return Number.isFinite(nanoseconds) ? nanoseconds / 1e6 : undefined;
  } catch {
    return undefined; // no such file: no schedstat, or the process has exited
  }
}

/**
 * The `eval` source of a worker whose entry is a TypeScript file: it imports the entry through tsx's API,
 * whatever started the parent (tsx, Jest), since on Node 20 a worker does not take the parent's `--import`
 * loader for its entry module.
 */
export function tsWorkerBootstrap(entry: string): string {
  return `import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}));`;
}
