/**
 * ES5.EstablishISDRKeySet on the full command table (SGP.02 §3.8 [U numbering]; GP Amd E Scenario#3):
 * 3A01 with CERT.SR.ECDSA and 3A02 to the ISD-R itself, the new key set persisted and usable, the old
 * one removed by FinaliseISDRhandover, and every refusal leaving the card as it was.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTestPki, type TestPki } from '@rsp/pki';
import { encodeTlv, SW, type CommandApdu } from '@rsp/tlv';
import { FileCardStore, ISDP_LIFE_CYCLE, manufactureFromTestPki, MemoryCardStore, VirtualEuicc, type CardStore } from '../src';
import { AID, buildEstablishKeySetStep1, buildEstablishKeySetStep2, buildInstallForPersonalization, DEFAULT_ISDP_CRT, defaultIsdRKeySet, ISD_R_DELETE_KEY_SET_TAG, isdpAid, parseEstablishKeySetStep1Response } from '@rsp/offcard';
import { openIsdR, selectApdu, transmit } from './support/es5';
import { createIsdpApdu } from './support/isd-r-commands';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 1 });
const EID = (pki.euiccs[0] as TestPki['euiccs'][number]).eid;
const ECASD_CERT = (pki.euiccs[0] as TestPki['euiccs'][number]).ecasd.cert;
const TEST_KEYS = defaultIsdRKeySet(EID);
const NEW_KVN = 0x31;
const directory = mkdtempSync(join(tmpdir(), 'card-isdr-keys-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function card(store: CardStore = new MemoryCardStore()): VirtualEuicc {
  return VirtualEuicc.manufacture(manufactureFromTestPki(pki, 0), { store });
}

function certificateApdu(certificate: Buffer): CommandApdu {
  const [apdu] = buildEstablishKeySetStep1({ smdpCertificate: certificate }) as [CommandApdu];
  return apdu;
}

function step2(challenge: Buffer, signer = pki.smSr.privateKey, kvn = NEW_KVN) {
  return buildEstablishKeySetStep2({
    challenge,
    smdpPrivateKey: signer,
    ecasdCertificate: ECASD_CERT,
    crtParams: { ...DEFAULT_ISDP_CRT, keyVersion: kvn },
  });
}

/** Both steps in two ES5 sessions (each starting with SELECT, as the SM-SR sends them); returns the SM-SR's keys. */
function establish(euicc: VirtualEuicc, kvn = NEW_KVN) {
  const first = openIsdR(euicc, TEST_KEYS).send(certificateApdu(pki.smSr.cert));
  expect(first.sw).toBe(SW.OK);
  const build = step2(parseEstablishKeySetStep1Response(first.data), pki.smSr.privateKey, kvn);
  const second = openIsdR(euicc, TEST_KEYS).send(build.apdu);
  expect(second.sw).toBe(SW.OK);
  const { kvn: established, keys } = build.finish(second.data);
  return { kvn: established, enc: Buffer.from(keys.enc), mac: Buffer.from(keys.mac), dek: Buffer.from(keys.dek) };
}

function deleteKeySetApdu(kvn: number, first = 0x01, last = 0x03): CommandApdu {
  return { cla: 0x80, ins: 0xe4, p1: 0x00, p2: 0x00, data: encodeTlv(ISD_R_DELETE_KEY_SET_TAG, Buffer.of(kvn, first, last)) };
}

function canOpen(euicc: VirtualEuicc, keys: Parameters<typeof openIsdR>[1]): boolean {
  try {
    openIsdR(euicc, keys);
    return true;
  } catch {
    return false;
  }
}

