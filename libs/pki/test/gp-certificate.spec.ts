import { describe, expect, it } from '@jest/globals';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { exportRawPublicKey, generateEcKeyPair, importRawPrivateKey, type CurveName } from '@rsp/crypto';
import {
  issueGpCertificate,
  parseGpCertificate,
  verifyGpCertificate,
  type GpCertificateFields,
} from '../src/gp-certificate';
import { decodeBcdDate, encodeBcdDate, encodeGpCertificateBody } from '../src/gp-certificate-codec';
import { GP_KEY_USAGE, gpDiscretionaryData, roleOfGpCertificate, type GpRole } from '../src/gp-roles';

interface KatVector {
  name: string;
  curve: CurveName;
  issuerPrivateKey: string;
  issuerPublicKey: string;
  issuerSubjectKeyId: string;
  certificate: string;
  expected: {
    serialNumber: string;
    caId: string;
    subjectId: string;
    keyUsage: number;
    effectiveDate: string;
    expirationDate: string;
    discretionaryData: string;
    authorityKeyId: string;
    publicKey: string;
    curve: CurveName;
    role: GpRole;
  };
}
interface KatNegative {
  name: string;
  certificate: string;
  stage: 'parse' | 'verify';
  expectedCode: string;
}
const kat = JSON.parse(readFileSync(new URL('./vectors/gp-certificate.json', import.meta.url), 'utf8')) as {
  vectors: KatVector[];
  negative: KatNegative[];
};

const NOW = new Date('2026-06-15T12:00:00Z');
const keyId = (key: KeyObject) => createHash('sha1').update(exportRawPublicKey(key)).digest();

/** A CI (or EUM) and a subject key on `curve`, and the fields of a certificate for `role`. */
function setup(curve: CurveName, role: GpRole) {
  const issuer = generateEcKeyPair(curve);
  const subject = generateEcKeyPair(curve);
  const issuerKeyId = keyId(issuer.publicKey);
  const fields: GpCertificateFields = {
    serialNumber: Buffer.from('01020304', 'hex'),
    caId: issuerKeyId,
    subjectId: keyId(subject.publicKey),
    keyUsage: role === 'ecasd' ? GP_KEY_USAGE.keyAgreement : GP_KEY_USAGE.signatureVerification,
    effectiveDate: new Date('2025-01-01T00:00:00Z'),
    expirationDate: new Date('2030-12-31T00:00:00Z'),
    discretionaryData: gpDiscretionaryData(role),
    authorityKeyId: issuerKeyId,
    publicKey: subject.publicKey,
    curve,
  };
  const issuerRef = { publicKey: issuer.publicKey, subjectKeyId: issuerKeyId };
  return { issuer, subject, fields, issuerRef };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? `not an RspError: ${String(error)}`;
  }
}

