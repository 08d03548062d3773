import { describe, expect, it } from '@jest/globals';
import { createPublicKey } from 'node:crypto';
import { exportRawPublicKey, generateEcKeyPair, importRawPrivateKey, type CurveName } from '../src/ec';
import {
  buildScenario3Crt,
  parseScenario3Crt,
  Scenario3Parameter,
  type Scenario3CrtParams,
} from '../src/scenario3-crt';
import {
  buildScenario3SharedInfo,
  cardEstablish,
  computeReceipt,
  deriveScenario3Keys,
  encodeDrTlv,
  encodeScenario3Response,
  offCardEstablish,
  parseScenario3Response,
  verifyReceipt,
} from '../src/scenario3';
import { errorCode, h, loadVectors } from './kat-support';

interface KatCase {
  name: string; curve: CurveName; ecasdPrivate: string; ecasdPublic: string; eskPrivate: string; ePK: string;
  crt: string; dr: string; sin: string; shs: string; sharedInfo: string; receiptKey: string; keys: string[]; receipt: string;
}
interface KatNegative { name: string; case: number; tamper: 'receipt' | 'dr' | 'crt'; index: number; xor: number; expect: string }
const kat = loadVectors<{ source: string; method: string; cases: KatCase[]; negative: KatNegative[] }>('scenario3.json');
const { INCLUDE_DR, INCLUDE_IDENTIFIERS, CERTIFICATE_VERIFICATION_PRECEDES } = Scenario3Parameter;
const orUndefined = (hex: string): Buffer | undefined => (hex === '' ? undefined : h(hex));

describe('Scenario#3 known answers (OpenSSL CLI, gen-scenario3.sh)', () => {
  it.each(kat.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const ecasd = importRawPrivateKey(c.curve, h(c.ecasdPrivate));
    const esk = importRawPrivateKey(c.curve, h(c.eskPrivate));
    expect(exportRawPublicKey(createPublicKey(ecasd)).toString('hex')).toBe(c.ecasdPublic);
    const crt = parseScenario3Crt(h(c.crt));
    const dr = orUndefined(c.dr);
    const sin = orUndefined(c.sin);
    expect(buildScenario3SharedInfo(crt, dr, sin).toString('hex')).toBe(c.sharedInfo);

    // Card side, with the vector's DR injected.
    const card = cardEstablish({ ecasdPrivateKey: ecasd, ePK: h(c.ePK), crt: h(c.crt), sin, randomDr: () => dr ?? Buffer.alloc(0) });
    expect(card.keys.map((k) => k.toString('hex'))).toEqual(c.keys);
    expect(card.receipt.toString('hex')).toBe(c.receipt);
    expect(card.dr?.toString('hex') ?? '').toBe(c.dr);

    // Off-card side, with the vector's ephemeral key.
    const offCard = offCardEstablish({
      ecasdPublicKey: createPublicKey(ecasd),
      crtParams: crt,
      sin,
      ephemeral: { curve: c.curve, privateKey: esk, publicKey: createPublicKey(esk) },
    });
    expect(offCard.crt.toString('hex')).toBe(c.crt);
    expect(offCard.ePK.toString('hex')).toBe(c.ePK);
    const keys = offCard.finish(card.response);
    expect(keys.receiptKey.toString('hex')).toBe(c.receiptKey);
    expect(keys.keys.map((k) => k.toString('hex'))).toEqual(c.keys);

    const derived = deriveScenario3Keys({ sharedSecret: h(c.shs), crt: h(c.crt), dr, sin });
    expect(derived.receiptKey.toString('hex')).toBe(c.receiptKey);
  });

  it.each(kat.negative.map((n) => [n.name, n] as const))('refuses: %s', (_name, n) => {
    const c = kat.cases[n.case]!;
    const parts = { receipt: h(c.receipt), dr: h(c.dr), crt: h(c.crt) };
    parts[n.tamper][n.index] = (parts[n.tamper][n.index] as number) ^ n.xor;
    const drTlv = c.dr === '' ? undefined : encodeDrTlv(parts.dr);
    expect(errorCode(() => verifyReceipt(h(c.receiptKey), parts.crt, drTlv, parts.receipt))).toBe(n.expect);
    if (n.tamper !== 'crt') {
      // The whole off-card path refuses the tampered card response too.
      const esk = importRawPrivateKey(c.curve, h(c.eskPrivate));
      const offCard = offCardEstablish({
        ecasdPublicKey: createPublicKey(importRawPrivateKey(c.curve, h(c.ecasdPrivate))),
        crtParams: parseScenario3Crt(h(c.crt)),
        sin: orUndefined(c.sin),
        ephemeral: { curve: c.curve, privateKey: esk, publicKey: createPublicKey(esk) },
      });
      expect(errorCode(() => offCard.finish(encodeScenario3Response(c.dr === '' ? undefined : parts.dr, parts.receipt)))).toBe(n.expect);
    }
  });

  it('names its source and method', () => {
    expect(kat.source).toMatch(/OpenSSL/);
    expect(kat.method).toMatch(/X963KDF/);
  });
});

