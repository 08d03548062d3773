import { describe, expect, it } from '@jest/globals';
import { generateTestPki } from '@rsp/pki';
import { children, decodeTlvs, decodeSingleTlv, fromHex } from '@rsp/tlv';
import { enabledIsdp, freeMemory, ISDP_LIFE_CYCLE, masterDeleteToken, NOTIFICATION_TYPE, pendingNotifications, POL1, type CardFaults, type CardState } from '../src';
import { isdpAid, PowerLoss } from '@rsp/offcard';
import { expectAtMostOneEnabled, expectSw, ISDP1, ISDP2, ISDP3, lifeCycle, makeCard, makeCardWithProfile, type Card } from './support/card';
import {
  confirmNotificationApdu,
  createIsdpApdu,
  deleteApdu,
  disableApdu,
  enableApdu,
  getStatusApdu,
  installedIsdp,
  masterDeleteApdu,
  setFallbackApdu,
  updatePol1Apdu,
} from './support/isd-r-commands';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 1 });
const card = (customise?: (state: CardState) => void, faults: CardFaults = {}, memoryBytes?: number): Card =>
  makeCard(pki, { ...(customise ? { customise } : {}), faults, ...(memoryBytes ? { memoryBytes } : {}) });
const cardWithProfile = (options: Parameters<typeof installedIsdp>[1] = {}): Card => makeCardWithProfile(pki, options);
const DEK = '000102030405060708090a0b0c0d0e0f';

describe('EnableProfile / DisableProfile', () => {
  it('enables a DISABLED profile: the previous one is disabled, notification 02, profile-switched + refresh', () => {
    const c = cardWithProfile();
    const session = c.es5();
    expectSw(c, session, enableApdu(ISDP2), 0x9000);
    expect(lifeCycle(c, ISDP2)).toBe(ISDP_LIFE_CYCLE.ENABLED);
    expect(lifeCycle(c, ISDP1)).toBe(ISDP_LIFE_CYCLE.DISABLED);
    expectAtMostOneEnabled(c);
    const notification = pendingNotifications(c.euicc.snapshot()).at(-1);
    expect(notification).toMatchObject({ seq: 2, type: NOTIFICATION_TYPE.PROFILE_CHANGE_SUCCEEDED, aid: ISDP2 });
    expect(children(decodeSingleTlv(fromHex(notification!.tlv))).find((t) => t.tag === 0x2f)?.value.toString('hex').toUpperCase()).toBe(ISDP2);
    expect(c.events).toEqual(
      expect.arrayContaining([
        { type: 'profile-switched', fromAid: ISDP1, toAid: ISDP2, iccid: '8944000000000000017' },
        { type: 'refresh', reason: 'profile-enabled' },
        { type: 'notification-queued', seq: 2, notificationType: 2 },
      ]),
    );
  });

  it('refuses to enable a profile that is not DISABLED (6985), unknown (6A88), or when POL1 of the current forbids (69E1)', () => {
    const c = card((state) => {
      state.isdps[0]!.pol1 = POL1.DISABLE_NOT_ALLOWED;
      state.isdps.push(installedIsdp(ISDP2), { ...installedIsdp(ISDP3), lifeCycle: ISDP_LIFE_CYCLE.SELECTABLE });
    });
    const session = c.es5();
    expectSw(c, session, enableApdu(ISDP1), 0x6985);
    expectSw(c, session, enableApdu(ISDP3), 0x6985);
    expectSw(c, session, enableApdu(isdpAid(9)), 0x6a88);
    expectSw(c, session, enableApdu(ISDP2), 0x69e1);
  });

  it('disables the enabled profile by enabling the fall-back profile', () => {
    const c = cardWithProfile();
    const session = c.es5();
    expectSw(c, session, enableApdu(ISDP2), 0x9000);
    c.events.length = 0;
    expectSw(c, session, disableApdu(ISDP2), 0x9000);
    expect(lifeCycle(c, ISDP2)).toBe(ISDP_LIFE_CYCLE.DISABLED);
    expect(lifeCycle(c, ISDP1)).toBe(ISDP_LIFE_CYCLE.ENABLED);
    expectAtMostOneEnabled(c);
    expect(c.events).toEqual(expect.arrayContaining([{ type: 'refresh', reason: 'profile-disabled' }]));
    expect(pendingNotifications(c.euicc.snapshot()).at(-1)).toMatchObject({ type: 2, aid: ISDP1 });
  });

  it('refuses to disable a profile that is not ENABLED, the fall-back profile itself (6985), and POL1 (69E1)', () => {
    const c = cardWithProfile();
    const session = c.es5();
    expectSw(c, session, disableApdu(ISDP2), 0x6985);
    expectSw(c, session, disableApdu(ISDP1), 0x6985);
    expectSw(c, session, enableApdu(ISDP2), 0x9000);
    expectSw(c, session, updatePol1Apdu(ISDP2, POL1.DISABLE_NOT_ALLOWED), 0x9000);
    expectSw(c, session, disableApdu(ISDP2), 0x69e1);
  });

  it('POL1 "delete when disabled": the disabled profile is deleted when the SM-SR confirms the change (80 L 4F AID)', () => {
    const c = cardWithProfile({ pol1: POL1.DELETE_WHEN_DISABLED });
    const session = c.es5();
    expectSw(c, session, enableApdu(ISDP2), 0x9000); // notification 2 (disables the bootstrap: no rule)
    expectSw(c, session, disableApdu(ISDP2), 0x9000); // notification 3 arms the deletion of ISD-P 2
    expect(lifeCycle(c, ISDP2)).toBe(ISDP_LIFE_CYCLE.DISABLED);
    expect(pendingNotifications(c.euicc.snapshot()).at(-1)).toMatchObject({ seq: 3, aid: ISDP1, disabledAid: ISDP2 });
    expect(expectSw(c, session, confirmNotificationApdu(2), 0x9000)).toEqual(Buffer.of(0x80, 0x00));
    const free = freeMemory(c.euicc.snapshot());
    const deleted = expectSw(c, session, confirmNotificationApdu(3), 0x9000);
    expect(deleted.toString('hex').toUpperCase()).toBe(`80124F10${ISDP2}`);
    expect(lifeCycle(c, ISDP2)).toBeUndefined();
    expect(freeMemory(c.euicc.snapshot())).toBe(free + 32 * 1024);
  });

  it('"delete when disabled" is re-read at confirmation: a profile re-enabled or whose rule was removed stays', () => {
    const c = cardWithProfile({ pol1: POL1.DELETE_WHEN_DISABLED });
    const session = c.es5();
    expectSw(c, session, enableApdu(ISDP2), 0x9000);
    expectSw(c, session, disableApdu(ISDP2), 0x9000); // seq 3
    expectSw(c, session, updatePol1Apdu(ISDP2, 0), 0x9000);
    expect(expectSw(c, session, confirmNotificationApdu(3), 0x9000)).toEqual(Buffer.of(0x80, 0x00));
    expect(lifeCycle(c, ISDP2)).toBe(ISDP_LIFE_CYCLE.DISABLED);
  });
});