describe('GP Amd E certificate: round trip', () => {
  it.each([
    ['P-256', 'sm-dp'],
    ['P-256', 'sm-sr'],
    ['P-256', 'ecasd'],
    ['brainpoolP256r1', 'sm-dp'],
    ['brainpoolP256r1', 'sm-sr'],
    ['brainpoolP256r1', 'ecasd'],
  ] as [CurveName, GpRole][])('%s %s: issue, parse, verify', (curve, role) => {
    const { issuer, fields, issuerRef } = setup(curve, role);
    const bytes = issueGpCertificate(fields, issuer.privateKey);
    const cert = parseGpCertificate(bytes);
    expect(cert.raw.equals(bytes)).toBe(true);
    expect(cert.serialNumber).toEqual(fields.serialNumber);
    expect(cert.caId).toEqual(fields.caId);
    expect(cert.subjectId).toEqual(fields.subjectId);
    expect(cert.keyUsage).toBe(fields.keyUsage);
    expect(cert.effectiveDate).toEqual(fields.effectiveDate);
    expect(cert.expirationDate).toEqual(fields.expirationDate);
    expect(cert.authorityKeyId).toEqual(fields.authorityKeyId);
    expect(cert.curve).toBe(curve);
    expect(cert.role).toBe(role);
    expect(exportRawPublicKey(cert.publicKey)).toEqual(exportRawPublicKey(fields.publicKey as KeyObject));
    expect(cert.signature).toHaveLength(64);
    // The signed bytes are the received TLVs before 5F37, without the 7F21 header.
    expect(cert.signedBytes.equals(bytes.subarray(4, bytes.length - 67))).toBe(true);
    expect(() => verifyGpCertificate(cert, issuerRef, { now: NOW, expectedRole: role })).not.toThrow();
    // Re-issuing from the parsed fields reproduces the signed body byte for byte.
    expect(encodeGpCertificateBody(cert).equals(cert.signedBytes)).toBe(true);
  });

  it('issues from a raw public point as from a KeyObject, and refuses a malformed point', () => {
    const { issuer, fields } = setup('P-256', 'ecasd');
    const point = exportRawPublicKey(fields.publicKey as KeyObject);
    const fromPoint = parseGpCertificate(issueGpCertificate({ ...fields, publicKey: point }, issuer.privateKey));
    expect(exportRawPublicKey(fromPoint.publicKey)).toEqual(point);
    expect(() => issueGpCertificate({ ...fields, publicKey: point.subarray(1) }, issuer.privateKey)).toThrow(
      expect.objectContaining({ code: 'ERR_PKI_MALFORMED' }),
    );
  });

  it('holds the received point, checked, and imports the KeyObject only when read, once', () => {
    // The ECASD certificate of each first provisioning is only used for an ECDH on the raw point: its
    // KeyObject (110–160 µs of OpenSSL) is made on first read (withLazyPublicKey, docs/performance.md round eight).
    const { issuer, fields } = setup('brainpoolP256r1', 'ecasd');
    const cert = parseGpCertificate(issueGpCertificate(fields, issuer.privateKey));
    expect(cert.publicPoint).toEqual(exportRawPublicKey(fields.publicKey as KeyObject));
    expect(Object.keys(cert)).not.toContain('publicKey');
    expect('publicKey' in { ...cert }).toBe(false); // a spread copy neither holds nor imports it
    const key = cert.publicKey;
    expect(exportRawPublicKey(key)).toEqual(cert.publicPoint);
    expect(cert.publicKey).toBe(key);
  });

  it('keeps its own copy of the input', () => {
    const { issuer, fields } = setup('P-256', 'sm-dp');
    const bytes = issueGpCertificate(fields, issuer.privateKey);
    const cert = parseGpCertificate(bytes);
    bytes.writeUInt8(bytes.readUInt8(10) ^ 0xff, 10);
    expect(cert.raw.equals(bytes)).toBe(false);
  });

  it('refuses a public key not on the declared curve, or a C9 that contradicts authorityKeyId', () => {
    const { issuer, fields } = setup('P-256', 'sm-dp');
    expect(codeOf(() => issueGpCertificate({ ...fields, curve: 'brainpoolP256r1' }, issuer.privateKey))).toBe(
      'ERR_PKI_MALFORMED',
    );
    const withOtherC9 = gpDiscretionaryData('sm-dp', Buffer.alloc(20, 7));
    expect(codeOf(() => issueGpCertificate({ ...fields, discretionaryData: withOtherC9 }, issuer.privateKey))).toBe(
      'ERR_PKI_MALFORMED',
    );
  });
});

