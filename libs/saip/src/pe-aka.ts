/**
 * PE-AKAParameter (PE_Definitions 3.3.1): the network authentication algorithm and its secrets.
 * Ki and OPc are secrets: never log them.
 */
import type { Tlv } from '@rsp/tlv';
import { SaipError } from './errors';
import { SequenceReader, UNIVERSAL, checkSize, cons, copy, decodeUnsigned, encodeUnsigned, parseTlvs, prim } from './der';
import { decodePeHeader, encodePeHeader, type PeHeader } from './header';

/** AlgoParameter algorithmID named values. */
export const ALGORITHM_ID = { milenage: 1, tuak: 2, 'usim-test-algorithm': 3 } as const;
export type AlgorithmName = keyof typeof ALGORITHM_ID;

export function algorithmName(id: number): AlgorithmName {
  const found = (Object.keys(ALGORITHM_ID) as AlgorithmName[]).find((k) => ALGORITHM_ID[k] === id);
  if (found === undefined) throw new SaipError.UnsupportedAlgorithm(`AKA algorithmID ${id} is not milenage(1), tuak(2) or usim-test-algorithm(3)`);
  return found;
}

/** DEFAULT values of AlgoParameter / PE-AKAParameter (3GPP TS 35.206 §4.1 r1..r5 and c1..c5). */
export const AKA_DEFAULTS = {
  rotationConstants: Buffer.from('4000204060', 'hex'),
  xoringConstants: Buffer.from(
    '00000000000000000000000000000000' + '00000000000000000000000000000001' + '00000000000000000000000000000002' +
      '00000000000000000000000000000004' + '00000000000000000000000000000008',
    'hex',
  ),
  numberOfKeccak: 1,
  sqnOptions: Buffer.from('02', 'hex'),
  sqnDelta: Buffer.from('000010000000', 'hex'),
  sqnAgeLimit: Buffer.from('000010000000', 'hex'),
} as const;

/*
 * AlgoParameter ::= SEQUENCE {
 *   algorithmID INTEGER { milenage(1), tuak(2), usim-test-algorithm(3) },  -- [0] 80
 *   algorithmOptions OCTET STRING (SIZE(1)),                              -- [1] 81
 *   key OCTET STRING,                                                     -- [2] 82
 *   opc OCTET STRING,                                                     -- [3] 83
 *   rotationConstants OCTET STRING (SIZE (5)) DEFAULT '4000204060'H,      -- [4] 84
 *   xoringConstants OCTET STRING (SIZE (80)) DEFAULT '00…00 00…01 00…02 00…04 00…08'H, -- [5] 85
 *   authCounterMax OCTET STRING (SIZE(3)) OPTIONAL,                       -- [6] 86
 *   numberOfKeccak UInt8 DEFAULT 1                                        -- [7] 87
 * }
 */
export interface AlgoParameter {
  algorithm: AlgorithmName;
  /** One byte; 00 for Milenage (pySim `set_milenage`). */
  algorithmOptions: Buffer;
  /** K / Ki: 16 bytes for Milenage, 16 or 32 for TUAK. @secret */
  key: Buffer;
  /** OPc for Milenage (16 bytes), TOPc for TUAK (32 bytes); ignored by the test algorithm. @secret */
  opc: Buffer;
  rotationConstants?: Buffer;
  xoringConstants?: Buffer;
  authCounterMax?: Buffer;
  numberOfKeccak?: number;
}

/* MappingParameter ::= SEQUENCE { mappingOptions OCTET STRING (SIZE(1)), mappingSource ApplicationIdentifier } */
export interface MappingParameter {
  mappingOptions: Buffer;
  mappingSource: Buffer;
}

/*
 * PE-AKAParameter ::= SEQUENCE {
 *   aka-header PEHeader,                                         -- [0] A0
 *   algoConfiguration CHOICE {                                   -- [1] A1 (explicit: CHOICE)
 *     mappingParameter MappingParameter,                         --   [0] A0
 *     algoParameter AlgoParameter                                --   [1] A1
 *   },
 *   sqnOptions OCTET STRING (SIZE(1)) DEFAULT '02'H,             -- [2] 82
 *   sqnDelta OCTET STRING (SIZE(6)) DEFAULT '000010000000'H,     -- [3] 83
 *   sqnAgeLimit OCTET STRING (SIZE(6)) DEFAULT '000010000000'H,  -- [4] 84
 *   sqnInit SEQUENCE (SIZE (32)) OF OCTET STRING (SIZE (6)) DEFAULT '000000000000'H -- [5] A5 { 04 06 … }
 * }
 */