describe('DeleteProfile', () => {
  it('deletes a DISABLED profile', () => {
    const c = cardWithProfile();
    const session = c.es5();
    expect(expectSw(c, session, deleteApdu(ISDP2), 0x9000)).toEqual(Buffer.of(0));
    expect(lifeCycle(c, ISDP2)).toBeUndefined();
  });

  it('refuses the enabled (6985) and the fall-back profile (6985), POL1 (69E1), unknown AIDs (6A88)', () => {
    const c = cardWithProfile({ pol1: POL1.DELETE_NOT_ALLOWED });
    const session = c.es5();
    expectSw(c, session, deleteApdu(ISDP1), 0x6985); // enabled and fall-back
    expectSw(c, session, deleteApdu(ISDP2), 0x69e1);
    expectSw(c, session, deleteApdu(isdpAid(9)), 0x6a88);
    expectSw(c, session, { ...deleteApdu(ISDP2), data: Buffer.of(0x4f, 0x02, 1, 2) }, 0x6a80);
    expectSw(c, session, updatePol1Apdu(ISDP2, 0), 0x9000);
    expectSw(c, session, enableApdu(ISDP2), 0x9000);
    expectSw(c, session, deleteApdu(ISDP1), 0x6985); // disabled now, but still the fall-back profile
    expectSw(c, session, deleteApdu(ISDP2), 0x6985); // enabled
  });
});

