import { describe, expect, it } from '@jest/globals';
import { generateTestPki, eidToBytes } from '@rsp/pki';
import { children, decodeSingleTlv, fromHex } from '@rsp/tlv';
import { freeMemory, ISDP_LIFE_CYCLE, ManufactureError, manufactureFromTestPki, MemoryCardStore, NOTIFICATION_TYPE, pendingNotifications, VirtualEuicc, type CardFaults, type CardState } from '../src';
import { AID, defaultIsdRKeySet } from '@rsp/offcard';
import { BOOTSTRAP, expectSw, ISDP1, ISDP2, ISDP3, makeCard, type Card } from './support/card';
import { openIsdR, selectApdu, transmit } from './support/es5';
import { createIsdpApdu, deleteApdu, getStatusApdu } from './support/isd-r-commands';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 1 });
const card = (customise?: (state: CardState) => void, faults: CardFaults = {}, memoryBytes?: number): Card =>
  makeCard(pki, { ...(customise ? { customise } : {}), faults, ...(memoryBytes ? { memoryBytes } : {}) });
const EID = pki.euiccs[0]!.eid;
const KEYS = defaultIsdRKeySet(EID);

describe('manufacture', () => {
  it('ships the bootstrap profile ENABLED with the fall-back attribute and a pending declaration', () => {
    const state = manufactureFromTestPki(pki, 0, { bootstrapProfile: BOOTSTRAP });
    expect(state.isdps).toHaveLength(1);
    expect(state.isdps[0]).toMatchObject({ aid: ISDP1, lifeCycle: ISDP_LIFE_CYCLE.ENABLED, fallback: true });
    expect(state.isdR.keySets[0]?.kvn).toBe(0x30);
    const [declaration] = pendingNotifications(state);
    expect(declaration).toMatchObject({ seq: 1, type: NOTIFICATION_TYPE.EUICC_DECLARATION });
    const tlv = decodeSingleTlv(fromHex(declaration!.tlv));
    expect(tlv.tag).toBe(0xe1);
    const fields = children(tlv);
    expect(fields.map((f) => f.tag)).toEqual([0x4c, 0x4d, 0x4e]);
    expect(fields[0]!.value).toEqual(eidToBytes(EID));
    expect(fields[2]!.value).toEqual(Buffer.of(0, 1));
    expect(state.notifications.nextSeq).toBe(2);
  });

  it('derives deterministic TEST ISD-R keys per EID', () => {
    const other = generateTestPki({ curve: 'P-256', euiccCount: 1 }).euiccs[0]!.eid;
    expect(defaultIsdRKeySet(EID)).toEqual(KEYS);
    expect(new Set([KEYS.enc.toString('hex'), KEYS.mac.toString('hex'), KEYS.dek.toString('hex')]).size).toBe(3);
    if (other !== EID) expect(defaultIsdRKeySet(other).enc).not.toEqual(KEYS.enc);
  });

  it('refuses unusable input with a typed error', () => {
    expect(() => manufactureFromTestPki(pki, 0, { isdRKeySets: [KEYS, KEYS] })).toThrow(ManufactureError);
    expect(() => manufactureFromTestPki(pki, 0, { isdRKeySets: [{ ...KEYS, enc: Buffer.alloc(5) }] })).toThrow(ManufactureError);
    expect(() => manufactureFromTestPki(pki, 0, { bootstrapProfile: BOOTSTRAP, memoryBytes: 1024 })).toThrow(ManufactureError);
    expect(() => manufactureFromTestPki(pki, 3)).toThrow(ManufactureError);
  });
});