const threeKeyParams: Scenario3CrtParams = {
  scenarioParameter: INCLUDE_DR | CERTIFICATE_VERIFICATION_PRECEDES,
  keySetSize: 3,
  keyId: 0x01,
  keyVersion: 0x30,
  initialCounter: Buffer.alloc(0),
};

describe.each(['P-256', 'brainpoolP256r1'] as const)('Scenario#3 round trip on %s', (curve) => {
  const ecasd = generateEcKeyPair(curve);
  const variants: [string, Scenario3CrtParams, Uint8Array | undefined][] = [
    ['one key, DR', { ...threeKeyParams, keySetSize: 1 }, undefined],
    ['three keys, DR', threeKeyParams, undefined],
    ['three keys, no DR', { ...threeKeyParams, scenarioParameter: CERTIFICATE_VERIFICATION_PRECEDES }, undefined],
    [
      'three keys, DR and identifiers',
      { ...threeKeyParams, scenarioParameter: INCLUDE_DR | INCLUDE_IDENTIFIERS, sdin: h('0102'), hostId: h('4953442d52') },
      h('a0000005'),
    ],
  ];

  it.each(variants)('%s: both sides agree', (_name, params, sin) => {
    const offCard = offCardEstablish({ ecasdPublicKey: ecasd.publicKey, crtParams: params, sin });
    const card = cardEstablish({ ecasdPrivateKey: ecasd.privateKey, ePK: offCard.ePK, crt: offCard.crt, sin });
    const keys = offCard.finish(card.response);
    expect(keys.keys).toHaveLength(params.keySetSize);
    expect(keys.keys).toEqual(card.keys);
    expect(card.dr === undefined).toBe((params.scenarioParameter & INCLUDE_DR) === 0);
  });

  it('refuses a tampered receipt, DR or CRT', () => {
    const offCard = offCardEstablish({ ecasdPublicKey: ecasd.publicKey, crtParams: threeKeyParams });
    const card = cardEstablish({ ecasdPrivateKey: ecasd.privateKey, ePK: offCard.ePK, crt: offCard.crt });
    const badReceipt = Buffer.from(card.response);
    badReceipt[badReceipt.length - 1] = (badReceipt[badReceipt.length - 1] as number) ^ 0x01;
    expect(errorCode(() => offCard.finish(badReceipt))).toBe('ERR_CRYPTO_RECEIPT_MISMATCH');
    const badDr = Buffer.from(card.response);
    badDr[2] = (badDr[2] as number) ^ 0x80;
    expect(errorCode(() => offCard.finish(badDr))).toBe('ERR_CRYPTO_RECEIPT_MISMATCH');

    // The card derived with a CRT the off-card entity did not send (key version changed in transit).
    const tamperedCrt = buildScenario3Crt({ ...threeKeyParams, keyVersion: 0x31 });
    const tamperedCard = cardEstablish({ ecasdPrivateKey: ecasd.privateKey, ePK: offCard.ePK, crt: tamperedCrt });
    expect(errorCode(() => offCard.finish(tamperedCard.response))).toBe('ERR_CRYPTO_RECEIPT_MISMATCH');
  });

  it('refuses a response from another ECASD key', () => {
    const other = generateEcKeyPair(curve);
    const offCard = offCardEstablish({ ecasdPublicKey: ecasd.publicKey, crtParams: threeKeyParams });
    const card = cardEstablish({ ecasdPrivateKey: other.privateKey, ePK: offCard.ePK, crt: offCard.crt });
    expect(errorCode(() => offCard.finish(card.response))).toBe('ERR_CRYPTO_RECEIPT_MISMATCH');
  });
});

