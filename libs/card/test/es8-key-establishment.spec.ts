import { describe, expect, it } from '@jest/globals';
import { ecdsaSignPlain, exportRawPublicKey, generateEcKeyPair, GP_CURVE_REFERENCE, type CurveName } from '@rsp/crypto';
import { generateTestPki, type TestPki } from '@rsp/pki';
import { encodeDgi, encodeTlv, SW, type CommandApdu } from '@rsp/tlv';
import { PowerLoss } from '@rsp/offcard';
import { ES8_HEADER } from '@rsp/offcard';
import { ISDP_LIFE_CYCLE } from '../src/model';
import { buildEstablishKeySetStep2, buildInstallForPersonalization, DEFAULT_ISDP_CRT } from '@rsp/offcard';
import { buildScenario3Crt } from '@rsp/crypto';
import { ISDP_AID, makeEs8Card, openEs5, testPki } from './support/es8-fixture';
import { download, establishKeySet, personalisedPackage, PROFILE, sendCertificate } from './support/es8-flow';

const CURVES: CurveName[] = ['P-256', 'brainpoolP256r1'];
const DAY_MS = 24 * 60 * 60 * 1000;

function ecasdCert(pki: TestPki): Buffer {
  return (pki.euiccs[0] as TestPki['euiccs'][number]).ecasd.cert;
}

/** A 3A02 command built by hand so single fields can be wrong while the signature stays valid. */
function handmadeStep2(input: { challenge: Buffer; signer: TestPki['smDp']['privateKey']; point: Buffer; curveRef: number }): CommandApdu {
  const keyEstablishment = encodeDgi(0x3a02, buildScenario3Crt(DEFAULT_ISDP_CRT));
  const publicKey = encodeTlv(0x7f49, encodeTlv(0xb0, input.point), encodeTlv(0xf0, Buffer.of(input.curveRef)));
  const signature = ecdsaSignPlain(input.signer, Buffer.concat([keyEstablishment, publicKey, encodeTlv(0x85, input.challenge)]));
  return { ...ES8_HEADER.STORE_DATA_KEY_ESTABLISHMENT, data: Buffer.concat([keyEstablishment, publicKey, encodeTlv(0x5f37, signature)]) };
}

describe.each(CURVES)('ES8 end to end on %s', (curve) => {
  it('personalization → 3A01 → 3A02 (receipt verified off-card) → SCP03t download → ISD-P DISABLED with the profile', () => {
    const pki = testPki(curve);
    const { euicc, isdRKeys } = makeEs8Card({ pki });
    const events: unknown[] = [];
    euicc.on('event', (event) => events.push(event));
    const session = openEs5(euicc, isdRKeys);

    expect(euicc.park()).toBeUndefined(); // nothing for a later exchange yet
    const keySet = establishKeySet(session, pki);
    expect(euicc.park()).toBeUndefined(); // the keys are persistent: the download's script needs nothing volatile
    const afterKeys = euicc.snapshot().isdps[0];
    expect(afterKeys?.lifeCycle).toBe(ISDP_LIFE_CYCLE.PERSONALIZED);
    expect(afterKeys?.keySet).toEqual({
      kvn: DEFAULT_ISDP_CRT.keyVersion,
      enc: Buffer.from(keySet.keys.enc).toString('hex'),
      mac: Buffer.from(keySet.keys.mac).toString('hex'),
      dek: Buffer.from(keySet.keys.dek).toString('hex'),
    });

    const profilePackage = personalisedPackage();
    const result = download(session, keySet, profilePackage, { maxSegmentBytes: 256 }); // several segments
    expect(result).toEqual({ peStatus: [{ status: 0 }] });
    expect(euicc.park()).toBeUndefined(); // installed: its SCP03t session waits on nothing

    const isdp = euicc.snapshot().isdps[0];
    expect(isdp?.lifeCycle).toBe(ISDP_LIFE_CYCLE.DISABLED);
    expect(isdp?.profile).toMatchObject({
      iccid: PROFILE.iccid,
      imsi: PROFILE.imsi,
      ki: PROFILE.ki.toString('hex'),
      opc: PROFILE.opc.toString('hex'),
      sqnMs: '000000000000',
      sizeBytes: profilePackage.length,
    });
    expect(isdp?.scp03tCounter).toBe(1);
    expect(events).toEqual([{ type: 'profile-installed', aid: ISDP_AID, iccid: PROFILE.iccid }]);
  });
});

