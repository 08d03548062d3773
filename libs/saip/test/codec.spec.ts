import { describe, it, expect } from '@jest/globals';
import {
  buildDefaultTemplate,
  decodeEfIccid,
  decodeEfImsi,
  decodeEuiccResponse,
  decodeProfileElement,
  decodeProfilePackage,
  encodeEfAcc,
  encodeEfAd,
  encodeEfIccid,
  encodeEfImsi,
  encodeEuiccResponse,
  encodeProfileElement,
  encodeProfilePackage,
  errorResponse,
  headerIccidBytes,
  headerIccidFromBytes,
  PE_STATUS,
  peTag,
  readFileContent,
  SaipError,
  successResponse,
  summariseProfile,
  type ProfileElement,
} from '@rsp/saip';
import { decodeSingleTlv, fromHex } from '@rsp/tlv';
import { loadVector, ts48 } from './support';

interface EfVectors {
  imsi: { imsi: string; efImsi: string }[];
  imsiInvalid: string[];
  efImsiInvalid: { hex: string; note: string }[];
  iccid: { iccid: string; efIccid: string; headerIccid: string }[];
  iccidInvalid: string[];
}
const ef = loadVector<EfVectors>('ef-encoding.json');

const label = (pe: ProfileElement): string => (pe.kind === 'unknown' ? `unknown:${pe.name ?? pe.tag}` : pe.kind);

describe('EF contents (vectors: ef-encoding.json)', () => {
  it.each(ef.imsi)('EF.IMSI of $imsi is $efImsi', ({ imsi, efImsi }) => {
    expect(encodeEfImsi(imsi).toString('hex').toUpperCase()).toBe(efImsi.toUpperCase());
    expect(decodeEfImsi(fromHex(efImsi))).toBe(imsi);
  });
  it.each(ef.imsiInvalid)('refuses IMSI "%s"', (imsi) => {
    expect(() => encodeEfImsi(imsi)).toThrow(SaipError.BadValue);
  });
  it.each(ef.efImsiInvalid)('refuses EF.IMSI $hex ($note)', ({ hex }) => {
    expect(() => decodeEfImsi(fromHex(hex))).toThrow(SaipError.BadValue);
  });
  it.each(ef.iccid)('ICCID $iccid: EF.ICCID swapped, header plain BCD', ({ iccid, efIccid, headerIccid }) => {
    expect(encodeEfIccid(iccid).toString('hex').toUpperCase()).toBe(efIccid);
    expect(decodeEfIccid(fromHex(efIccid))).toBe(iccid);
    expect(headerIccidBytes(iccid).toString('hex').toUpperCase()).toBe(headerIccid);
    expect(headerIccidFromBytes(fromHex(headerIccid))).toBe(iccid);
  });
  it.each(ef.iccidInvalid)('refuses ICCID "%s" with a BadValue (status 3)', (iccid) => {
    expect(() => encodeEfIccid(iccid)).toThrow(SaipError.BadValue);
    expect(() => headerIccidBytes(iccid)).toThrow(SaipError.BadValue);
  });
  it('EF.AD and EF.ACC (TS 31.102 §4.2.18, §4.2.15)', () => {
    expect(encodeEfAd(2).toString('hex')).toBe('00000002');
    expect(encodeEfAcc(9).toString('hex')).toBe('0200');
    expect(encodeEfAcc(0).toString('hex')).toBe('0001');
    expect(() => encodeEfAcc(16)).toThrow(SaipError.BadValue);
  });
});

describe('ProfileElement round trips', () => {
  const template = buildDefaultTemplate({ adm1: '12345678' });
  it.each(template.elements.map((pe) => [label(pe), pe] as const))('%s: decode(encode(pe)) = pe', (_name, pe) => {
    const der = encodeProfileElement(pe);
    const decoded = decodeProfileElement(decodeSingleTlv(der));
    expect(decoded).toEqual(pe);
    expect(encodeProfileElement(decoded).equals(der)).toBe(true);
  });

  it('uses the ProfileElement CHOICE tags of PE_Definitions 3.3.1', () => {
    const tags = template.elements.map((pe) => encodeProfileElement(pe)[0]);
    expect(tags).toEqual([0xa0, 0xb0, 0xa3, 0xa2, 0xb3, 0xa4, 0xaa]);
    expect(peTag('securityDomain')).toBe(0xa6);
    expect(peTag('isim')).toBe(0xb5);
    expect(peTag('df-5gprose')).toBe(0xbf1f);
  });

  it('omits DEFAULT values (DER) and encodes Milenage AKA parameters as A4 { A0 hdr, A1 { A1 { 80 01 01 … } } }', () => {
    const aka = template.elements.find((pe) => pe.kind === 'akaParameter') as ProfileElement;
    const der = encodeProfileElement(aka).toString('hex');
    expect(der).toBe(
      'a435' + 'a0058000810105' + 'a12ca12a' + '800101' + '810100' + '8210' + '00'.repeat(16) + '8310' + '00'.repeat(16),
    );
  });

  it('keeps an unknown ProfileElement byte for byte, with its PEHeader', () => {
    const raw = fromHex('B2 0C A0 05 80 00 81 01 07 81 03 67 81 0F');
    const pe = decodeProfileElement(decodeSingleTlv(raw));
    expect(pe).toMatchObject({ kind: 'unknown', tag: 0xb2, name: 'telecom', header: { mandated: true, identification: 7 } });
    expect(encodeProfileElement(pe).equals(raw)).toBe(true);
  });

  it('whole package: decode(encode(template)) re-encodes identically', () => {
    const der = encodeProfilePackage(template);
    expect(encodeProfilePackage(decodeProfilePackage(der)).equals(der)).toBe(true);
  });
});