describe('SetFallBackAttribute / UpdatePOL1 / MasterDelete [U codings]', () => {
  it('moves the fall-back attribute (exactly one holder)', () => {
    const c = cardWithProfile();
    const session = c.es5();
    expectSw(c, session, setFallbackApdu(ISDP2), 0x9000);
    expect(c.euicc.snapshot().isdps.filter((i) => i.fallback).map((i) => i.aid)).toEqual([ISDP2]);
    expectSw(c, session, enableApdu(ISDP2), 0x9000);
    expectSw(c, session, deleteApdu(ISDP1), 0x9000); // no longer the fall-back profile
    expectSw(c, session, createIsdpApdu(ISDP3), 0x9000);
    expectSw(c, session, setFallbackApdu(ISDP3), 0x6985); // nothing installed there
    expectSw(c, session, setFallbackApdu(isdpAid(9)), 0x6a88);
  });

  it('updates POL1; unknown rule bits 6A80; ISD-P without profile 6985', () => {
    const c = cardWithProfile();
    const session = c.es5();
    expectSw(c, session, updatePol1Apdu(ISDP2, POL1.DELETE_NOT_ALLOWED), 0x9000);
    expect(c.euicc.snapshot().isdps.find((i) => i.aid === ISDP2)?.pol1).toBe(POL1.DELETE_NOT_ALLOWED);
    expectSw(c, session, updatePol1Apdu(ISDP2, 0x80), 0x6a80);
    expectSw(c, session, createIsdpApdu(ISDP3), 0x9000);
    expectSw(c, session, updatePol1Apdu(ISDP3, 0), 0x6985);
  });

  it('MasterDelete bypasses POL1 with a valid token; refuses bad tokens (6982), enabled / fall-back / keyless (6985)', () => {
    const c = card((state) => {
      state.isdps.push(installedIsdp(ISDP2, { pol1: POL1.DELETE_NOT_ALLOWED, dek: DEK }));
      state.isdps.push(installedIsdp(ISDP3, { pol1: POL1.DELETE_NOT_ALLOWED }));
    });
    const session = c.es5();
    const token = masterDeleteToken(Buffer.from(DEK, 'hex'), ISDP2);
    expectSw(c, session, masterDeleteApdu(ISDP2, Buffer.alloc(16)), 0x6982);
    expectSw(c, session, masterDeleteApdu(ISDP3, token), 0x6985);
    expectSw(c, session, masterDeleteApdu(ISDP1, token), 0x6985);
    expectSw(c, session, masterDeleteApdu(ISDP2, token), 0x9000);
    expect(lifeCycle(c, ISDP2)).toBeUndefined();
  });
});

describe('Audit', () => {
  it('GET STATUS lists ISD-Ps with life cycle, fall-back property and memory', () => {
    const c = cardWithProfile();
    const session = c.es5();
    const entries = decodeTlvs(expectSw(c, session, getStatusApdu(), 0x9000));
    expect(entries.map((e) => e.tag)).toEqual([0xe3, 0xe3]);
    const first = children(entries[0]!);
    expect(first.map((t) => t.tag)).toEqual([0x4f, 0x9f70, 0x53, 0x8f, 0x91]);
    expect(first[0]!.value.toString('hex').toUpperCase()).toBe(ISDP1);
    expect(first[1]!.value).toEqual(Buffer.of(0x3f));
    expect(first[2]!.value).toEqual(Buffer.of(0x01));
    expect(first[3]!.value.readUInt32BE(0)).toBe(32 * 1024);
    expect(first[4]!.value.readUInt32BE(0)).toBe(24 * 1024);
    const one = decodeTlvs(expectSw(c, session, getStatusApdu(ISDP2), 0x9000));
    expect(children(one[0]!)[1]!.value).toEqual(Buffer.of(0x1f));
    expectSw(c, session, getStatusApdu(isdpAid(9)), 0x6a88);
    expectSw(c, session, { ...getStatusApdu(), p1: 0x80 }, 0x6a86);
  });

  it('GET DATA FF21 reports card resources; BF30 returns CERT.ECASD.ECKA', () => {
    const c = cardWithProfile();
    const session = c.es5();
    const ff21 = expectSw(c, session, { cla: 0x80, ins: 0xca, p1: 0xff, p2: 0x21, data: Buffer.alloc(0), le: 256 }, 0x9000);
    expect(ff21.subarray(0, 3)).toEqual(Buffer.of(0xff, 0x21, ff21.length - 3));
    const resources = decodeTlvs(ff21.subarray(3));
    expect(resources.map((t) => t.tag)).toEqual([0x81, 0x82, 0x83]);
    expect(resources[0]!.value).toEqual(Buffer.of(2));
    expect(resources[1]!.value.readUInt32BE(0)).toBe(freeMemory(c.euicc.snapshot()));
    const bf30 = decodeSingleTlv(expectSw(c, session, { cla: 0x80, ins: 0xca, p1: 0xbf, p2: 0x30, data: Buffer.from('5C027F21', 'hex'), le: 256 }, 0x9000));
    expect(bf30.value).toEqual(pki.euiccs[0]!.ecasd.cert);
    expectSw(c, session, { cla: 0x80, ins: 0xca, p1: 0xbf, p2: 0x30, data: Buffer.from('5C015A', 'hex') }, 0x6a88);
  });
});

