/**
 * Where a new fleet's EIDs go, so that it never takes a card a running stack already serves. Two fleets
 * with one EID would both answer that card's ES5 commands (a gateway relays every `euicc/+` command), and
 * every ES4 / ES2 call on the original would then fail (issue 12: the demo oven broke while a fleet ran).
 *
 * The running stack tells which EIDs it serves through its device API (`GET /devices`, docs/device-api.md).
 */
import { DEMO_EID_FIRST_SERIAL, DEMO_EID_PREFIX, generateEid } from '@rsp/pki';
import { RspError } from '@rsp/errors';

/** The requested range overlaps cards a running stack serves. */
export class FleetRangeTaken extends RspError {
  static override readonly code = 'ERR_SIM_EID_RANGE_TAKEN';
}

export interface Placement {
  eidPrefix: string;
  firstSerial: number;
  /** What the choice was based on, for the start-up line. */
  note: string;
}

/** Every EID the device API at `url` lists, or undefined when nothing answers there within `timeoutMs`. */
export async function servedEids(url: string, timeoutMs = 1500): Promise<Set<string> | undefined> {
  const eids = new Set<string>();
  for (let offset = 0; ; ) {
    let page: { total?: number; devices?: Array<{ eid?: unknown }> };
    try {
      const response = await fetch(`${url.replace(/\/+$/, '')}/devices?offset=${offset}&limit=1000`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) return undefined;
      page = (await response.json()) as typeof page;
    } catch {
      return undefined;
    }
    const devices = page.devices ?? [];
    for (const device of devices) if (typeof device.eid === 'string') eids.add(device.eid);
    offset += devices.length;
    if (devices.length === 0 || offset >= (page.total ?? 0)) return eids;
  }
}

/** The serial of `eid` under `prefix` (the digits between the prefix and the two check digits), or undefined. */
export function serialOf(eid: string, prefix: string): bigint | undefined {
  if (!/^\d{32}$/.test(eid) || !eid.startsWith(prefix)) return undefined;
  return BigInt(eid.slice(prefix.length, 30));
}

/**
 * The prefix and first serial for `size` cards: the requested ones when they are clear of `served` (else
 * FleetRangeTaken, naming the first free serial), or, with no first serial requested, the first serial after
 * every served card of the same prefix.
 */
export function placeFleet(size: number, served: ReadonlySet<string>, requested: { eidPrefix?: string; firstSerial?: number }, source: string): Placement {
  const eidPrefix = requested.eidPrefix ?? DEMO_EID_PREFIX;
  const defaultSerial = eidPrefix === DEMO_EID_PREFIX ? DEMO_EID_FIRST_SERIAL : 1;
  const firstFree = firstClearSerial(size, served, eidPrefix, defaultSerial);
  if (requested.firstSerial === undefined) {
    const firstSerial = firstFree;
    const note = served.size === 0 ? 'default range' : `clear of the ${served.size} cards served at ${source}`;
    return { eidPrefix, firstSerial, note };
  }
  const taken: string[] = [];
  for (let index = 0; index < size && taken.length < 3; index += 1) {
    const eid = generateEid(eidPrefix, requested.firstSerial + index);
    if (served.has(eid)) taken.push(eid);
  }
  if (taken.length > 0) {
    throw new FleetRangeTaken(
      `EID ${taken[0]} is already served by the stack at ${source}: choose --first-serial ${firstFree} (the first free one) or another --eid-prefix`,
    );
  }
  return { eidPrefix, firstSerial: requested.firstSerial, note: 'as requested' };
}

/** The lowest serial ≥ `from` whose `size` EIDs under `prefix` are all clear of `served`. */
function firstClearSerial(size: number, served: ReadonlySet<string>, prefix: string, from: number): number {
  const taken = new Set<bigint>();
  for (const eid of served) {
    const serial = serialOf(eid, prefix);
    if (serial !== undefined) taken.add(serial);
  }
  let start = BigInt(from);
  for (let offset = 0n; offset < BigInt(size); offset += 1n) {
    if (taken.has(start + offset)) {
      start += offset + 1n; // restart just past the taken serial
      offset = -1n;
    }
  }
  return Number(start);
}
