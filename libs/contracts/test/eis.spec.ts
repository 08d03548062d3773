import { describe, expect, it } from '@jest/globals';
import { generateEcKeyPair } from '@rsp/crypto';
import { generateEid } from '@rsp/pki';
import { EIS_SIGNATURE_TYPE, canonicalJson, eis as eisSchema, eisSignedBytes, parse, signEis, verifyEisSignature, ContractError } from '../src';
import { signedEis, testPki, unsignedEis } from './support';

describe('EIS signature (ES1 RegisterEIS)', () => {
  const eumPublicKey = () => testPki().eum.publicKey;

  it('a signed EIS verifies with the EUM public key', () => {
    const eis = signedEis();
    expect(eis.eumSignature).toMatch(/^[0-9a-f]{128}$/);
    expect(verifyEisSignature(eis, eumPublicKey())).toBe(true);
    expect(parse(eisSchema, eis)).toEqual(eis);
  });

  it.each([
    ['eid', (e: ReturnType<typeof signedEis>) => ({ ...e, eid: generateEid('89049032', 424242n) })],
    ['eumId', (e: ReturnType<typeof signedEis>) => ({ ...e, eumId: 'EUM-OTHER' })],
    ['platformVersion', (e: ReturnType<typeof signedEis>) => ({ ...e, platformVersion: '1.0.1' })],
    ['ecasd.certificate', (e: ReturnType<typeof signedEis>) => ({ ...e, ecasd: { ...e.ecasd, certificate: `${e.ecasd.certificate.slice(0, -2)}${e.ecasd.certificate.endsWith('00') ? '01' : '00'}` } })],
    ['ecasd.aid', (e: ReturnType<typeof signedEis>) => ({ ...e, ecasd: { ...e.ecasd, aid: 'A0000005591010FFFFFFFF8900000300' } })],
    ['capabilities.transports', (e: ReturnType<typeof signedEis>) => ({ ...e, capabilities: { transports: ['SMS'] } })],
    ['eumSignature', (e: ReturnType<typeof signedEis>) => ({ ...e, eumSignature: `${e.eumSignature.slice(0, 126)}${e.eumSignature.endsWith('00') ? '01' : '00'}` })],
    ['eumSignature (not hex)', (e: ReturnType<typeof signedEis>) => ({ ...e, eumSignature: 'zz' })],
  ])('tampered %s → false', (_field, tamper) => {
    expect(verifyEisSignature(tamper(signedEis()), eumPublicKey())).toBe(false);
  });

  it('another key → false (same curve and brainpool)', () => {
    expect(verifyEisSignature(signedEis(), generateEcKeyPair('P-256').publicKey)).toBe(false);
    expect(verifyEisSignature(signedEis(), generateEcKeyPair('brainpoolP256r1').publicKey)).toBe(false);
    const otherEum = generateEcKeyPair('P-256');
    expect(verifyEisSignature(signEis(unsignedEis(), otherEum.privateKey), eumPublicKey())).toBe(false);
  });

  it('the SM-SR may update the dynamic part without breaking the EUM signature', () => {
    const eis = signedEis();
    const audited = { ...eis, remainingMemory: 1, lastAuditDate: '2026-11-22T05:00:00Z', smsrId: 'SMSR-2', profiles: [] };
    expect(verifyEisSignature(audited, eumPublicKey())).toBe(true);
  });

  it('the signed bytes are canonical: key order and undefined members do not matter', () => {
    const eis = unsignedEis();
    const reordered = Object.fromEntries(Object.entries(eis).reverse()) as typeof eis;
    expect(eisSignedBytes(reordered)).toEqual(eisSignedBytes(eis));
    expect(eisSignedBytes({ ...eis, isdPLoadFileAid: undefined })).toEqual(eisSignedBytes({ ...eis, isdPLoadFileAid: undefined, capabilities: eis.capabilities }));
    expect(eisSignedBytes(eis).toString('utf8')).toContain(`"type":"${EIS_SIGNATURE_TYPE}"`);
    expect(eisSignedBytes(eis).toString('utf8')).not.toContain('remainingMemory');
  });

  it('canonicalJson follows RFC 8785 for the supported subset and refuses the rest', () => {
    expect(canonicalJson({ b: [1, true, null], a: 'é\u0001"', c: undefined })).toBe('{"a":"é\\u0001\\"","b":[1,true,null]}');
    expect(() => canonicalJson({ x: 1.5 })).toThrow(ContractError.InvalidParameter);
    expect(() => canonicalJson({ x: () => 1 })).toThrow(ContractError.InvalidParameter);
  });
});
