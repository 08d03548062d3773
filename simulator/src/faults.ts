/**
 * Fault plans: reproducible misbehaviour of the transport and the card, described as JSON and driven
 * by a seeded PRNG (mulberry32), so a failing run can be replayed exactly from its seed.
 *
 * ```json
 * { "seed": 42,
 *   "es5": { "drop": 0.1, "delay": { "probability": 0.2, "ms": 500 }, "duplicate": 0.05, "corrupt": 0.01 },
 *   "powerLossAt": ["download:segment#3"], "memoryFull": false,
 *   "connectivityLossAtMs": 30000,
 *   "devices": { "89049032…": { "memoryFull": true } } }
 * ```
 * Each card gets its own PRNG stream, derived from the plan seed and its EID, so the decisions for one
 * card do not depend on how many messages other cards exchanged.
 */
import { RspError } from '@rsp/errors';
import type { CardFaults } from '@rsp/card';

export class FaultPlanInvalidError extends RspError {
  static override readonly code = 'ERR_SIM_FAULT_PLAN_INVALID';
}

/** Probabilities (0..1) applied independently to each ES5 message, in both directions. */
export interface Es5FaultRates {
  drop?: number;
  delay?: { probability: number; ms: number };
  duplicate?: number;
  /** Flip one byte of the script. */
  corrupt?: number;
  /**
   * Tamper with an SM-DP's ES8 segment on its way through the SM-SR: in a script carrying INSTALL [for
   * personalization] (the SendData of a download), flip a bit of the last command's C-MAC, so the ISD-P
   * must refuse the SCP03t segment (GP Amd D §6.2.4 / SGP.02 §4.1.3.3).
   */
  tamperEs8?: number;
}

/** The faults of one device (or the fleet default). */
export interface DeviceFaults {
  es5?: Es5FaultRates;
  /**
   * Card steps (the names passed to `CardContext.step`) where power is lost, each once — the first
   * time the card reaches it. `name#n` loses power the n-th time instead (1-based).
   */
  powerLossAt?: string[];
  /** Every allocation fails with 6A84 while true. */
  memoryFull?: boolean;
  /** Cellular coverage disappears this many ms after start (device models react with fall-back). */
  connectivityLossAtMs?: number;
}

export interface FaultPlan extends DeviceFaults {
  seed: number;
  /** Per-EID overrides, merged over the fleet defaults. */
  devices?: Record<string, DeviceFaults>;
}

/** What to do with one ES5 message. `corruptAt` is the byte offset to flip (mod the length). */
export type Es5Decision =
  | { action: 'deliver' }
  | { action: 'drop' }
  | { action: 'delay'; ms: number }
  | { action: 'duplicate' }
  | { action: 'corrupt'; corruptAt: number };