export interface AkaParameterElement {
  kind: 'akaParameter';
  header: PeHeader;
  /** Exactly one of algoParameter / mappingParameter. */
  algoParameter?: AlgoParameter;
  mappingParameter?: MappingParameter;
  sqnOptions?: Buffer;
  sqnDelta?: Buffer;
  sqnAgeLimit?: Buffer;
  /** 32 initial SQN values of 6 bytes; absent means all zero. */
  sqnInit?: Buffer[];
  extensions?: Buffer[];
}

/** Key and OPc sizes by algorithm: the checks a card applies before installing (status 3 on failure). */
export function checkAlgoParameter(p: AlgoParameter): void {
  algorithmName(ALGORITHM_ID[p.algorithm] ?? -1);
  checkSize(p.algorithmOptions, [1], 'algorithmOptions');
  if (p.algorithm === 'milenage') {
    checkSize(p.key, [16], 'Milenage key (Ki)');
    checkSize(p.opc, [16], 'Milenage OPc');
  } else if (p.algorithm === 'tuak') {
    checkSize(p.key, [16, 32], 'TUAK key');
    checkSize(p.opc, [32], 'TUAK TOPc');
  } else if (p.key.length === 0 || p.key.length > 32) {
    throw new SaipError.BadValue(`test algorithm key must be 1..32 bytes, got ${p.key.length}`);
  }
  if (p.rotationConstants) checkSize(p.rotationConstants, [5], 'rotationConstants');
  if (p.xoringConstants) checkSize(p.xoringConstants, [80], 'xoringConstants');
  if (p.authCounterMax) checkSize(p.authCounterMax, [3], 'authCounterMax');
}

const omitDefault = (tag: number, value: Buffer | undefined, fallback: Buffer): Buffer | undefined =>
  value === undefined || value.equals(fallback) ? undefined : prim(tag, value);

function encodeAlgoParameter(p: AlgoParameter): Buffer {
  checkAlgoParameter(p);
  const keccak = p.numberOfKeccak;
  if (keccak !== undefined && (!Number.isInteger(keccak) || keccak < 0 || keccak > 255)) {
    throw new SaipError.BadValue('numberOfKeccak is not a UInt8');
  }
  return cons(0xa1, [
    prim(0x80, encodeUnsigned(ALGORITHM_ID[p.algorithm])),
    prim(0x81, p.algorithmOptions),
    prim(0x82, p.key),
    prim(0x83, p.opc),
    omitDefault(0x84, p.rotationConstants, AKA_DEFAULTS.rotationConstants),
    omitDefault(0x85, p.xoringConstants, AKA_DEFAULTS.xoringConstants),
    p.authCounterMax === undefined ? undefined : prim(0x86, p.authCounterMax),
    keccak === undefined || keccak === AKA_DEFAULTS.numberOfKeccak ? undefined : prim(0x87, encodeUnsigned(keccak)),
  ]);
}

export function encodeAkaParameter(pe: AkaParameterElement, tag: number): Buffer {
  if ((pe.algoParameter === undefined) === (pe.mappingParameter === undefined)) {
    throw new SaipError.BadValue('PE-AKAParameter: exactly one of algoParameter / mappingParameter');
  }
  const config = pe.algoParameter
    ? encodeAlgoParameter(pe.algoParameter)
    : cons(0xa0, [prim(0x80, checkSize((pe.mappingParameter as MappingParameter).mappingOptions, [1], 'mappingOptions')),
        prim(0x81, (pe.mappingParameter as MappingParameter).mappingSource)]);
  const sqnInit = pe.sqnInit;
  if (sqnInit !== undefined && (sqnInit.length !== 32 || sqnInit.some((s) => s.length !== 6))) {
    throw new SaipError.BadValue('sqnInit must be 32 values of 6 bytes');
  }
  const allZero = sqnInit === undefined || sqnInit.every((s) => s.equals(Buffer.alloc(6)));
  return cons(tag, [
    encodePeHeader(pe.header),
    cons(0xa1, [config]),
    omitDefault(0x82, pe.sqnOptions && checkSize(pe.sqnOptions, [1], 'sqnOptions'), AKA_DEFAULTS.sqnOptions),
    omitDefault(0x83, pe.sqnDelta && checkSize(pe.sqnDelta, [6], 'sqnDelta'), AKA_DEFAULTS.sqnDelta),
    omitDefault(0x84, pe.sqnAgeLimit && checkSize(pe.sqnAgeLimit, [6], 'sqnAgeLimit'), AKA_DEFAULTS.sqnAgeLimit),
    allZero ? undefined : cons(0xa5, (sqnInit as Buffer[]).map((s) => prim(UNIVERSAL.OCTET_STRING, s))),
    ...(pe.extensions ?? []),
  ]);
}

