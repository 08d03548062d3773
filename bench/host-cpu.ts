/**
 * The CPU the bench's process does not see: the private Mosquitto, PostgreSQL's processes, and the host as a
 * whole (Linux /proc). With `--stack mosquitto-postgres` a provisioning's work is spread over three
 * programs on the same two cores; the services' figure alone would hide what bounds the rate.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { schedstatCpuMs } from '@rsp/mqtt-transport';

/** CPU ms of a single-threaded process (Mosquitto, a PostgreSQL backend). */
const processCpuMs = (pid: number): number | undefined => schedstatCpuMs(`/proc/${pid}/schedstat`);

/** Every process whose command is `postgres` (the postmaster, its backends and background writers). */
function postgresPids(): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(entry));
    } catch {
      // gone between readdir and read
    }
  }
  return pids;
}

/** The host's busy, idle and stolen CPU ms so far, from /proc/stat's first line (USER_HZ ticks, 100 per second). */
function hostCpuMs(): { busy: number; idle: number; steal: number } | undefined {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return undefined;
  }
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (proc(5)); guest time is in user.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  const tick = 10;
  return { busy: (user + nice + system + irq + softirq) * tick, idle: (idle + iowait) * tick, steal: steal * tick };
}

export interface OutsideCpu {
  /** The private Mosquitto's CPU ms, when the bench started one. */
  mosquittoMs?: number;
  /** All `postgres` processes' CPU ms, when PostgreSQL runs on this host (between two readings). */
  postgresMs?: number;
  /**
   * A reading's: each `postgres` process's CPU ms, so that one exiting between two readings (an idle
   * pool connection closed) does not count negative.
   */
  postgresByPid?: ReadonlyMap<number, number>;
  /** The whole host's busy CPU ms (every process, this bench included), and the time stolen by the hypervisor. */
  hostMs?: number;
  stealMs?: number;
  /** The cores' idle CPU ms: with threads runnable, this host still leaves a core idle while a halted one wakes (round seven). */
  idleMs?: number;
}

/** A reading now; `since(before)` gives what was used in between. */
export class OutsideCpuMeter {
  constructor(private readonly options: { mosquittoPid?: number; postgres: boolean }) {}

  read(): OutsideCpu {
    const host = hostCpuMs();
    const mosquittoMs = this.options.mosquittoPid !== undefined ? processCpuMs(this.options.mosquittoPid) : undefined;
    const postgres = new Map<number, number>();
    if (this.options.postgres) {
      for (const pid of postgresPids()) {
        const ms = processCpuMs(pid);
        if (ms !== undefined) postgres.set(pid, ms);
      }
    }
    return {
      ...(mosquittoMs !== undefined ? { mosquittoMs } : {}),
      ...(postgres.size > 0 ? { postgresByPid: postgres } : {}),
      ...(host ? { hostMs: host.busy, stealMs: host.steal, idleMs: host.idle } : {}),
    };
  }
}

/**
 * What was used between two readings; a figure missing from either is left out. PostgreSQL's is summed
 * over the processes alive at the second reading (one started in between counts from zero); one that
 * exited in between (the pool closes a connection idle for 10 s) loses its last moments, not its life.
 */
export function cpuBetween(before: OutsideCpu, after: OutsideCpu): OutsideCpu {
  const out: OutsideCpu = {};
  for (const key of ['mosquittoMs', 'hostMs', 'stealMs', 'idleMs'] as const) {
    const a = before[key];
    const b = after[key];
    if (a !== undefined && b !== undefined) out[key] = b - a;
  }
  if (before.postgresByPid && after.postgresByPid) {
    let postgresMs = 0;
    for (const [pid, ms] of after.postgresByPid) postgresMs += ms - (before.postgresByPid.get(pid) ?? 0);
    out.postgresMs = postgresMs;
  }
  return out;
}

/**
 * Context switches of every thread of this process so far (/proc/self/task/<tid>/status): voluntary, a
 * thread that went to sleep (its loop had nothing to do) and was woken again, which this host charges
 * 30–50 µs of CPU for (round seven); involuntary, a runnable thread preempted for another. Undefined off Linux.
 */
export function processContextSwitches(): { voluntary: number; involuntary: number } | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  let voluntary = 0;
  let involuntary = 0;
  for (const task of tasks) {
    try {
      const status = readFileSync(`/proc/self/task/${task}/status`, 'utf8');
      voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      involuntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      // a thread that ended between readdir and read
    }
  }
  return { voluntary, involuntary };
}

/**
 * Read-like and write-like syscalls of the calling thread so far (/proc/thread-self/io: syscr, syscw; a
 * `writev` of many TLS records is one). The services' thread writes a handful per provisioning, as a TLS
 * socket queues what is written while its previous write is in flight and sends it together (round ten).
 * Undefined off Linux.
 */
export function threadSyscalls(): { reads: number; writes: number } | undefined {
  try {
    const io = readFileSync('/proc/thread-self/io', 'utf8');
    const reads = Number(/^syscr:\s+(\d+)/m.exec(io)?.[1]);
    const writes = Number(/^syscw:\s+(\d+)/m.exec(io)?.[1]);
    return Number.isFinite(reads) && Number.isFinite(writes) ? { reads, writes } : undefined;
  } catch {
    return undefined;
  }
}