describe('INSTALL [for personalization]', () => {
  const pki = testPki('P-256');

  it('refuses an unknown ISD-P (6A88), malformed data (6A80) and a call outside the ES5 session (6982)', () => {
    const { euicc, isdRKeys } = makeEs8Card({ pki });
    const unsecured = euicc.transmit(Buffer.from(`80E6200016000010${ISDP_AID}000000`, 'hex'));
    expect(unsecured.readUInt16BE(unsecured.length - 2)).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
    const session = openEs5(euicc, isdRKeys);
    const before = euicc.snapshot();
    expect(session.send(buildInstallForPersonalization('A0000005591010FFFFFFFF8900009900')).sw).toBe(SW.REFERENCED_DATA_NOT_FOUND);
    expect(session.send({ ...ES8_HEADER.INSTALL_FOR_PERSONALIZATION, data: Buffer.from('0000100000', 'hex') }).sw).toBe(SW.INCORRECT_DATA);
    expect(euicc.snapshot()).toEqual(before);
    // Still no target: a 3A01 now is out of order.
    expect(session.send({ ...ES8_HEADER.STORE_DATA_CERTIFICATE, data: encodeDgi(0x3a01, pki.smDp.cert) }).sw).toBe(
      SW.CONDITIONS_NOT_SATISFIED,
    );
  });

  it('refuses an ISD-P whose profile is installed (6985)', () => {
    const { euicc, isdRKeys } = makeEs8Card({ pki });
    const session = openEs5(euicc, isdRKeys);
    download(session, establishKeySet(session, pki), personalisedPackage());
    expect(session.send(buildInstallForPersonalization(ISDP_AID)).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });
});

describe('3A01: CERT.DP.ECDSA', () => {
  const pki = testPki('P-256');

  function refusedCertificate(certificate: Buffer, options: { now?: () => Date } = {}): number {
    const { euicc, isdRKeys } = makeEs8Card({ pki, ...options });
    const session = openEs5(euicc, isdRKeys);
    session.expectOk(buildInstallForPersonalization(ISDP_AID));
    const before = euicc.snapshot();
    const sw = session.send({ ...ES8_HEADER.STORE_DATA_CERTIFICATE, data: encodeDgi(0x3a01, certificate) }).sw;
    expect(euicc.snapshot()).toEqual(before);
    // Nothing pending: a 3A02 now is out of order.
    const step2 = buildEstablishKeySetStep2({ challenge: Buffer.alloc(16), smdpPrivateKey: pki.smDp.privateKey, ecasdCertificate: ecasdCert(pki) });
    expect(session.send(step2.apdu).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    return sw;
  }

  it('answers a 16-byte random challenge in tag 85', () => {
    const { euicc, isdRKeys } = makeEs8Card({ pki });
    const challenge = sendCertificate(openEs5(euicc, isdRKeys), pki.smDp.cert);
    expect(challenge).toHaveLength(16);
  });

  it('refuses a certificate from another CI (6982)', () => {
    const otherPki = generateTestPki({ curve: 'P-256', euiccCount: 1 });
    expect(refusedCertificate(otherPki.smDp.cert)).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
  });

  it('refuses an SM-SR certificate: wrong role (6982)', () => {
    expect(refusedCertificate(pki.smSr.cert)).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
  });

  it('refuses an expired certificate (6982)', () => {
    const afterExpiry = new Date(pki.issuedAt.getTime() + 3651 * DAY_MS);
    expect(refusedCertificate(pki.smDp.cert, { now: () => afterExpiry })).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
  });

  it('refuses a tampered certificate (6982) and a malformed one (6A80)', () => {
    const tampered = Buffer.from(pki.smDp.cert);
    tampered[tampered.length - 5] = (tampered[tampered.length - 5] as number) ^ 0x01; // inside 5F37
    expect(refusedCertificate(tampered)).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
    expect(refusedCertificate(pki.smDp.cert.subarray(0, 40))).toBe(SW.INCORRECT_DATA);
  });

  it('refuses 3A01 without a personalization target (6985)', () => {
    const { euicc, isdRKeys } = makeEs8Card({ pki });
    const session = openEs5(euicc, isdRKeys);
    expect(session.send({ ...ES8_HEADER.STORE_DATA_CERTIFICATE, data: encodeDgi(0x3a01, pki.smDp.cert) }).sw).toBe(
      SW.CONDITIONS_NOT_SATISFIED,
    );
  });
});

describe('3A02: ePK.DP.ECKA signed by SK.DP.ECDSA', () => {
  const pki = testPki('P-256');

  function withChallenge(): { session: ReturnType<typeof openEs5>; euicc: ReturnType<typeof makeEs8Card>['euicc']; challenge: Buffer } {
    const { euicc, isdRKeys } = makeEs8Card({ pki });
    const session = openEs5(euicc, isdRKeys);
    return { session, euicc, challenge: sendCertificate(session, pki.smDp.cert) };
  }

  function expectRefused(sw: number, build: (challenge: Buffer) => CommandApdu): void {
    const { session, euicc, challenge } = withChallenge();
    const before = euicc.snapshot();
    expect(session.send(build(challenge)).sw).toBe(sw);
    expect(euicc.snapshot()).toEqual(before);
    // The refusal burned the challenge (single use): the genuine 3A02 over it is now out of order …
    const step2 = buildEstablishKeySetStep2({ challenge, smdpPrivateKey: pki.smDp.privateKey, ecasdCertificate: ecasdCert(pki) });
    expect(session.send(step2.apdu).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect(euicc.snapshot()).toEqual(before);
    // … and a new 3A01 gives a new challenge that the genuine 3A02 then uses.
    const fresh = sendCertificate(session, pki.smDp.cert);
    const retry = buildEstablishKeySetStep2({ challenge: fresh, smdpPrivateKey: pki.smDp.privateKey, ecasdCertificate: ecasdCert(pki) });
    retry.finish(session.expectOk(retry.apdu));
  }

  const ePoint = (): Buffer => exportRawPublicKey(generateEcKeyPair('P-256').publicKey);

  it('a pending 3A01 challenge is what a host parks (VirtualEuicc.park): the 3A02 may come in a later script', () => {
    const { euicc } = withChallenge();
    expect(euicc.park()).toBeDefined();
  });

  it('refuses a signature by another key (6982)', () => {
    expectRefused(SW.SECURITY_STATUS_NOT_SATISFIED, (challenge) =>
      handmadeStep2({ challenge, signer: pki.smSr.privateKey, point: ePoint(), curveRef: GP_CURVE_REFERENCE['P-256'] }),
    );
  });

  it('refuses a signature over another challenge (6982)', () => {
    expectRefused(SW.SECURITY_STATUS_NOT_SATISFIED, () =>
      handmadeStep2({ challenge: Buffer.alloc(16, 7), signer: pki.smDp.privateKey, point: ePoint(), curveRef: 0x00 }),
    );
  });

  it('refuses a wrong curve reference and a point off the curve (6A80)', () => {
    expectRefused(SW.INCORRECT_DATA, (challenge) =>
      handmadeStep2({ challenge, signer: pki.smDp.privateKey, point: ePoint(), curveRef: GP_CURVE_REFERENCE.brainpoolP256r1 }),
    );
    const offCurve = Buffer.concat([Buffer.of(0x04), Buffer.alloc(64, 0x11)]);
    expectRefused(SW.INCORRECT_DATA, (challenge) => handmadeStep2({ challenge, signer: pki.smDp.privateKey, point: offCurve, curveRef: 0x00 }));
  });

  it('refuses 3A02 without 3A01 (6985)', () => {
    const { euicc, isdRKeys } = makeEs8Card({ pki });
    const session = openEs5(euicc, isdRKeys);
    session.expectOk(buildInstallForPersonalization(ISDP_AID));
    const before = euicc.snapshot();
    const step2 = buildEstablishKeySetStep2({ challenge: Buffer.alloc(16), smdpPrivateKey: pki.smDp.privateKey, ecasdCertificate: ecasdCert(pki) });
    expect(session.send(step2.apdu).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect(euicc.snapshot()).toEqual(before);
  });

  it('refuses a replay of a consumed challenge (6985) and keeps the first key set', () => {
    const { session, euicc, challenge } = withChallenge();
    const step2 = buildEstablishKeySetStep2({ challenge, smdpPrivateKey: pki.smDp.privateKey, ecasdCertificate: ecasdCert(pki) });
    step2.finish(session.expectOk(step2.apdu));
    const before = euicc.snapshot();
    expect(session.send(step2.apdu).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect(euicc.snapshot()).toEqual(before);
  });

  it('refuses a new 3A01 once the keys exist (6985)', () => {
    const { euicc, isdRKeys } = makeEs8Card({ pki });
    const session = openEs5(euicc, isdRKeys);
    establishKeySet(session, pki);
    expect(session.send({ ...ES8_HEADER.STORE_DATA_CERTIFICATE, data: encodeDgi(0x3a01, pki.smDp.cert) }).sw).toBe(
      SW.CONDITIONS_NOT_SATISFIED,
    );
  });
});

describe('power loss during key establishment', () => {
  const pki = testPki('brainpoolP256r1');

  it.each(['key-establishment:signature-verified', 'key-establishment:keys-derived'])(
    'at %s: the ISD-P stays SELECTABLE without keys, the challenge is lost, a new run succeeds',
    (step) => {
      let armed = true;
      const { euicc, isdRKeys } = makeEs8Card({ pki, faults: { powerLossAt: (name) => armed && name === step } });
      const session = openEs5(euicc, isdRKeys);
      const challenge = sendCertificate(session, pki.smDp.cert);
      const step2 = buildEstablishKeySetStep2({ challenge, smdpPrivateKey: pki.smDp.privateKey, ecasdCertificate: ecasdCert(pki), isdpAid: ISDP_AID });
      expect(() => step2.commands.forEach((command) => session.send(command))).toThrow(PowerLoss);
      expect(euicc.snapshot().isdps[0]).toMatchObject({ lifeCycle: ISDP_LIFE_CYCLE.SELECTABLE });
      expect(euicc.snapshot().isdps[0]?.keySet).toBeUndefined();

      armed = false;
      const again = openEs5(euicc, isdRKeys);
      const [install, replay] = step2.commands as [CommandApdu, CommandApdu];
      again.expectOk(install);
      expect(again.send(replay).sw).toBe(SW.CONDITIONS_NOT_SATISFIED); // volatile challenge gone with the power
      establishKeySet(again, pki);
      expect(euicc.snapshot().isdps[0]?.lifeCycle).toBe(ISDP_LIFE_CYCLE.PERSONALIZED);
    },
  );
});
