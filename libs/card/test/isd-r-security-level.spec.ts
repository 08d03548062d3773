/**
 * ES5 protection on the ISD-R: EXTERNAL AUTHENTICATE must ask for the key set's minimum security level
 * (0x33 by default, never below 0x13: src/es5-security-level.ts; GP CS v2.3 Amd D §7.1.2), and inside a
 * session every secured command must carry it (CLA 84, valid C-MAC, C-DEC) — else 6982, the session
 * closed and the card unchanged. Each test is the attacker's attempt.
 */
import { describe, expect, it } from '@jest/globals';
import { Scp03Card, Scp03Host } from '@rsp/crypto';
import { generateTestPki } from '@rsp/pki';
import { SW, type CommandApdu } from '@rsp/tlv';
import { CARD_COMMANDS, ES5_DEFAULT_MINIMUM_SECURITY_LEVEL, ES5_SECURITY_LEVEL_FLOOR, ISDP_LIFE_CYCLE, ManufactureError, manufactureFromTestPki, MemoryCardStore, ok, VirtualEuicc, type CardState, type CommandHandler } from '../src';
import { AID, defaultIsdRKeySet } from '@rsp/offcard';
import { ISDP2, ISDP3, lifeCycle, makeCard, type Card } from './support/card';
import { selectApdu, transmit } from './support/es5';
import { createIsdpApdu, deleteApdu, enableApdu, getStatusApdu, installedIsdp } from './support/isd-r-commands';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 1 });
const KEYS = defaultIsdRKeySet(pki.euiccs[0]!.eid);
const hex = (sw: number) => sw.toString(16);

/** The commands an attacker wants executed: each would change the card if it ran. */
const TAMPERING: Array<[string, CommandApdu]> = [
  ['CreateISDP', createIsdpApdu(ISDP3)],
  ['DELETE', deleteApdu(ISDP2)],
  ['ENABLE', enableApdu(ISDP2)],
];

/** A card with ISD-P 2 DISABLED; `minimumSecurityLevel` is written straight into the state (manufacture would refuse < 0x13). */
function cardWithMinimum(minimumSecurityLevel?: number): Card {
  return makeCard(pki, {
    customise(state: CardState) {
      state.isdps.push(installedIsdp(ISDP2));
      if (minimumSecurityLevel !== undefined) state.isdR.keySets[0]!.minimumSecurityLevel = minimumSecurityLevel;
    },
  });
}

/** SELECT ISD-R and INITIALIZE UPDATE; the host knows the keys. */
function initialize(euicc: VirtualEuicc): Scp03Host {
  expect(transmit(euicc, selectApdu(AID.ISD_R)).sw).toBe(SW.OK);
  const host = new Scp03Host({ keys: KEYS, kvn: KEYS.kvn });
  host.processInitializeUpdateResponse(transmit(euicc, host.initializeUpdateCommand()));
  return host;
}

/** {@link initialize}, then a genuine EXTERNAL AUTHENTICATE at `level`. */
function handshake(euicc: VirtualEuicc, level: number): { host: Scp03Host; sw: number } {
  const host = initialize(euicc);
  return { host, sw: transmit(euicc, host.externalAuthenticateCommand(level)).sw };
}

function expectUnchangedAfter(euicc: VirtualEuicc, send: () => number, sw: number): void {
  const before = euicc.snapshot();
  expect(hex(send())).toBe(hex(sw));
  expect(euicc.snapshot()).toEqual(before);
}

