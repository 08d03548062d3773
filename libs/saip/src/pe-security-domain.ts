/**
 * PE-SecurityDomain (PE_Definitions 3.3.1), minimal: the SD instance and its key list are typed; the
 * perso data, open perso data and CAT_TP parameters are kept as raw TLVs. Key data is secret.
 */
import type { Tlv } from '@rsp/tlv';
import { SaipError } from './errors';
import { SequenceReader, UNIVERSAL, cons, copy, decodeUnsigned, encodeUnsigned, parseTlvs, prim } from './der';
import { decodePeHeader, encodePeHeader, type PeHeader } from './header';

/*
 * ApplicationInstance ::= SEQUENCE {                        -- explicit tags: no automatic tagging
 *   applicationLoadPackageAID [APPLICATION 15] ApplicationIdentifier,      -- 4F
 *   classAID [APPLICATION 15] ApplicationIdentifier,                       -- 4F
 *   instanceAID [APPLICATION 15] ApplicationIdentifier,                    -- 4F
 *   extraditeSecurityDomainAID [APPLICATION 15] ApplicationIdentifier OPTIONAL, -- 4F
 *   applicationPrivileges [2] OCTET STRING,                                -- 82
 *   lifeCycleState [3] OCTET STRING (SIZE(1)) DEFAULT '07'H,               -- 83
 *   applicationSpecificParametersC9 [PRIVATE 9] OCTET STRING,              -- C9
 *   systemSpecificParameters [PRIVATE 15] ApplicationSystemParameters OPTIONAL, -- EF
 *   applicationParameters [PRIVATE 10] UICCApplicationParameters OPTIONAL, -- EA
 *   processData SEQUENCE (SIZE (1..MAX)) OF OCTET STRING OPTIONAL,        -- 30
 *   controlReferenceTemplate [16] ControlReferenceTemplate OPTIONAL        -- B0
 * }
 */
export interface ApplicationInstance {
  loadPackageAid: Buffer;
  classAid: Buffer;
  instanceAid: Buffer;
  extraditeSecurityDomainAid?: Buffer;
  privileges: Buffer;
  /** Absent means DEFAULT '07' (SELECTABLE). */
  lifeCycleState?: Buffer;
  specificParametersC9: Buffer;
  /** systemSpecificParameters, applicationParameters, processData, controlReferenceTemplate: raw TLVs. */
  otherTlvs?: Buffer[];
}

/*
 * KeyObject ::= SEQUENCE {
 *   keyUsageQualifier [21] OCTET STRING (SIZE (1..2)),   -- 95
 *   keyAccess [22] OCTET STRING (SIZE (1)) DEFAULT '00'H, -- 96
 *   keyIdentifier [2] OCTET STRING (SIZE (1)),           -- 82
 *   keyVersionNumber [3] OCTET STRING (SIZE (1)),        -- 83
 *   keyCounterValue [5] OCTET STRING OPTIONAL,           -- 85
 *   keyComponents SEQUENCE (SIZE (1..MAX)) OF SEQUENCE { -- 30 { 30 { … } }
 *     keyType [0] OCTET STRING,                          -- 80
 *     keyData [6] OCTET STRING,                          -- 86
 *     macLength [7] UInt8 DEFAULT 8                      -- 87
 *   }
 * }
 */
export interface KeyObject {
  keyUsageQualifier: Buffer;
  keyAccess?: Buffer;
  keyIdentifier: number;
  keyVersionNumber: number;
  keyCounterValue?: Buffer;
  /** @secret keyData */
  keyComponents: { keyType: Buffer; keyData: Buffer; macLength?: number }[];
}

/*
 * PE-SecurityDomain ::= SEQUENCE {
 *   sd-Header PEHeader,                                        -- [0] A0
 *   instance ApplicationInstance,                              -- [1] A1
 *   keyList SEQUENCE (SIZE (1..MAX)) OF KeyObject OPTIONAL,    -- [2] A2
 *   sdPersoData SEQUENCE (SIZE (1..MAX)) OF OCTET STRING OPTIONAL, -- [3] A3
 *   openPersoData SEQUENCE { … } OPTIONAL,                     -- [4] A4
 *   catTpParameters SEQUENCE { … } OPTIONAL                    -- [5] A5
 * }
 */
export interface SecurityDomainElement {
  kind: 'securityDomain';
  header: PeHeader;
  instance: ApplicationInstance;
  keyList?: KeyObject[];
  /** sdPersoData / openPersoData / catTpParameters and extensions, as raw TLVs. */
  otherComponents?: Buffer[];
}

const byte = (n: number, what: string): Buffer => {
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new SaipError.BadValue(`${what} ${n} is not one byte`);
  return Buffer.of(n);
};

