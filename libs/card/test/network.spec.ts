import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildAutn, resyncSqnFromAuts } from '@rsp/crypto';
import { generateTestPki } from '@rsp/pki';
import { decodeSingleTlv, type CommandApdu } from '@rsp/tlv';
import { manufactureFromTestPki, MemoryCardStore, VirtualEuicc, type CardContext, type CardEvent } from '../src';
import { CardError } from '@rsp/offcard';
import { NETWORK_COMMANDS } from '../src/handlers/network';
import { selectApdu, transmit } from './support/es5';

interface TestSet {
  name: string;
  k: string;
  rand: string;
  sqn: string;
  amf: string;
  opc: string;
  f2: string;
  f3: string;
  f4: string;
}
const vectors = JSON.parse(readFileSync(new URL('../../crypto/test/vectors/milenage-ts35207-35208.json', import.meta.url), 'utf8')) as {
  testSets: TestSet[];
};
const SET1 = vectors.testSets[0]!;
const hex = (s: string) => Buffer.from(s, 'hex');
const USIM_AID = 'A0000000871002FF33FF018900000100';
const IMSI = '001010123456789';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 1 });

function attachedCard() {
  const state = manufactureFromTestPki(pki, 0, {
    bootstrapProfile: { iccid: '8944000000000000009', imsi: IMSI, ki: hex(SET1.k), opc: hex(SET1.opc) },
  });
  const euicc = VirtualEuicc.manufacture(state, { store: new MemoryCardStore() });
  const events: CardEvent[] = [];
  euicc.on('event', (e) => events.push(e));
  expect(transmit(euicc, selectApdu(USIM_AID)).sw).toBe(0x9000);
  return { euicc, events };
}

function authenticateApdu(rand: Buffer, autn: Buffer): CommandApdu {
  return { cla: 0x00, ins: 0x88, p1: 0x00, p2: 0x81, data: Buffer.concat([Buffer.of(0x10), rand, Buffer.of(0x10), autn]), le: 256 };
}

const autn1 = () => buildAutn({ k: hex(SET1.k), opc: hex(SET1.opc), rand: hex(SET1.rand), sqn: hex(SET1.sqn), amf: hex(SET1.amf) });

describe('USIM AUTHENTICATE (TS 31.102 §7.1.2, Milenage TS 35.208 test set 1)', () => {
  it('answers DB RES CK IK with the test-set values and persists SQN_MS', () => {
    const { euicc, events } = attachedCard();
    const response = transmit(euicc, authenticateApdu(hex(SET1.rand), autn1()));
    expect(response.sw).toBe(0x9000);
    expect(response.data.toString('hex')).toBe(`db08${SET1.f2}10${SET1.f3}10${SET1.f4}`);
    expect(euicc.snapshot().isdps[0]?.profile?.sqnMs).toBe(SET1.sqn);
    expect(events).toEqual([{ type: 'attach', result: 'ok', imsi: IMSI }]);
  });

  it('answers 9862 on a MAC failure and changes nothing', () => {
    const { euicc, events } = attachedCard();
    const autn = autn1();
    autn[15]! ^= 0x01;
    const before = euicc.snapshot();
    expect(transmit(euicc, authenticateApdu(hex(SET1.rand), autn))).toEqual({ data: Buffer.alloc(0), sw: 0x9862 });
    expect(euicc.snapshot()).toEqual(before);
    expect(events).toEqual([{ type: 'attach', result: 'mac-failure', imsi: IMSI }]);
  });

  it('answers DC 0E AUTS on a replayed SQN; AUTS carries SQN_MS with a valid MAC-S', () => {
    const { euicc, events } = attachedCard();
    expect(transmit(euicc, authenticateApdu(hex(SET1.rand), autn1())).sw).toBe(0x9000);
    const replay = transmit(euicc, authenticateApdu(hex(SET1.rand), autn1()));
    expect(replay.sw).toBe(0x9000);
    const dc = decodeSingleTlv(replay.data);
    expect(dc.tag).toBe(0xdc);
    expect(dc.value).toHaveLength(14);
    expect(resyncSqnFromAuts({ k: hex(SET1.k), opc: hex(SET1.opc), rand: hex(SET1.rand), auts: dc.value }).toString('hex')).toBe(SET1.sqn);
    expect(events.at(-1)).toEqual({ type: 'attach', result: 'sync-failure', imsi: IMSI });
  });

  it('refuses malformed challenges (6700), other contexts (6A86), and works only with the USIM selected (6D00)', () => {
    const { euicc } = attachedCard();
    expect(transmit(euicc, { ...authenticateApdu(hex(SET1.rand), autn1()), data: Buffer.alloc(33) }).sw).toBe(0x6700);
    expect(transmit(euicc, { ...authenticateApdu(hex(SET1.rand), autn1()), p2: 0x80 }).sw).toBe(0x6a86);
    transmit(euicc, selectApdu('A0000005591010FFFFFFFF8900000100'));
    expect(transmit(euicc, authenticateApdu(hex(SET1.rand), autn1())).sw).toBe(0x6d00);
  });

  it('refuses AUTHENTICATE when no profile is enabled (6985)', () => {
    const state = manufactureFromTestPki(pki, 0);
    const ctx = { state, volatile: { selected: 'usim', isdpSessions: new Map() }, env: {}, emit: () => {}, step: () => {} } as unknown as CardContext;
    expect(() => NETWORK_COMMANDS[0]!.handle(ctx, authenticateApdu(hex(SET1.rand), autn1()))).toThrow(CardError.ConditionsNotSatisfied);
  });
});