describe('EXTERNAL AUTHENTICATE: the key set minimum security level', () => {
  it('names the levels: 0x33 by default, 0x13 at the least', () => {
    expect(ES5_DEFAULT_MINIMUM_SECURITY_LEVEL).toBe(0x33);
    expect(ES5_SECURITY_LEVEL_FLOOR).toBe(0x13);
  });

  it.each([
    ['00', 0x00],
    ['01', 0x01],
    ['03', 0x03],
    ['11', 0x11],
    ['13', 0x13],
  ])('refuses a genuine handshake at level %s with 6982; no session exists', (_label, level) => {
    const c = cardWithMinimum();
    const host = initialize(c.euicc);
    expectUnchangedAfter(c.euicc, () => transmit(c.euicc, host.externalAuthenticateCommand(level)).sw, SW.SECURITY_STATUS_NOT_SATISFIED);
    for (const [, apdu] of TAMPERING) {
      expectUnchangedAfter(c.euicc, () => transmit(c.euicc, apdu).sw, SW.SECURITY_STATUS_NOT_SATISFIED); // plain CLA 80
      expectUnchangedAfter(c.euicc, () => transmit(c.euicc, host.wrapCommand(apdu)).sw, SW.SECURITY_STATUS_NOT_SATISFIED); // as the host wraps it
    }
    expect(lifeCycle(c, ISDP3)).toBeUndefined();
    expect(lifeCycle(c, ISDP2)).toBe(ISDP_LIFE_CYCLE.DISABLED);
    // The refused attempt is over: the same EXTERNAL AUTHENTICATE again finds no INITIALIZE UPDATE.
    expect(transmit(c.euicc, host.externalAuthenticateCommand(0x33)).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it('accepts 0x33 by default and executes properly wrapped commands', () => {
    const c = cardWithMinimum();
    const { host, sw } = handshake(c.euicc, 0x33);
    expect(sw).toBe(SW.OK);
    expect(host.unwrapResponse(transmit(c.euicc, host.wrapCommand(createIsdpApdu(ISDP3)))).sw).toBe(SW.OK);
    expect(lifeCycle(c, ISDP3)).toBe(ISDP_LIFE_CYCLE.SELECTABLE);
  });

  it('a key set configured for 0x13 accepts 0x13 and 0x33 but still not 0x11 or 0x03', () => {
    const c = cardWithMinimum(0x13);
    expect(handshake(c.euicc, 0x11).sw).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
    expect(handshake(c.euicc, 0x03).sw).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
    expect(handshake(c.euicc, 0x33).sw).toBe(SW.OK);
    const { host, sw } = handshake(c.euicc, 0x13);
    expect(sw).toBe(SW.OK);
    expect(host.unwrapResponse(transmit(c.euicc, host.wrapCommand(createIsdpApdu(ISDP3)))).sw).toBe(SW.OK); // R-MAC verified
  });

  it('a stored minimum below the floor (0x01, 0x00) is lifted to 0x13', () => {
    for (const stored of [0x00, 0x01]) {
      const c = cardWithMinimum(stored);
      expect(handshake(c.euicc, 0x00).sw).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
      expect(handshake(c.euicc, 0x01).sw).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
      expect(handshake(c.euicc, 0x13).sw).toBe(SW.OK);
    }
  });

  it('answers 6A86 for a P1 that is no GP security level', () => {
    const c = cardWithMinimum();
    initialize(c.euicc);
    expect(transmit(c.euicc, { cla: 0x84, ins: 0x82, p1: 0x37, p2: 0x00, data: Buffer.alloc(16) }).sw).toBe(SW.INCORRECT_P1P2);
  });

  it('manufacture takes 0x13 or 0x33 as a key set minimum and refuses anything else', () => {
    expect(manufactureFromTestPki(pki, 0, { isdRKeySets: [{ ...KEYS, minimumSecurityLevel: 0x13 }] }).isdR.keySets[0]?.minimumSecurityLevel).toBe(0x13);
    expect(manufactureFromTestPki(pki, 0).isdR.keySets[0]).not.toHaveProperty('minimumSecurityLevel');
    for (const level of [0x00, 0x01, 0x03, 0x11, 0x37, 0x02]) {
      expect(() => manufactureFromTestPki(pki, 0, { isdRKeySets: [{ ...KEYS, minimumSecurityLevel: level }] })).toThrow(ManufactureError);
    }
  });
});

describe('inside a genuine 0x33 session: unprotected commands', () => {
  it.each(TAMPERING)('a plain %s (CLA 80, no C-MAC) gets 6982, changes nothing and closes the session', (_name, apdu) => {
    const c = cardWithMinimum();
    const { host } = handshake(c.euicc, 0x33);
    expectUnchangedAfter(c.euicc, () => transmit(c.euicc, apdu).sw, SW.SECURITY_STATUS_NOT_SATISFIED);
    // Closed: even a properly wrapped command of the same host is refused now.
    expectUnchangedAfter(c.euicc, () => transmit(c.euicc, host.wrapCommand(getStatusApdu())).sw, SW.SECURITY_STATUS_NOT_SATISFIED);
  });

  it.each(TAMPERING)('%s with CLA 84 but no C-MAC, or a forged C-MAC, gets 6982 and closes the session', (_name, apdu) => {
    const forgeries: CommandApdu[] = [
      { ...apdu, cla: 0x84 },
      { ...apdu, cla: 0x84, data: Buffer.concat([apdu.data, Buffer.alloc(8, 0xa5)]) },
    ];
    for (const forged of forgeries) {
      const c = cardWithMinimum();
      const { host } = handshake(c.euicc, 0x33);
      expectUnchangedAfter(c.euicc, () => transmit(c.euicc, forged).sw, SW.SECURITY_STATUS_NOT_SATISFIED);
      expectUnchangedAfter(c.euicc, () => transmit(c.euicc, host.wrapCommand(getStatusApdu())).sw, SW.SECURITY_STATUS_NOT_SATISFIED);
    }
  });
});

describe('dispatcher floor', () => {
  /** A handshake row that skips the minimum check, standing in for any other way a weak session could open. */
  const WEAK_HANDSHAKE: CommandHandler[] = [
    {
      name: 'test INITIALIZE UPDATE without a minimum',
      spec: 'test',
      app: 'isd-r',
      secured: false,
      matches: (apdu) => apdu.ins === 0x50,
      handle(ctx, apdu) {
        const keySet = ctx.state.isdR.keySets[0]!;
        const card = new Scp03Card({
          keys: { enc: Buffer.from(keySet.enc, 'hex'), mac: Buffer.from(keySet.mac, 'hex'), dek: Buffer.from(keySet.dek, 'hex') },
          kvn: keySet.kvn,
          sdAid: Buffer.from(AID.ISD_R, 'hex'),
          sequenceCounter: ctx.state.isdR.sequenceCounter,
        });
        const response = card.initializeUpdate(apdu);
        ctx.state.isdR.sequenceCounter = card.sequenceCounter;
        ctx.volatile.scp03 = card;
        return response;
      },
    },
    {
      name: 'test EXTERNAL AUTHENTICATE without a minimum',
      spec: 'test',
      app: 'isd-r',
      secured: false,
      matches: (apdu) => apdu.ins === 0x82,
      handle(ctx, apdu) {
        ctx.volatile.scp03?.externalAuthenticate(apdu);
        return ok();
      },
    },
  ];

  it('refuses secured commands in a session below 0x13 (6982), state unchanged, session closed', () => {
    const state = manufactureFromTestPki(pki, 0);
    const euicc = VirtualEuicc.manufacture(state, { store: new MemoryCardStore(), commands: [...WEAK_HANDSHAKE, ...CARD_COMMANDS] });
    for (const level of [0x00, 0x11]) {
      const { host, sw } = handshake(euicc, level);
      expect(sw).toBe(SW.OK); // the weak row let it through …
      expectUnchangedAfter(euicc, () => transmit(euicc, host.wrapCommand(createIsdpApdu(ISDP3))).sw, SW.SECURITY_STATUS_NOT_SATISFIED);
      expectUnchangedAfter(euicc, () => transmit(euicc, host.wrapCommand(getStatusApdu())).sw, SW.SECURITY_STATUS_NOT_SATISFIED); // … closed
    }
  });
});
