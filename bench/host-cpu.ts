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

/** The host's busy and stolen CPU ms so far, from /proc/stat's first line (USER_HZ ticks, 100 per second). */
function hostCpuMs(): { busy: number; steal: number } | undefined {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return undefined;
  }
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (proc(5)); guest time is in user.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  const tick = 10;
  return { busy: (user + nice + system + irq + softirq) * tick, steal: steal * tick };
}

export interface OutsideCpu {
  /** The private Mosquitto's CPU ms, when the bench started one. */
  mosquittoMs?: number;
  /** All `postgres` processes' CPU ms, when PostgreSQL runs on this host. */
  postgresMs?: number;
  /** The whole host's busy CPU ms (every process, this bench included), and the time stolen by the hypervisor. */
  hostMs?: number;
  stealMs?: number;
}

/** A reading now; `since(before)` gives what was used in between. */
export class OutsideCpuMeter {
  constructor(private readonly options: { mosquittoPid?: number; postgres: boolean }) {}

  read(): OutsideCpu {
    const host = hostCpuMs();
    const mosquittoMs = this.options.mosquittoPid !== undefined ? processCpuMs(this.options.mosquittoPid) : undefined;
    const postgres = this.options.postgres ? postgresPids().map(processCpuMs) : [];
    return {
      ...(mosquittoMs !== undefined ? { mosquittoMs } : {}),
      ...(postgres.length > 0 ? { postgresMs: postgres.reduce<number>((sum, ms) => sum + (ms ?? 0), 0) } : {}),
      ...(host ? { hostMs: host.busy, stealMs: host.steal } : {}),
    };
  }
}

/** What was used between two readings; a figure missing from either is left out. */
export function cpuBetween(before: OutsideCpu, after: OutsideCpu): OutsideCpu {
  const out: OutsideCpu = {};
  for (const key of ['mosquittoMs', 'postgresMs', 'hostMs', 'stealMs'] as const) {
    const a = before[key];
    const b = after[key];
    if (a !== undefined && b !== undefined) out[key] = b - a;
  }
  return out;
}