describe('HandleNotificationConfirmation (3A08)', () => {
  it('removes the confirmed notification and answers 80 00; unknown or repeated seq → 6A88', () => {
    const c = card();
    const session = c.es5();
    expect(expectSw(c, session, confirmNotificationApdu(1), 0x9000)).toEqual(Buffer.of(0x80, 0x00));
    expect(pendingNotifications(c.euicc.snapshot())).toEqual([]);
    expect(c.events).toContainEqual({ type: 'notification-acknowledged', seq: 1 });
    expectSw(c, session, confirmNotificationApdu(1), 0x6a88);
    expectSw(c, session, confirmNotificationApdu(7), 0x6a88);
  });

  it('rejects STORE DATA with an unknown DGI (6A88) or not in DGI format (6A86)', () => {
    const c = card();
    const session = c.es5();
    expectSw(c, session, { cla: 0x80, ins: 0xe2, p1: 0x88, p2: 0, data: Buffer.from('3A7F00', 'hex') }, 0x6a88);
    expectSw(c, session, { cla: 0x80, ins: 0xe2, p1: 0x90, p2: 0, data: Buffer.from('3A0300', 'hex') }, 0x6a86);
  });
});

describe('fall-back on connectivity loss', () => {
  it('enables the fall-back profile despite POL1 "disable not allowed", notification 05, events', () => {
    const c = cardWithProfile({ pol1: POL1.DISABLE_NOT_ALLOWED | POL1.DELETE_WHEN_DISABLED });
    const session = c.es5();
    expectSw(c, session, enableApdu(ISDP2), 0x9000);
    c.events.length = 0;
    expect(c.euicc.connectivityLost()).toBe(true);
    expect(lifeCycle(c, ISDP2)).toBe(ISDP_LIFE_CYCLE.DISABLED); // not deleted by a radio outage
    expect(enabledIsdp(c.euicc.snapshot())?.aid).toBe(ISDP1);
    expect(pendingNotifications(c.euicc.snapshot()).at(-1)).toMatchObject({ type: NOTIFICATION_TYPE.PROFILE_CHANGE_AFTER_FALLBACK, aid: ISDP1 });
    expect(c.events).toEqual(
      expect.arrayContaining([
        { type: 'fallback-triggered', fromAid: ISDP2, toAid: ISDP1 },
        { type: 'refresh', reason: 'fallback' },
      ]),
    );
    const before = c.euicc.snapshot();
    expect(c.euicc.connectivityLost()).toBe(false); // already on the fall-back profile
    expect(c.euicc.snapshot()).toEqual(before);
    // Confirming the fall-back notification does not delete the profile the outage disabled.
    const seq = pendingNotifications(before).at(-1)!.seq;
    expect(session.send(confirmNotificationApdu(seq))).toEqual({ data: Buffer.of(0x80, 0x00), sw: 0x9000 });
    expect(lifeCycle(c, ISDP2)).toBe(ISDP_LIFE_CYCLE.DISABLED);
  });
});

describe('power loss during ISD-R functions', () => {
  it('a power loss at CreateISDP or at the fall-back switch leaves the last committed state', () => {
    let cutAt = '';
    const c = card((state) => state.isdps.push(installedIsdp(ISDP2)), { powerLossAt: (step) => step === cutAt });
    const session = c.es5();
    expectSw(c, session, enableApdu(ISDP2), 0x9000);
    const before = c.euicc.snapshot();
    cutAt = 'create-isdp';
    expect(() => c.euicc.transmit(session.wrap(createIsdpApdu(ISDP3)))).toThrow(PowerLoss);
    expect(c.euicc.snapshot()).toEqual(before);
    cutAt = 'fallback';
    expect(() => c.euicc.connectivityLost()).toThrow(PowerLoss);
    expect(c.euicc.snapshot()).toEqual(before);
    cutAt = '';
    // The session died with the power: secured commands need a new one.
    expect(c.euicc.transmit(session.wrap(getStatusApdu()))).toEqual(Buffer.of(0x69, 0x82));
    expect(c.euicc.connectivityLost()).toBe(true);
  });
});
