import { readFileSync } from 'node:fs';
import { encodeTlv } from '@rsp/tlv';
import { buildDefaultTemplate, encodeProfileElement, type ProfilePackage } from '@rsp/saip';

export function loadVector<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
}

export interface Ts48Vector {
  source: string;
  hex: string[];
  expected: {
    elements: string[];
    majorVersion: number;
    minorVersion: number;
    profileType: string;
    iccid: string;
    headerIccidHex: string;
    efIccidHex: string;
    imsi: string;
    efImsiHex: string;
    algorithm: string;
    kiHex: string;
    opcHex: string;
    pin1: string;
    puk1: string;
    adm1: string;
    usimAid: string;
    mandatoryServices: string[];
    securityDomainInstanceAidHex: string;
  };
}

export function ts48(): { der: Buffer; vector: Ts48Vector } {
  const vector = loadVector<Ts48Vector>('ts48-generic-test-profile.json');
  return { der: Buffer.from(vector.hex.join(''), 'hex'), vector };
}

/** The default template's elements, each encoded separately (so a test can swap one for hand-made DER). */
export function templateParts(pkg: ProfilePackage = buildDefaultTemplate()): Buffer[] {
  return pkg.elements.map((pe) => encodeProfileElement(pe));
}

/** Hand-built PE-AKAParameter DER (bypasses the encoder's checks) with the given algorithm, key and OPc. */
export function rawAka(algorithmId: number, key: Buffer, opc: Buffer, identification = 5): Buffer {
  const header = encodeTlv(0xa0, encodeTlv(0x80, Buffer.alloc(0)), encodeTlv(0x81, Buffer.of(identification)));
  const algo = encodeTlv(
    0xa1,
    encodeTlv(0x80, Buffer.of(algorithmId)),
    encodeTlv(0x81, Buffer.of(0)),
    encodeTlv(0x82, key),
    encodeTlv(0x83, opc),
  );
  return encodeTlv(0xa4, header, encodeTlv(0xa1, algo));
}