export function decodeAkaParameter(tlv: Tlv): AkaParameterElement {
  const what = 'PE-AKAParameter';
  const r = SequenceReader.of(tlv, what);
  const header = decodePeHeader(r.need(0xa0, 'aka-header'), `${what}.aka-header`);
  const choice = parseTlvs(r.need(0xa1, 'algoConfiguration').value, what);
  const chosen = choice[0];
  if (chosen === undefined || choice.length !== 1) throw new SaipError.Malformed(`${what}: algoConfiguration must hold one alternative`);
  const pe: AkaParameterElement = { kind: 'akaParameter', header };
  if (chosen.tag === 0xa1) pe.algoParameter = decodeAlgoParameter(chosen, `${what}.algoParameter`);
  else if (chosen.tag === 0xa0) {
    const m = SequenceReader.of(chosen, `${what}.mappingParameter`);
    pe.mappingParameter = {
      mappingOptions: checkSize(copy(m.need(0x80, 'mappingOptions').value), [1], 'mappingOptions'),
      mappingSource: copy(m.need(0x81, 'mappingSource').value),
    };
    m.rest();
  } else throw new SaipError.Malformed(`${what}: unknown algoConfiguration alternative ${chosen.tag.toString(16)}`);
  const sqnOptions = r.take(0x82);
  if (sqnOptions) pe.sqnOptions = checkSize(copy(sqnOptions.value), [1], 'sqnOptions');
  const sqnDelta = r.take(0x83);
  if (sqnDelta) pe.sqnDelta = checkSize(copy(sqnDelta.value), [6], 'sqnDelta');
  const sqnAgeLimit = r.take(0x84);
  if (sqnAgeLimit) pe.sqnAgeLimit = checkSize(copy(sqnAgeLimit.value), [6], 'sqnAgeLimit');
  const sqnInit = r.take(0xa5);
  if (sqnInit) {
    pe.sqnInit = parseTlvs(sqnInit.value, what).map((s) => {
      if (s.tag !== UNIVERSAL.OCTET_STRING) throw new SaipError.Malformed(`${what}: sqnInit entry is not an OCTET STRING`);
      return checkSize(copy(s.value), [6], 'sqnInit entry');
    });
    if (pe.sqnInit.length !== 32) throw new SaipError.BadValue(`${what}: sqnInit must hold 32 values`);
  }
  const extensions = r.rest();
  if (extensions) pe.extensions = extensions;
  return pe;
}

function decodeAlgoParameter(tlv: Tlv, what: string): AlgoParameter {
  const r = SequenceReader.of(tlv, what);
  const p: AlgoParameter = {
    algorithm: algorithmName(decodeUnsigned(r.need(0x80, 'algorithmID').value, 0xffff, `${what}.algorithmID`)),
    algorithmOptions: copy(r.need(0x81, 'algorithmOptions').value),
    key: copy(r.need(0x82, 'key').value),
    opc: copy(r.need(0x83, 'opc').value),
  };
  const rotation = r.take(0x84);
  if (rotation) p.rotationConstants = copy(rotation.value);
  const xoring = r.take(0x85);
  if (xoring) p.xoringConstants = copy(xoring.value);
  const counter = r.take(0x86);
  if (counter) p.authCounterMax = copy(counter.value);
  const keccak = r.take(0x87);
  if (keccak) p.numberOfKeccak = decodeUnsigned(keccak.value, 255, `${what}.numberOfKeccak`);
  r.rest();
  checkAlgoParameter(p);
  return p;
}