describe('real package: GSMA TS.48 Generic eUICC Test Profile (vectors: ts48-generic-test-profile.json)', () => {
  const { der, vector } = ts48();
  const pkg = decodeProfilePackage(der);

  it('decodes every ProfileElement and re-encodes byte for byte', () => {
    expect(pkg.elements.map(label)).toEqual(vector.expected.elements);
    expect(encodeProfilePackage(pkg).equals(der)).toBe(true);
  });

  it('reads the ICCID (header plain BCD, EF.ICCID swapped) and the IMSI', () => {
    const header = pkg.elements[0];
    expect(header?.kind === 'header' && header.iccid).toBe(vector.expected.iccid);
    const mf = pkg.elements.find((pe) => pe.kind === 'mf');
    const usim = pkg.elements.find((pe) => pe.kind === 'usim');
    if (mf?.kind !== 'mf' || usim?.kind !== 'usim') throw new Error('no MF / USIM');
    expect(readFileContent(mf, 'ef-iccid')?.toString('hex').toUpperCase()).toBe(vector.expected.efIccidHex);
    expect(readFileContent(usim, 'ef-imsi')?.toString('hex').toUpperCase()).toBe(vector.expected.efImsiHex.toUpperCase());
    expect(der.subarray(0, 0xa2).toString('hex').toUpperCase()).toContain('830A' + vector.expected.headerIccidHex);
  });

  it('summarises to the values of the ASN.1 value notation', () => {
    const s = summariseProfile(der);
    const e = vector.expected;
    expect(s).toMatchObject({
      iccid: e.iccid, imsi: e.imsi, efIccid: e.iccid, profileType: e.profileType, majorVersion: e.majorVersion,
      minorVersion: e.minorVersion, algorithm: e.algorithm, ki: e.kiHex, opc: e.opcHex, pin1: e.pin1, puk1: e.puk1,
      adm1: e.adm1, usimAid: e.usimAid, mandatoryServices: e.mandatoryServices, sizeBytes: der.length, mncLength: 2,
    });
    const sd = pkg.elements.find((pe) => pe.kind === 'securityDomain');
    expect(sd?.kind === 'securityDomain' && sd.instance.instanceAid.toString('hex').toUpperCase()).toBe(e.securityDomainInstanceAidHex);
    expect(sd?.kind === 'securityDomain' && sd.keyList?.length).toBe(6);
  });
});

describe('EUICCResponse', () => {
  it('encodes the success response as 30 { A0 { 30 { 80 01 00 } } }', () => {
    expect(encodeEuiccResponse(successResponse()).toString('hex')).toBe('3007a0053003800100');
  });
  it('round-trips every field', () => {
    const response = {
      peStatus: [{ status: PE_STATUS.badValues, identification: 300, additionalInformation: 2, offset: 70000 }],
      profileInstallationAborted: true,
      statusMessage: 'bad Ki',
    };
    expect(decodeEuiccResponse(encodeEuiccResponse(response))).toEqual(response);
  });
  it('maps a SaipError to its status and failing PE identification', () => {
    const error = new SaipError.BadValue('Milenage key must be 16 bytes', { peIndex: 5, identification: 11 });
    expect(errorResponse(error)).toEqual({ peStatus: [{ status: 3, identification: 11 }], profileInstallationAborted: true });
    expect(decodeEuiccResponse(encodeEuiccResponse(errorResponse(error))).peStatus[0]?.status).toBe(PE_STATUS.badValues);
  });
  it('refuses malformed responses with a SaipError', () => {
    expect(() => decodeEuiccResponse(fromHex('3005a00330018001'))).toThrow(SaipError.Malformed);
    expect(() => decodeEuiccResponse(fromHex('3003a00130'))).toThrow(SaipError.Malformed);
    expect(() => encodeEuiccResponse({ peStatus: [{ status: -1 }] })).toThrow(SaipError.BadValue);
  });
});