describe('GP Amd E certificate: verification failures', () => {
  const { issuer, fields, issuerRef } = setup('P-256', 'sm-dp');
  const bytes = issueGpCertificate(fields, issuer.privateKey);
  const cert = parseGpCertificate(bytes);
  const verify = (c = cert, ref = issuerRef, opts: Parameters<typeof verifyGpCertificate>[2] = { now: NOW }) =>
    codeOf(() => verifyGpCertificate(c, ref, opts));

  it('tampered byte in the signed part', () => {
    const tampered = Buffer.from(bytes);
    tampered.writeUInt8(tampered.readUInt8(6) ^ 0x01, 6); // inside the serial number value
    expect(verify(parseGpCertificate(tampered))).toBe('ERR_PKI_SIGNATURE_INVALID');
  });

  it('tampered signature', () => {
    const tampered = Buffer.from(bytes);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 0x01, tampered.length - 1);
    expect(verify(parseGpCertificate(tampered))).toBe('ERR_PKI_SIGNATURE_INVALID');
  });

  it('wrong issuer key (even with the right key identifier)', () => {
    const other = generateEcKeyPair('P-256');
    expect(verify(cert, { publicKey: other.publicKey, subjectKeyId: issuerRef.subjectKeyId })).toBe(
      'ERR_PKI_SIGNATURE_INVALID',
    );
  });

  it('issuer of another curve', () => {
    const other = generateEcKeyPair('brainpoolP256r1');
    expect(verify(cert, { publicKey: other.publicKey, subjectKeyId: issuerRef.subjectKeyId })).toBe(
      'ERR_PKI_SIGNATURE_INVALID',
    );
  });

  it('authority key identifier mismatch (42)', () => {
    expect(verify(cert, { ...issuerRef, subjectKeyId: Buffer.alloc(20, 1) })).toBe('ERR_PKI_KEY_ID_MISMATCH');
  });

  it('authority key identifier mismatch (C9 differs from 42)', () => {
    const odd = issueGpCertificate(
      { ...fields, discretionaryData: gpDiscretionaryData('sm-dp', Buffer.alloc(20, 9)), authorityKeyId: undefined },
      issuer.privateKey,
    );
    expect(verify(parseGpCertificate(odd))).toBe('ERR_PKI_KEY_ID_MISMATCH');
  });

  it('validity: first and last day inclusive, outside refused', () => {
    expect(verify(cert, issuerRef, { now: new Date('2025-01-01T00:00:00Z') })).toBeUndefined();
    expect(verify(cert, issuerRef, { now: new Date('2030-12-31T23:59:59.999Z') })).toBeUndefined();
    expect(verify(cert, issuerRef, { now: new Date('2024-12-31T23:59:59.999Z') })).toBe('ERR_PKI_NOT_YET_VALID');
    expect(verify(cert, issuerRef, { now: new Date('2031-01-01T00:00:00Z') })).toBe('ERR_PKI_EXPIRED');
  });

  it('role mismatch: an SM-DP certificate presented as SM-SR or ECASD', () => {
    expect(verify(cert, issuerRef, { now: NOW, expectedRole: 'sm-sr' })).toBe('ERR_PKI_ROLE_MISMATCH');
    expect(verify(cert, issuerRef, { now: NOW, expectedRole: 'ecasd' })).toBe('ERR_PKI_ROLE_MISMATCH');
  });

  it('wrong key usage', () => {
    expect(verify(cert, issuerRef, { now: NOW, expectedKeyUsage: GP_KEY_USAGE.keyAgreement })).toBe(
      'ERR_PKI_KEY_USAGE',
    );
    const wrongUsage = issueGpCertificate({ ...fields, keyUsage: GP_KEY_USAGE.keyAgreement }, issuer.privateKey);
    expect(verify(parseGpCertificate(wrongUsage), issuerRef, { now: NOW, expectedRole: 'sm-dp' })).toBe(
      'ERR_PKI_KEY_USAGE',
    );
  });
});

