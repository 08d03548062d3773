/** Test helper: manufactured cards with a bootstrap profile, and state assertions for ISD-R tests. */
import { expect } from '@jest/globals';
import type { TestPki } from '@rsp/pki';
import type { CommandApdu } from '@rsp/tlv';
import { ISDP_LIFE_CYCLE, manufactureFromTestPki, MemoryCardStore, VirtualEuicc, type CardEvent, type CardFaults, type CardState } from '../../src';
import { defaultIsdRKeySet, isdpAid } from '@rsp/offcard';
import { openIsdR, type IsdRSession } from './es5';
import { installedIsdp, TEST_SET_1 } from './isd-r-commands';

export const ISDP1 = isdpAid(1); // bootstrap: ENABLED, fall-back
export const ISDP2 = isdpAid(2);
export const ISDP3 = isdpAid(3);
export const BOOTSTRAP = {
  iccid: '8944000000000000009',
  imsi: '001010000000009',
  ki: Buffer.from(TEST_SET_1.k, 'hex'),
  opc: Buffer.from(TEST_SET_1.opc, 'hex'),
};

export interface Card {
  euicc: VirtualEuicc;
  events: CardEvent[];
  /** Selects the ISD-R and opens a fresh ES5 session with the default TEST keys. */
  es5: () => IsdRSession;
}

export interface CardOptions {
  customise?: (state: CardState) => void;
  faults?: CardFaults;
  memoryBytes?: number;
}

/** A card of `pki.euiccs[0]` with the bootstrap profile, in a MemoryCardStore, recording its events. */
export function makeCard(pki: TestPki, options: CardOptions = {}): Card {
  const state = manufactureFromTestPki(pki, 0, {
    bootstrapProfile: BOOTSTRAP,
    ...(options.memoryBytes ? { memoryBytes: options.memoryBytes } : {}),
  });
  options.customise?.(state);
  const euicc = VirtualEuicc.manufacture(state, { store: new MemoryCardStore(), faults: options.faults ?? {} });
  const events: CardEvent[] = [];
  euicc.on('event', (event) => events.push(event));
  const keys = defaultIsdRKeySet(state.eid);
  return { euicc, events, es5: () => openIsdR(euicc, keys) };
}

/** A card with ISD-P 2 holding a DISABLED profile next to the bootstrap profile. */
export function makeCardWithProfile(pki: TestPki, options: Parameters<typeof installedIsdp>[1] = {}): Card {
  return makeCard(pki, { customise: (state) => state.isdps.push(installedIsdp(ISDP2, options)) });
}

/** Sends and asserts the status word; a refusal must leave the persistent state untouched. */
export function expectSw(c: Card, session: IsdRSession, apdu: CommandApdu, sw: number): Buffer {
  const before = c.euicc.snapshot();
  const response = session.send(apdu);
  expect(response.sw.toString(16)).toBe(sw.toString(16));
  if (sw !== 0x9000) expect(c.euicc.snapshot()).toEqual(before);
  return response.data;
}

export function lifeCycle(c: Card, aid: string): number | undefined {
  return c.euicc.snapshot().isdps.find((isdp) => isdp.aid === aid)?.lifeCycle;
}

export function expectAtMostOneEnabled(c: Card): void {
  expect(c.euicc.snapshot().isdps.filter((isdp) => isdp.lifeCycle === ISDP_LIFE_CYCLE.ENABLED).length).toBeLessThanOrEqual(1);
}