describe('SELECT', () => {
  it('selects the ISD-R, the ECASD and the USIM of the enabled profile', () => {
    const { euicc } = card();
    const isdR = transmit(euicc, selectApdu(AID.ISD_R));
    expect(isdR.sw).toBe(0x9000);
    expect(isdR.data.toString('hex').toUpperCase()).toBe(`6F128410${AID.ISD_R}`);
    expect(transmit(euicc, selectApdu(AID.ECASD)).sw).toBe(0x9000);
    expect(transmit(euicc, selectApdu('A0000000871002FF33FF018900000100')).sw).toBe(0x9000);
  });

  it('answers 6A82 for unknown AIDs and for the USIM when no profile is enabled; 6A86 for other P1', () => {
    const { euicc } = card();
    expect(transmit(euicc, selectApdu('A000000003000000')).sw).toBe(0x6a82);
    expect(transmit(euicc, { ...selectApdu(AID.ISD_R), p1: 0x00 }).sw).toBe(0x6a86);
    const bare = VirtualEuicc.manufacture(manufactureFromTestPki(pki, 0), { store: new MemoryCardStore() });
    expect(transmit(bare, selectApdu('A0000000871002FF33FF018900000100')).sw).toBe(0x6a82);
  });
});

describe('ECASD GET DATA', () => {
  it('returns the EID (5A) and CERT.ECASD.ECKA (7F21) without a secure channel', () => {
    const { euicc } = card();
    transmit(euicc, selectApdu(AID.ECASD));
    const eid = transmit(euicc, { cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x5a, data: Buffer.alloc(0), le: 256 });
    expect(eid.sw).toBe(0x9000);
    expect(eid.data).toEqual(Buffer.concat([Buffer.of(0x5a, 0x10), eidToBytes(EID)]));
    const cert = transmit(euicc, { cla: 0x80, ins: 0xca, p1: 0x7f, p2: 0x21, data: Buffer.alloc(0), le: 256 });
    expect(cert.data).toEqual(pki.euiccs[0]!.ecasd.cert);
    expect(transmit(euicc, { cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x42, data: Buffer.alloc(0) }).sw).toBe(0x6a88);
  });
});

describe('ES5 secure channel (SCP03 on the ISD-R)', () => {
  it('opens a session and persists the incremented sequence counter; challenges never repeat', () => {
    const c = card();
    const first = openIsdR(c.euicc, KEYS);
    expect(c.euicc.snapshot().isdR.sequenceCounter).toBe(1);
    const second = openIsdR(c.euicc, KEYS);
    expect(c.euicc.snapshot().isdR.sequenceCounter).toBe(2);
    c.euicc.powerCycle();
    openIsdR(c.euicc, KEYS);
    expect(c.euicc.snapshot().isdR.sequenceCounter).toBe(3);
    expect(first.host.hostChallenge).not.toEqual(second.host.hostChallenge);
  });

  it('refuses an unknown KVN (6A88) and a wrong host cryptogram (6982)', () => {
    const { euicc } = card();
    transmit(euicc, selectApdu(AID.ISD_R));
    expect(transmit(euicc, { cla: 0x80, ins: 0x50, p1: 0x31, p2: 0, data: Buffer.alloc(8), le: 256 }).sw).toBe(0x6a88);
    expect(() => openIsdR(euicc, { ...KEYS, mac: Buffer.alloc(16, 1) })).toThrow(); // card cryptogram mismatch on the host
    expect(transmit(euicc, { cla: 0x84, ins: 0x82, p1: 0x33, p2: 0, data: Buffer.alloc(16) }).sw).toBe(0x6982);
    // The failed attempt is gone: EXTERNAL AUTHENTICATE now has no INITIALIZE UPDATE before it.
    expect(transmit(euicc, { cla: 0x84, ins: 0x82, p1: 0x33, p2: 0, data: Buffer.alloc(16) }).sw).toBe(0x6985);
  });

  it('refuses secured commands without a session, with a bad MAC (closing the session) and replays', () => {
    const c = card();
    transmit(c.euicc, selectApdu(AID.ISD_R));
    expect(transmit(c.euicc, getStatusApdu()).sw).toBe(0x6982);

    const session = c.es5();
    const wrapped = session.wrap(getStatusApdu());
    expect(c.euicc.transmit(wrapped).subarray(-2)).toEqual(Buffer.of(0x90, 0x00));
    expect(c.euicc.transmit(wrapped)).toEqual(Buffer.of(0x69, 0x82)); // replay
    expect(c.euicc.transmit(session.wrap(getStatusApdu()))).toEqual(Buffer.of(0x69, 0x82)); // session closed

    const fresh = c.es5();
    const tampered = fresh.wrap(getStatusApdu());
    tampered[tampered.length - 2]! ^= 0x01;
    expect(c.euicc.transmit(tampered)).toEqual(Buffer.of(0x69, 0x82));
    expect(c.euicc.transmit(fresh.wrap(getStatusApdu()))).toEqual(Buffer.of(0x69, 0x82));
  });

  it('SELECT ends the session', () => {
    const c = card();
    const session = c.es5();
    transmit(c.euicc, selectApdu(AID.ISD_R));
    expect(c.euicc.transmit(session.wrap(getStatusApdu()))).toEqual(Buffer.of(0x69, 0x82));
  });
});