describe('Scenario#3 CRT and response codecs', () => {
  const crtHex = kat.cases[2]!.crt; // a615 900203 09 950110 800188 810110 820101 830102 9100

  it('parses and rebuilds the CRT byte for byte', () => {
    const crt = parseScenario3Crt(h(crtHex));
    expect(crt).toMatchObject({ scenarioParameter: 0x09, keySetSize: 3, keyUsageQualifier: 0x10, keyId: 1, keyVersion: 2 });
    expect(buildScenario3Crt(crt).toString('hex')).toBe(crtHex);
  });

  it.each([
    ['another scenario (90 02 02 09)', crtHex.replace('900203', '900202')],
    ['key type DES (80 01 80)', crtHex.replace('800188', '800180')],
    ['key length 32 (81 01 20)', crtHex.replace('810110', '810120')],
    ['unknown key usage qualifier (95 01 3C)', crtHex.replace('950110', '95013c')],
    ['missing key version (83)', 'a612' + crtHex.slice(4).replace('830102', '')],
    ['repeated tag (82 twice)', 'a618' + crtHex.slice(4) + '820101'],
    ['unknown tag (99)', 'a618' + crtHex.slice(4) + '990100'],
    ['identifiers bit without HostID', crtHex.replace('90020309', '9002030d')],
    ['wrong outer tag (A5)', 'a5' + crtHex.slice(2)],
    ['truncated', crtHex.slice(0, -2)],
    ['trailing byte', crtHex + '00'],
  ])('refuses a CRT with %s', (_name, hex) => {
    expect(errorCode(() => parseScenario3Crt(h(hex)))).toBe('ERR_CRYPTO_INVALID_PARAMETER');
  });

  it('refuses inconsistent builder parameters', () => {
    expect(errorCode(() => buildScenario3Crt({ ...threeKeyParams, hostId: h('01') }))).toBe('ERR_CRYPTO_INVALID_PARAMETER');
    expect(errorCode(() => buildScenario3Crt({ ...threeKeyParams, keyId: 256 }))).toBe('ERR_CRYPTO_INVALID_PARAMETER');
    expect(errorCode(() => buildScenario3Crt({ ...threeKeyParams, keySetSize: 2 as 1 }))).toBe('ERR_CRYPTO_INVALID_PARAMETER');
  });

  it('requires DR exactly when the CRT asks for it, and the SIN when SDIN is present', () => {
    const withDr = parseScenario3Crt(buildScenario3Crt(threeKeyParams));
    const noDr = parseScenario3Crt(h(crtHex));
    expect(errorCode(() => buildScenario3SharedInfo(withDr))).toBe('ERR_CRYPTO_INVALID_PARAMETER');
    expect(errorCode(() => buildScenario3SharedInfo(noDr, h('00')))).toBe('ERR_CRYPTO_INVALID_PARAMETER');
    const withSdin = parseScenario3Crt(
      buildScenario3Crt({ ...threeKeyParams, scenarioParameter: INCLUDE_DR | INCLUDE_IDENTIFIERS, sdin: h('01'), hostId: h('02') }),
    );
    expect(errorCode(() => buildScenario3SharedInfo(withSdin, h('00')))).toBe('ERR_CRYPTO_INVALID_PARAMETER');
  });

  it('encodes and parses the card response, and verifyReceipt throws on mismatch', () => {
    const receiptKey = h('000102030405060708090a0b0c0d0e0f');
    const dr = h('00112233445566778899aabbccddeeff');
    const receipt = computeReceipt(receiptKey, h(crtHex), encodeDrTlv(dr));
    const parsed = parseScenario3Response(encodeScenario3Response(dr, receipt));
    expect(parsed.dr?.equals(dr)).toBe(true);
    expect(() => verifyReceipt(receiptKey, h(crtHex), parsed.drTlv, parsed.receipt)).not.toThrow();
    expect(errorCode(() => verifyReceipt(receiptKey, h(crtHex), undefined, parsed.receipt))).toBe('ERR_CRYPTO_RECEIPT_MISMATCH');
    expect(errorCode(() => verifyReceipt(receiptKey, h(crtHex), parsed.drTlv, receipt.subarray(0, 8)))).toBe('ERR_CRYPTO_RECEIPT_MISMATCH');
    expect(errorCode(() => parseScenario3Response(h('8510' + dr.toString('hex'))))).toBe('ERR_CRYPTO_INVALID_PARAMETER');
    expect(errorCode(() => parseScenario3Response(h('8608' + '00'.repeat(8))))).toBe('ERR_CRYPTO_INVALID_PARAMETER');
  });

  it('refuses an ephemeral key on the other curve', () => {
    const ecasd = generateEcKeyPair('P-256');
    const ephemeral = generateEcKeyPair('brainpoolP256r1');
    expect(errorCode(() => offCardEstablish({ ecasdPublicKey: ecasd.publicKey, crtParams: threeKeyParams, ephemeral }))).toBe(
      'ERR_CRYPTO_INVALID_KEY',
    );
    const offCard = offCardEstablish({ ecasdPublicKey: generateEcKeyPair('brainpoolP256r1').publicKey, crtParams: threeKeyParams });
    expect(errorCode(() => cardEstablish({ ecasdPrivateKey: ecasd.privateKey, ePK: offCard.ePK, crt: offCard.crt }))).toBe(
      'ERR_CRYPTO_INVALID_KEY',
    );
  });
});
