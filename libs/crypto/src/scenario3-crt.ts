/**
 * The Control Reference Template (tag A6) of GlobalPlatform Scenario#3 key establishment
 * (GP Card Spec Amd E "Security Upgrade for Card Content Management"; GP Amd A §3 for the CRT data
 * objects; SGP.02 §4.1.3.3 ES8.EstablishISDPKeySet and §5.6 ES7.CreateAdditionalKeySet).
 *
 * Layout, in the order this module writes it:
 * ```
 * A6 L
 *   90 02 03 <scenario parameter>   Scenario#3 and its option bits (Scenario3Parameter)
 *   95 01 <key usage qualifier>     5C = one key, 10 = three keys (S-ENC, S-MAC, DEK)
 *   [96 01 <key access>]
 *   80 01 88                        key type AES
 *   81 01 10                        key length 16
 *   82 01 <key identifier>
 *   83 01 <key version number>
 *   [91 L <initial counter>]        njiwa and a public SM-SR send "91 00"
 *   [45 L <SDIN>]
 *   [84 L <HostID>]
 * ```
 * Sources (no GP text was readable): njiwa ECKeyAgreementEG.makeA6CRT (GPL, facts only) and a public
 * SM-SR implementation whose CRT is `A615 900203 09 950110 800188 810110 820101 830102 9100`.
 * The meaning of parameter bit b1 (0x01) is not confirmed; it is carried through unchanged.
 */
import { decodeSingleTlv, children, encodeTlv, type Tlv } from '@rsp/tlv';
import { CryptoError } from './errors';

/** Scenario identifier, first byte of tag 90. */
export const SCENARIO_3 = 0x03;

/** Option bits of the scenario parameter (second byte of tag 90) [secondary sources, see module doc]. */
export const Scenario3Parameter = {
  /** The card generates a derivation random DR, returned in tag 85 and fed into SharedInfo. */
  INCLUDE_DR: 0x02,
  /** HostID (84) and SDIN (45) are present and fed, with the SIN, into SharedInfo. */
  INCLUDE_IDENTIFIERS: 0x04,
  /** The off-card entity's certificate was verified first (SGP.02 mutual authentication). */
  CERTIFICATE_VERIFICATION_PRECEDES: 0x08,
} as const;

/** Key usage qualifiers of tag 95 for Scenario#3 key sets (njiwa; SPEC-NOTES). */
export const Scenario3KeyUsage = { ONE_KEY: 0x5c, THREE_KEYS: 0x10 } as const;
/** GP key type AES (tag 80). */
export const KEY_TYPE_AES = 0x88;
/** Only AES-128 key sets are supported (tag 81 = 10). */
export const SCENARIO3_KEY_LENGTH = 16;

export interface Scenario3CrtParams {
  /** Option bits, see {@link Scenario3Parameter}; b3 must match the presence of `hostId`. */
  readonly scenarioParameter: number;
  /** 1 → one key (KUQ 5C); 3 → S-ENC, S-MAC, DEK (KUQ 10). */
  readonly keySetSize: 1 | 3;
  readonly keyId: number;
  readonly keyVersion: number;
  /** Tag 91; an empty value encodes `91 00`. Omitted when undefined. */
  readonly initialCounter?: Uint8Array;
  /** Tag 96 key access byte; omitted when undefined. */
  readonly keyAccess?: number;
  /** Tag 45 Security Domain Image Number; only with identifiers. */
  readonly sdin?: Uint8Array;
  /** Tag 84 HostID; present exactly when the INCLUDE_IDENTIFIERS bit is set. */
  readonly hostId?: Uint8Array;
}

/** A parsed CRT: the parameters plus the whole A6 TLV exactly as received (the receipt covers it). */
export interface Scenario3Crt extends Scenario3CrtParams {
  readonly keyUsageQualifier: number;
  readonly keyType: number;
  readonly keyLength: number;
  readonly tlv: Buffer;
}

const TAG = {
  CRT: 0xa6,
  SCENARIO: 0x90,
  KEY_USAGE: 0x95,
  KEY_ACCESS: 0x96,
  KEY_TYPE: 0x80,
  KEY_LENGTH: 0x81,
  KEY_ID: 0x82,
  KEY_VERSION: 0x83,
  INITIAL_COUNTER: 0x91,
  SDIN: 0x45,
  HOST_ID: 0x84,
} as const;
const KNOWN_TAGS: ReadonlySet<number> = new Set(Object.values(TAG));
/** Identifiers go into SharedInfo behind a one-byte length, so keep them short. */
const MAX_IDENTIFIER_LENGTH = 127;

function invalid(message: string, cause?: unknown): CryptoError.InvalidParameter {
  return new CryptoError.InvalidParameter(`Scenario#3 CRT: ${message}`, cause === undefined ? undefined : { cause });
}

function requireByte(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw invalid(`${name} must be a byte, got ${value}`);
}

function checkIdentifiers(params: Scenario3CrtParams): void {
  const flagged = (params.scenarioParameter & Scenario3Parameter.INCLUDE_IDENTIFIERS) !== 0;
  if (flagged !== (params.hostId !== undefined)) {
    throw invalid('HostID (84) must be present exactly when the identifiers bit (0x04) is set');
  }
  if (params.sdin !== undefined && params.hostId === undefined) throw invalid('SDIN (45) without HostID (84)');
  for (const [name, value] of [['HostID', params.hostId], ['SDIN', params.sdin]] as const) {
    if (value !== undefined && (value.length === 0 || value.length > MAX_IDENTIFIER_LENGTH)) {
      throw invalid(`${name} must be 1..${MAX_IDENTIFIER_LENGTH} bytes`);
    }
  }
}

