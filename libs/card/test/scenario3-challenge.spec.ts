/**
 * The Scenario#3 challenge is single-use on both card paths that share handlers/scenario3-card.ts:
 * ES8.EstablishISDPKeySet (SGP.02 §3.1.2 / §4.1.3.1, keys for an ISD-P) and ES5.EstablishISDRKeySet (keys
 * for the ISD-R itself). The attacker holds a genuine 3A01 challenge and tries 3A02 after 3A02 against it:
 * ANY refused 3A02 burns the challenge, so even the genuine 3A02 then gets 6985 until a new 3A01.
 */
import { describe, expect, it } from '@jest/globals';
import { generateTestPki, type TestPki } from '@rsp/pki';
import { SW, type CommandApdu } from '@rsp/tlv';
import { ISDP_LIFE_CYCLE, manufactureFromTestPki, MemoryCardStore, VirtualEuicc } from '../src';
import { buildEstablishKeySetStep1, buildEstablishKeySetStep2, DEFAULT_ISDP_CRT, defaultIsdRKeySet, isdpAid, parseEstablishKeySetStep1Response } from '@rsp/offcard';
import { openIsdR, type IsdRSession } from './support/es5';
import { createIsdpApdu } from './support/isd-r-commands';
import { FORGERIES, forgedStep2, type Forgery } from './support/scenario3-forgery';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 1 });
const euiccCredential = pki.euiccs[0] as TestPki['euiccs'][number];
const TEST_KEYS = defaultIsdRKeySet(euiccCredential.eid);
const ISDP = isdpAid(2);
const NEW_ISD_R_KVN = 0x31;

/** One of the two Scenario#3 paths: who signs, what 3A01 carries, and what success changes. */
interface Path {
  name: string;
  signer: TestPki['smDp'];
  other: TestPki['smDp'];
  keyVersion: number;
  /** Readies the card (ISD-P created) and returns the ES5 session. */
  prepare(euicc: VirtualEuicc): IsdRSession;
  /** The 3A01 (after INSTALL [for personalization] on the ES8 path). */
  step1(session: IsdRSession, certificate: Buffer): { sw: number; challenge?: Buffer };
  established(euicc: VirtualEuicc): boolean;
}

const ES8: Path = {
  name: 'ES8 EstablishISDPKeySet (ISD-P)',
  signer: pki.smDp,
  other: pki.smSr,
  keyVersion: DEFAULT_ISDP_CRT.keyVersion,
  prepare(euicc) {
    const session = openIsdR(euicc, TEST_KEYS);
    expect(session.send(createIsdpApdu(ISDP)).sw).toBe(SW.OK);
    return session;
  },
  step1(session, certificate) {
    const [install, store] = buildEstablishKeySetStep1({ isdpAid: ISDP, smdpCertificate: certificate }) as [CommandApdu, CommandApdu];
    expect(session.send(install).sw).toBe(SW.OK);
    return answer(session.send(store));
  },
  established: (euicc) => euicc.snapshot().isdps.find((isdp) => isdp.aid === ISDP)?.lifeCycle === ISDP_LIFE_CYCLE.PERSONALIZED,
};

const ES5: Path = {
  name: 'ES5 EstablishISDRKeySet (ISD-R)',
  signer: pki.smSr,
  other: pki.smDp,
  keyVersion: NEW_ISD_R_KVN,
  prepare: (euicc) => openIsdR(euicc, TEST_KEYS),
  step1(session, certificate) {
    const [store] = buildEstablishKeySetStep1({ smdpCertificate: certificate }) as [CommandApdu];
    return answer(session.send(store));
  },
  established: (euicc) => euicc.snapshot().isdR.keySets.some((keySet) => keySet.kvn === NEW_ISD_R_KVN),
};

function answer(response: { sw: number; data: Buffer }): { sw: number; challenge?: Buffer } {
  return response.sw === SW.OK ? { sw: response.sw, challenge: parseEstablishKeySetStep1Response(response.data) } : { sw: response.sw };
}

function card(): VirtualEuicc {
  return VirtualEuicc.manufacture(manufactureFromTestPki(pki, 0), { store: new MemoryCardStore() });
}

function genuineStep2(path: Path, challenge: Buffer): ReturnType<typeof buildEstablishKeySetStep2> {
  return buildEstablishKeySetStep2({
    challenge,
    smdpPrivateKey: path.signer.privateKey,
    ecasdCertificate: euiccCredential.ecasd.cert,
    crtParams: { ...DEFAULT_ISDP_CRT, keyVersion: path.keyVersion },
  });
}

function challengeOf(path: Path, session: IsdRSession): Buffer {
  const { sw, challenge } = path.step1(session, path.signer.cert);
  expect(sw).toBe(SW.OK);
  return challenge as Buffer;
}

describe.each([ES8, ES5])('$name: single-use challenge', (path) => {
  it.each(Object.keys(FORGERIES) as Forgery[])('a refused 3A02 (%s) burns the challenge: the genuine 3A02 then gets 6985', (forgery) => {
    const euicc = card();
    const session = path.prepare(euicc);
    const challenge = challengeOf(path, session);
    const before = euicc.snapshot();

    const forged = forgedStep2({
      forgery,
      challenge,
      signer: path.signer.privateKey,
      otherSigner: path.other.privateKey,
      curve: pki.curve,
      keyVersion: path.keyVersion,
    });
    expect(session.send(forged).sw.toString(16)).toBe(FORGERIES[forgery].toString(16));
    expect(euicc.snapshot()).toEqual(before);

    expect(session.send(genuineStep2(path, challenge).apdu).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect(euicc.snapshot()).toEqual(before);
    expect(path.established(euicc)).toBe(false);

    // A new 3A01 yields a new challenge, and only that one can be signed.
    const fresh = challengeOf(path, session);
    expect(fresh.equals(challenge)).toBe(false);
    const retry = genuineStep2(path, fresh);
    const response = session.send(retry.apdu);
    expect(response.sw).toBe(SW.OK);
    retry.finish(response.data);
    expect(path.established(euicc)).toBe(true);
  });

  it('the burned challenge stays burned in a new ES5 session', () => {
    const euicc = card();
    const session = path.prepare(euicc);
    const challenge = challengeOf(path, session);
    const forged = forgedStep2({ forgery: 'bad signature', challenge, signer: path.signer.privateKey, otherSigner: path.other.privateKey, curve: pki.curve, keyVersion: path.keyVersion });
    expect(session.send(forged).sw).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
    const again = openIsdR(euicc, TEST_KEYS);
    if (path === ES8) expect(again.send(buildEstablishKeySetStep1({ isdpAid: ISDP, smdpCertificate: path.signer.cert })[0] as CommandApdu).sw).toBe(SW.OK);
    expect(again.send(genuineStep2(path, challenge).apdu).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it('a refused 3A01 also ends the pending attempt: the earlier challenge cannot be signed any more', () => {
    const euicc = card();
    const session = path.prepare(euicc);
    const challenge = challengeOf(path, session);
    const foreign = generateTestPki({ curve: 'P-256', euiccCount: 0 });
    expect(path.step1(session, (path === ES8 ? foreign.smDp : foreign.smSr).cert).sw).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
    expect(session.send(genuineStep2(path, challenge).apdu).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect(path.established(euicc)).toBe(false);
  });
});