describe('CreateISDP', () => {
  it('creates a SELECTABLE ISD-P with its memory quota', () => {
    const c = card();
    const session = c.es5();
    const free = freeMemory(c.euicc.snapshot());
    expect(expectSw(c, session, createIsdpApdu(ISDP2, { quota: 0x4000 }), 0x9000)).toEqual(Buffer.of(0x00));
    const state = c.euicc.snapshot();
    expect(state.isdps.find((i) => i.aid === ISDP2)).toMatchObject({ lifeCycle: ISDP_LIFE_CYCLE.SELECTABLE, memoryQuota: 0x4000, fallback: false });
    expect(freeMemory(state)).toBe(free - 0x4000);
    expectSw(c, session, createIsdpApdu(ISDP3), 0x9000); // default quota
    expect(freeMemory(c.euicc.snapshot())).toBe(free - 0x4000 - 64 * 1024);
  });

  it('refuses duplicates and bad AIDs (6A80), unknown load file / module (6A88), malformed data (6A80)', () => {
    const c = card();
    const session = c.es5();
    expectSw(c, session, createIsdpApdu(ISDP1), 0x6a80);
    expectSw(c, session, createIsdpApdu(AID.ISD_R), 0x6a80);
    expectSw(c, session, createIsdpApdu('A0000005591010FFFFFFFF8900100001'), 0x6a80);
    expectSw(c, session, createIsdpApdu(ISDP2, { loadFile: 'A0000005591010FFFFFFFF8900000F00' }), 0x6a88);
    expectSw(c, session, createIsdpApdu(ISDP2, { module: AID.ISD_P_LOAD_FILE }), 0x6a88);
    const good = createIsdpApdu(ISDP2);
    expectSw(c, session, { ...good, data: good.data.subarray(0, 20) }, 0x6a80);
    expectSw(c, session, { ...good, data: Buffer.concat([good.data, Buffer.of(0)]) }, 0x6a80);
  });

  it('answers 6A84 when the quota exceeds free memory or the memory-full fault is on; deletion frees memory', () => {
    let full = false;
    const c = card(undefined, { memoryFull: () => full }, 64 * 1024); // 32 KiB bootstrap + 32 KiB free
    const session = c.es5();
    expectSw(c, session, createIsdpApdu(ISDP2, { quota: 0x8001 }), 0x6a84);
    full = true;
    expectSw(c, session, createIsdpApdu(ISDP2, { quota: 0x1000 }), 0x6a84);
    full = false;
    expectSw(c, session, createIsdpApdu(ISDP2, { quota: 0x7000 }), 0x9000);
    expectSw(c, session, createIsdpApdu(ISDP3, { quota: 0x2000 }), 0x6a84);
    expectSw(c, session, deleteApdu(ISDP2), 0x9000);
    expectSw(c, session, createIsdpApdu(ISDP3, { quota: 0x2000 }), 0x9000);
  });
});