/** Builds the A6 CRT TLV; throws CryptoError.InvalidParameter for inconsistent parameters. */
export function buildScenario3Crt(params: Scenario3CrtParams): Buffer {
  requireByte(params.scenarioParameter, 'scenario parameter');
  requireByte(params.keyId, 'key identifier');
  requireByte(params.keyVersion, 'key version');
  if (params.keyAccess !== undefined) requireByte(params.keyAccess, 'key access');
  if (params.keySetSize !== 1 && params.keySetSize !== 3) throw invalid('key set size must be 1 or 3');
  checkIdentifiers(params);
  const kuq = params.keySetSize === 1 ? Scenario3KeyUsage.ONE_KEY : Scenario3KeyUsage.THREE_KEYS;
  const parts: Buffer[] = [
    encodeTlv(TAG.SCENARIO, Buffer.of(SCENARIO_3, params.scenarioParameter)),
    encodeTlv(TAG.KEY_USAGE, Buffer.of(kuq)),
  ];
  if (params.keyAccess !== undefined) parts.push(encodeTlv(TAG.KEY_ACCESS, Buffer.of(params.keyAccess)));
  parts.push(
    encodeTlv(TAG.KEY_TYPE, Buffer.of(KEY_TYPE_AES)),
    encodeTlv(TAG.KEY_LENGTH, Buffer.of(SCENARIO3_KEY_LENGTH)),
    encodeTlv(TAG.KEY_ID, Buffer.of(params.keyId)),
    encodeTlv(TAG.KEY_VERSION, Buffer.of(params.keyVersion)),
  );
  if (params.initialCounter !== undefined) parts.push(encodeTlv(TAG.INITIAL_COUNTER, params.initialCounter));
  if (params.sdin !== undefined) parts.push(encodeTlv(TAG.SDIN, params.sdin));
  if (params.hostId !== undefined) parts.push(encodeTlv(TAG.HOST_ID, params.hostId));
  return encodeTlv(TAG.CRT, ...parts);
}

function singleByte(list: Map<number, Tlv>, tag: number, name: string): number {
  const tlv = list.get(tag);
  if (!tlv) throw invalid(`mandatory ${name} (${tag.toString(16).toUpperCase()}) missing`);
  if (tlv.value.length !== 1) throw invalid(`${name} must be one byte`);
  return tlv.value[0] as number;
}

/**
 * Parses and validates an A6 CRT (the whole TLV, nothing after it). Rejects unknown or repeated tags,
 * another scenario, a key type other than AES, a key length other than 16 and unknown key usage
 * qualifiers, all as CryptoError.InvalidParameter.
 */
export function parseScenario3Crt(bytes: Uint8Array): Scenario3Crt {
  let tlv: Tlv;
  let items: Tlv[];
  try {
    tlv = decodeSingleTlv(bytes);
    items = children(tlv);
  } catch (cause) {
    throw invalid('malformed TLV', cause);
  }
  if (tlv.tag !== TAG.CRT) throw invalid(`expected tag A6, got ${tlv.tag.toString(16).toUpperCase()}`);
  const byTag = new Map<number, Tlv>();
  for (const item of items) {
    if (!KNOWN_TAGS.has(item.tag) || item.tag === TAG.CRT) throw invalid(`unexpected tag ${item.tag.toString(16).toUpperCase()}`);
    if (byTag.has(item.tag)) throw invalid(`repeated tag ${item.tag.toString(16).toUpperCase()}`);
    byTag.set(item.tag, item);
  }
  const scenario = byTag.get(TAG.SCENARIO);
  if (!scenario || scenario.value.length !== 2 || scenario.value[0] !== SCENARIO_3) {
    throw invalid('tag 90 must be 03 <parameter>');
  }
  const keyUsageQualifier = singleByte(byTag, TAG.KEY_USAGE, 'key usage qualifier');
  const keySetSize =
    keyUsageQualifier === Scenario3KeyUsage.ONE_KEY ? 1 : keyUsageQualifier === Scenario3KeyUsage.THREE_KEYS ? 3 : undefined;
  if (keySetSize === undefined) throw invalid(`unsupported key usage qualifier ${keyUsageQualifier.toString(16)}`);
  const keyType = singleByte(byTag, TAG.KEY_TYPE, 'key type');
  if (keyType !== KEY_TYPE_AES) throw invalid(`unsupported key type ${keyType.toString(16)}`);
  const keyLength = singleByte(byTag, TAG.KEY_LENGTH, 'key length');
  if (keyLength !== SCENARIO3_KEY_LENGTH) throw invalid(`unsupported key length ${keyLength}`);
  const crt: Scenario3Crt = {
    scenarioParameter: scenario.value[1] as number,
    keySetSize,
    keyId: singleByte(byTag, TAG.KEY_ID, 'key identifier'),
    keyVersion: singleByte(byTag, TAG.KEY_VERSION, 'key version'),
    initialCounter: byTag.get(TAG.INITIAL_COUNTER)?.value,
    keyAccess: byTag.has(TAG.KEY_ACCESS) ? singleByte(byTag, TAG.KEY_ACCESS, 'key access') : undefined,
    sdin: byTag.get(TAG.SDIN)?.value,
    hostId: byTag.get(TAG.HOST_ID)?.value,
    keyUsageQualifier,
    keyType,
    keyLength,
    tlv: Buffer.from(tlv.raw),
  };
  checkIdentifiers(crt);
  return crt;
}