/** mulberry32: a tiny, fast 32-bit PRNG with good enough statistics for fault injection. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string, to derive per-card seeds. */
function fnv1a(text: string, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Validates a parsed JSON document as a FaultPlan (typed error naming the bad field). */
export function parseFaultPlan(json: unknown): FaultPlan {
  if (typeof json !== 'object' || json === null) throw new FaultPlanInvalidError('fault plan must be a JSON object');
  const plan = json as FaultPlan;
  if (!Number.isInteger(plan.seed)) throw new FaultPlanInvalidError('fault plan needs an integer "seed"');
  const check = (faults: DeviceFaults, where: string): void => {
    const rates = faults.es5 ?? {};
    for (const key of ['drop', 'duplicate', 'corrupt', 'tamperEs8'] as const) {
      const p = rates[key];
      if (p !== undefined && !(typeof p === 'number' && p >= 0 && p <= 1)) {
        throw new FaultPlanInvalidError(`${where}.es5.${key} must be a probability in [0, 1]`);
      }
    }
    if (rates.delay && !(rates.delay.probability >= 0 && rates.delay.probability <= 1 && rates.delay.ms >= 0)) {
      throw new FaultPlanInvalidError(`${where}.es5.delay needs probability in [0, 1] and ms ≥ 0`);
    }
    if (faults.powerLossAt && !faults.powerLossAt.every((s) => typeof s === 'string')) {
      throw new FaultPlanInvalidError(`${where}.powerLossAt must list step names`);
    }
  };
  check(plan, 'plan');
  for (const [eid, faults] of Object.entries(plan.devices ?? {})) check(faults, `plan.devices.${eid}`);
  return plan;
}

/** The decisions for one card: ES5 message fates and the card's fault hooks. */
export class DeviceFaultInjector {
  private readonly random: () => number;
  private readonly stepHits = new Map<string, number>();
  private readonly firedPowerLoss = new Set<string>();

  constructor(
    readonly faults: DeviceFaults,
    seed: number,
  ) {
    this.random = mulberry32(seed);
  }

  /** The fate of the next ES5 message (one PRNG draw per configured fault, in a fixed order). */
  nextEs5(): Es5Decision {
    const rates = this.faults.es5;
    if (!rates) return { action: 'deliver' };
    if (rates.drop && this.random() < rates.drop) return { action: 'drop' };
    if (rates.corrupt && this.random() < rates.corrupt) {
      return { action: 'corrupt', corruptAt: Math.floor(this.random() * 0x10000) };
    }
    if (rates.duplicate && this.random() < rates.duplicate) return { action: 'duplicate' };
    if (rates.delay && this.random() < rates.delay.probability) return { action: 'delay', ms: rates.delay.ms };
    return { action: 'deliver' };
  }

  /**
   * Tampers with `commands` in place when they carry an ES8 segment (INSTALL [for personalization], GP CS
   * §11.5: CLA 80/84, INS E6, P1 20) and the `tamperEs8` draw says so; true when it did.
   */
  tamperEs8Segment(commands: Buffer[]): boolean {
    const rate = this.faults.es5?.tamperEs8;
    const carriesEs8 = commands.some((apdu) => apdu[1] === 0xe6 && apdu[2] === 0x20);
    if (!rate || !carriesEs8 || !(this.random() < rate)) return false;
    const last = commands[commands.length - 1] as Buffer;
    // A short C-APDU ends with its 8-byte C-MAC (no Le in a GP STORE DATA): flip a bit of the MAC's last byte.
    const tampered = Buffer.from(last);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 0x01;
    commands[commands.length - 1] = tampered;
    return true;
  }

  /** Hooks for `VirtualEuiccOptions.faults`. */
  cardFaults(): CardFaults {
    return {
      powerLossAt: (step) => this.powerLossAt(step),
      memoryFull: () => this.faults.memoryFull === true,
    };
  }

  private powerLossAt(step: string): boolean {
    const planned = this.faults.powerLossAt;
    if (!planned || planned.length === 0) return false;
    const hits = (this.stepHits.get(step) ?? 0) + 1;
    this.stepHits.set(step, hits);
    for (const entry of [step, `${step}#${hits}`]) {
      if (planned.includes(entry) && !this.firedPowerLoss.has(entry)) {
        this.firedPowerLoss.add(entry);
        return true;
      }
    }
    return false;
  }
}

/** A plan compiled for a fleet: one injector per EID, created on first use. */
export class FaultPlanRunner {
  private readonly injectors = new Map<string, DeviceFaultInjector>();

  constructor(readonly plan: FaultPlan) {}

  /** The merged faults of one device (fleet defaults, then its override). */
  faultsFor(eid: string): DeviceFaults {
    const { seed: _seed, devices, ...defaults } = this.plan;
    return { ...defaults, ...(devices?.[eid] ?? {}) };
  }

  forDevice(eid: string): DeviceFaultInjector {
    let injector = this.injectors.get(eid);
    if (!injector) {
      injector = new DeviceFaultInjector(this.faultsFor(eid), fnv1a(eid, this.plan.seed));
      this.injectors.set(eid, injector);
    }
    return injector;
  }
}

/** Flips every bit of the byte at `offset % length` (the copy, never the input). */
export function corruptBytes(bytes: Uint8Array, offset: number): Buffer {
  const copy = Buffer.from(bytes);
  if (copy.length > 0) copy[offset % copy.length] = (copy[offset % copy.length] as number) ^ 0xff;
  return copy;
}