describe('GP Amd E certificate: fixed regression vectors (gp-certificate.json)', () => {
  it.each(kat.vectors.map((v) => [v.name, v] as const))('%s decodes to the expected fields and verifies', (_n, v) => {
    const cert = parseGpCertificate(Buffer.from(v.certificate, 'hex'));
    const e = v.expected;
    expect(cert.serialNumber.toString('hex')).toBe(e.serialNumber);
    expect(cert.caId.toString('hex')).toBe(e.caId);
    expect(cert.subjectId.toString('hex')).toBe(e.subjectId);
    expect(cert.keyUsage).toBe(e.keyUsage);
    expect(cert.effectiveDate.toISOString().slice(0, 10)).toBe(e.effectiveDate);
    expect(cert.expirationDate.toISOString().slice(0, 10)).toBe(e.expirationDate);
    expect(cert.discretionaryData.toString('hex')).toBe(e.discretionaryData);
    expect(cert.authorityKeyId?.toString('hex')).toBe(e.authorityKeyId);
    expect(exportRawPublicKey(cert.publicKey).toString('hex')).toBe(e.publicKey);
    expect(cert.curve).toBe(e.curve);
    expect(cert.role).toBe(e.role);
    // The issuer key is derived from the stored scalar, so the KAT checks key handling too.
    const issuerPublicKey = createPublicKey(importRawPrivateKey(v.curve, Buffer.from(v.issuerPrivateKey, 'hex')));
    expect(exportRawPublicKey(issuerPublicKey).toString('hex')).toBe(v.issuerPublicKey);
    const issuerRef = { publicKey: issuerPublicKey, subjectKeyId: Buffer.from(v.issuerSubjectKeyId, 'hex') };
    expect(() => verifyGpCertificate(cert, issuerRef, { now: NOW, expectedRole: e.role })).not.toThrow();
    // Encoding must not drift: re-encoding the decoded fields gives the stored signed bytes.
    expect(encodeGpCertificateBody(cert).toString('hex')).toBe(cert.signedBytes.toString('hex'));
  });

  const v0 = kat.vectors[0] as KatVector;
  const issuer0 = {
    publicKey: createPublicKey(importRawPrivateKey(v0.curve, Buffer.from(v0.issuerPrivateKey, 'hex'))),
    subjectKeyId: Buffer.from(v0.issuerSubjectKeyId, 'hex'),
  };
  it.each(kat.negative.map((n) => [n.name, n] as const))('refuses: %s', (_n, n) => {
    const bytes = Buffer.from(n.certificate, 'hex');
    if (n.stage === 'parse') {
      expect(codeOf(() => parseGpCertificate(bytes))).toBe(n.expectedCode);
    } else {
      const cert = parseGpCertificate(bytes);
      expect(codeOf(() => verifyGpCertificate(cert, issuer0, { now: NOW }))).toBe(n.expectedCode);
    }
  });
});

describe('BCD dates and roles', () => {
  it('encodes and decodes YYYYMMDD', () => {
    expect(encodeBcdDate(new Date('2034-12-31T23:00:00Z')).toString('hex')).toBe('20341231');
    expect(decodeBcdDate(Buffer.from('20240229', 'hex'), 'd').toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(codeOf(() => decodeBcdDate(Buffer.from('20230229', 'hex'), 'd'))).toBe('ERR_PKI_MALFORMED');
    expect(codeOf(() => decodeBcdDate(Buffer.from('00000101', 'hex'), 'd'))).toBe('ERR_PKI_MALFORMED');
    expect(codeOf(() => decodeBcdDate(Buffer.from('202401', 'hex'), 'd'))).toBe('ERR_PKI_MALFORMED');
    expect(codeOf(() => encodeBcdDate(new Date(Number.NaN)))).toBe('ERR_PKI_MALFORMED');
  });

  it('derives roles from C8 and key usage', () => {
    expect(roleOfGpCertificate({ certificateType: 1, keyUsage: 0x82 })).toBe('sm-dp');
    expect(roleOfGpCertificate({ certificateType: 2, keyUsage: 0x82 })).toBe('sm-sr');
    expect(roleOfGpCertificate({ certificateType: undefined, keyUsage: 0x80 })).toBe('ecasd');
    expect(roleOfGpCertificate({ certificateType: undefined, keyUsage: 0x82 })).toBeUndefined();
    expect(roleOfGpCertificate({ certificateType: 3, keyUsage: 0x80 })).toBeUndefined();
    expect(gpDiscretionaryData('sm-sr', Buffer.of(0xaa, 0xbb)).toString('hex')).toBe('c80102c902aabb');
  });
});