describe('ES5 EstablishISDRKeySet (card side)', () => {
  it('adds the derived key set to the ISD-R, persisted across a power cycle; the new keys open ES5', () => {
    const store = new FileCardStore(directory);
    const euicc = card(store);
    const keys = establish(euicc);
    expect(keys.kvn).toBe(NEW_KVN);

    const rebooted = VirtualEuicc.load(EID, { store: new FileCardStore(directory) });
    expect(rebooted.snapshot().isdR.keySets).toEqual([
      { kvn: 0x30, enc: TEST_KEYS.enc.toString('hex'), mac: TEST_KEYS.mac.toString('hex'), dek: TEST_KEYS.dek.toString('hex') },
      { kvn: NEW_KVN, enc: keys.enc.toString('hex'), mac: keys.mac.toString('hex'), dek: keys.dek.toString('hex') },
    ]);
    const session = openIsdR(rebooted, keys);
    expect(session.send(createIsdpApdu(isdpAid(3))).sw).toBe(SW.OK);
    expect(canOpen(rebooted, TEST_KEYS)).toBe(true); // kept until FinaliseISDRhandover
  });

  it('FinaliseISDRhandover with the new keys deletes the TEST key set; the public keys stop working', () => {
    const euicc = card();
    const keys = establish(euicc);
    const session = openIsdR(euicc, keys);
    expect(session.send(deleteKeySetApdu(0x30)).sw).toBe(SW.OK);
    expect(euicc.snapshot().isdR.keySets.map((k) => k.kvn)).toEqual([NEW_KVN]);
    expect(canOpen(euicc, TEST_KEYS)).toBe(false);
    expect(canOpen(euicc, { ...TEST_KEYS, kvn: 0 })).toBe(false); // KVN 00 = first set = the new one now
    expect(canOpen(euicc, keys)).toBe(true);
  });

  it('DELETE refuses the last key set (6985), an unknown KVN (6A88), a partial range (6A80), and rolls back', () => {
    const euicc = card();
    const keys = establish(euicc);
    const session = openIsdR(euicc, keys);
    const before = euicc.snapshot();
    expect(session.send({ ...deleteKeySetApdu(0x30), data: Buffer.concat([deleteKeySetApdu(0x30).data, deleteKeySetApdu(NEW_KVN).data]) }).sw).toBe(
      SW.CONDITIONS_NOT_SATISFIED,
    );
    expect(session.send(deleteKeySetApdu(0x42)).sw).toBe(SW.REFERENCED_DATA_NOT_FOUND);
    expect(session.send(deleteKeySetApdu(0x30, 0x01, 0x02)).sw).toBe(SW.INCORRECT_DATA);
    expect(euicc.snapshot()).toEqual(before);
  });

  it('re-establishing the same KVN replaces that set', () => {
    const euicc = card();
    const first = establish(euicc);
    const second = establish(euicc);
    expect(second.enc.equals(first.enc)).toBe(false);
    expect(euicc.snapshot().isdR.keySets.map((k) => k.kvn)).toEqual([0x30, NEW_KVN]);
    expect(canOpen(euicc, first)).toBe(false);
    expect(canOpen(euicc, second)).toBe(true);
  });

  it('refuses CERT.SR.ECDSA of another CI and CERT.DP.ECDSA (6982); nothing pending afterwards', () => {
    const euicc = card();
    const session = openIsdR(euicc, TEST_KEYS);
    const before = euicc.snapshot();
    const foreign = generateTestPki({ curve: 'P-256', euiccCount: 0 });
    expect(session.send(certificateApdu(foreign.smSr.cert)).sw).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
    expect(session.send(certificateApdu(pki.smDp.cert)).sw).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
    expect(session.send(certificateApdu(Buffer.from('7f2103010203', 'hex'))).sw).toBe(SW.INCORRECT_DATA);
    expect(session.send(step2(Buffer.alloc(16)).apdu).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect(euicc.snapshot()).toEqual(before);
  });

  it('refuses a 3A02 signed by another key (6982) and consumes the challenge', () => {
    const euicc = card();
    const session = openIsdR(euicc, TEST_KEYS);
    const challenge = parseEstablishKeySetStep1Response(session.send(certificateApdu(pki.smSr.cert)).data);
    const before = euicc.snapshot();
    expect(session.send(step2(challenge, pki.smDp.privateKey).apdu).sw).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
    expect(session.send(step2(challenge).apdu).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect(euicc.snapshot()).toEqual(before);
  });

  it('refuses a 3A02 over another challenge (6982), a KVN outside 01–7F (6A80), and 3A02 outside ES5 (6982)', () => {
    const euicc = card();
    let session = openIsdR(euicc, TEST_KEYS);
    session.send(certificateApdu(pki.smSr.cert));
    expect(session.send(step2(Buffer.alloc(16, 7)).apdu).sw).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
    const challenge = parseEstablishKeySetStep1Response(session.send(certificateApdu(pki.smSr.cert)).data);
    expect(session.send(step2(challenge, pki.smSr.privateKey, 0x80).apdu).sw).toBe(SW.INCORRECT_DATA);
    session = openIsdR(euicc, TEST_KEYS);
    const fresh = parseEstablishKeySetStep1Response(session.send(certificateApdu(pki.smSr.cert)).data);
    expect(transmit(euicc, selectApdu(AID.ISD_R)).sw).toBe(SW.OK); // ends the session
    expect(transmit(euicc, step2(fresh).apdu).sw).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
    expect(openIsdR(euicc, TEST_KEYS).send(step2(fresh).apdu).sw).toBe(SW.OK); // the SELECT above kept it pending
  });

  it('a host that parks the card between the steps resumes it with the challenge; nothing is parked before 3A01 or after 3A02', () => {
    const store = new MemoryCardStore();
    const euicc = card(store);
    openIsdR(euicc, TEST_KEYS);
    expect(euicc.park()).toBeUndefined(); // an ES5 session alone: the next script opens its own
    const challenge = parseEstablishKeySetStep1Response(openIsdR(euicc, TEST_KEYS).send(certificateApdu(pki.smSr.cert)).data);
    const parked = euicc.park();
    expect(parked).toBeDefined();
    const resumed = VirtualEuicc.load(EID, { store, ...(parked ? { parked } : {}) });
    expect(openIsdR(resumed, TEST_KEYS).send(step2(challenge).apdu).sw).toBe(SW.OK);
    expect(resumed.park()).toBeUndefined();
  });

  it('a power cycle between the steps drops the challenge (6985)', () => {
    const euicc = card();
    const challenge = parseEstablishKeySetStep1Response(openIsdR(euicc, TEST_KEYS).send(certificateApdu(pki.smSr.cert)).data);
    euicc.powerCycle();
    expect(openIsdR(euicc, TEST_KEYS).send(step2(challenge).apdu).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it('with an ISD-P targeted, 3A01/3A02 still go to the ES8 row (CERT.DP.ECDSA accepted, ISD-P PERSONALIZED)', () => {
    const euicc = card();
    const session = openIsdR(euicc, TEST_KEYS);
    const aid = isdpAid(4);
    expect(session.send(createIsdpApdu(aid)).sw).toBe(SW.OK);
    const [install, certificate] = buildEstablishKeySetStep1({ isdpAid: aid, smdpCertificate: pki.smDp.cert }) as [CommandApdu, CommandApdu];
    expect(session.send(install).sw).toBe(SW.OK);
    const first = session.send(certificate);
    expect(first.sw).toBe(SW.OK);
    const build = buildEstablishKeySetStep2({ challenge: parseEstablishKeySetStep1Response(first.data), smdpPrivateKey: pki.smDp.privateKey, ecasdCertificate: ECASD_CERT });
    const second = session.send(build.apdu);
    expect(second.sw).toBe(SW.OK);
    build.finish(second.data);
    const state = euicc.snapshot();
    expect(state.isdps.find((i) => i.aid === aid)?.lifeCycle).toBe(ISDP_LIFE_CYCLE.PERSONALIZED);
    expect(state.isdR.keySets.map((k) => k.kvn)).toEqual([0x30]);
    // CERT.SR.ECDSA to a targeted ISD-P is the ES8 row's wrong role.
    expect(session.send(buildInstallForPersonalization(aid)).sw).toBe(SW.OK);
    expect(session.send(certificateApdu(pki.smSr.cert)).sw).toBe(SW.CONDITIONS_NOT_SATISFIED); // already PERSONALIZED
  });
});