export function encodeSecurityDomain(pe: SecurityDomainElement, tag: number): Buffer {
  const i = pe.instance;
  const instance = cons(0xa1, [
    prim(0x4f, i.loadPackageAid),
    prim(0x4f, i.classAid),
    prim(0x4f, i.instanceAid),
    i.extraditeSecurityDomainAid === undefined ? undefined : prim(0x4f, i.extraditeSecurityDomainAid),
    prim(0x82, i.privileges),
    i.lifeCycleState === undefined || i.lifeCycleState.equals(Buffer.of(0x07)) ? undefined : prim(0x83, i.lifeCycleState),
    prim(0xc9, i.specificParametersC9),
    ...(i.otherTlvs ?? []),
  ]);
  const keyList =
    pe.keyList === undefined
      ? undefined
      : cons(0xa2, pe.keyList.map((k) => cons(UNIVERSAL.SEQUENCE, [
          prim(0x95, k.keyUsageQualifier),
          k.keyAccess === undefined || k.keyAccess.equals(Buffer.of(0)) ? undefined : prim(0x96, k.keyAccess),
          prim(0x82, byte(k.keyIdentifier, 'keyIdentifier')),
          prim(0x83, byte(k.keyVersionNumber, 'keyVersionNumber')),
          k.keyCounterValue === undefined ? undefined : prim(0x85, k.keyCounterValue),
          cons(UNIVERSAL.SEQUENCE, k.keyComponents.map((c) => cons(UNIVERSAL.SEQUENCE, [
            prim(0x80, c.keyType),
            prim(0x86, c.keyData),
            c.macLength === undefined || c.macLength === 8 ? undefined : prim(0x87, encodeUnsigned(c.macLength)),
          ]))),
        ])));
  return cons(tag, [encodePeHeader(pe.header), instance, keyList, ...(pe.otherComponents ?? [])]);
}

export function decodeSecurityDomain(tlv: Tlv): SecurityDomainElement {
  const what = 'PE-SecurityDomain';
  const r = SequenceReader.of(tlv, what);
  const header = decodePeHeader(r.need(0xa0, 'sd-Header'), `${what}.sd-Header`);
  const instance = decodeInstance(r.need(0xa1, 'instance'), `${what}.instance`);
  const pe: SecurityDomainElement = { kind: 'securityDomain', header, instance };
  const keyList = r.take(0xa2);
  if (keyList) pe.keyList = parseTlvs(keyList.value, what).map((k) => decodeKeyObject(k, `${what}.keyList`));
  const other = r.rest();
  if (other) pe.otherComponents = other;
  return pe;
}

function decodeInstance(tlv: Tlv, what: string): ApplicationInstance {
  const r = SequenceReader.of(tlv, what);
  const instance: ApplicationInstance = {
    loadPackageAid: copy(r.need(0x4f, 'applicationLoadPackageAID').value),
    classAid: copy(r.need(0x4f, 'classAID').value),
    instanceAid: copy(r.need(0x4f, 'instanceAID').value),
    privileges: Buffer.alloc(0),
    specificParametersC9: Buffer.alloc(0),
  };
  const extradite = r.take(0x4f);
  if (extradite) instance.extraditeSecurityDomainAid = copy(extradite.value);
  instance.privileges = copy(r.need(0x82, 'applicationPrivileges').value);
  const lcs = r.take(0x83);
  if (lcs) instance.lifeCycleState = copy(lcs.value);
  instance.specificParametersC9 = copy(r.need(0xc9, 'applicationSpecificParametersC9').value);
  const other = r.rest();
  if (other) instance.otherTlvs = other;
  return instance;
}

function decodeKeyObject(tlv: Tlv, what: string): KeyObject {
  if (tlv.tag !== UNIVERSAL.SEQUENCE) throw new SaipError.Malformed(`${what}: KeyObject is not a SEQUENCE`);
  const r = SequenceReader.of(tlv, what);
  const key: KeyObject = {
    keyUsageQualifier: copy(r.need(0x95, 'keyUsageQualifier').value),
    keyIdentifier: 0,
    keyVersionNumber: 0,
    keyComponents: [],
  };
  const access = r.take(0x96);
  if (access) key.keyAccess = copy(access.value);
  key.keyIdentifier = oneByte(r.need(0x82, 'keyIdentifier').value, `${what}.keyIdentifier`);
  key.keyVersionNumber = oneByte(r.need(0x83, 'keyVersionNumber').value, `${what}.keyVersionNumber`);
  const counter = r.take(0x85);
  if (counter) key.keyCounterValue = copy(counter.value);
  key.keyComponents = parseTlvs(r.need(UNIVERSAL.SEQUENCE, 'keyComponents').value, what).map((c) => {
    if (c.tag !== UNIVERSAL.SEQUENCE) throw new SaipError.Malformed(`${what}: key component is not a SEQUENCE`);
    const cr = SequenceReader.of(c, `${what}.keyComponents`);
    const component: KeyObject['keyComponents'][number] = {
      keyType: copy(cr.need(0x80, 'keyType').value),
      keyData: copy(cr.need(0x86, 'keyData').value),
    };
    const mac = cr.take(0x87);
    if (mac) component.macLength = decodeUnsigned(mac.value, 255, `${what}.macLength`);
    cr.rest();
    return component;
  });
  r.rest();
  return key;
}

function oneByte(value: Buffer, what: string): number {
  if (value.length !== 1) throw new SaipError.BadValue(`${what} must be 1 byte`);
  return value[0] as number;
}
