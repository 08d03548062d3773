/**
 * The EIS, eUICC Information Set (SGP.02 Annex E; §5.5 ES1.RegisterEIS; §5.4 ES3/ES4.GetEIS), and the
 * EUM signature over it.
 *
 * XSD shape (njiwa `sr/ws/types/Eis.java`, namespace esim-messaging/1):
 * ```
 * Eis ::= { EumSignedInfo { Eid, Eum-Id, ProductionDate, PlatformType, PlatformVersion,
 *                           isd-p-loadfile-aid, isd-p-module-aid, Ecasd, EuiccCapabilities },
 *           ds:Signature, RemainingMemory, AvailableMemoryForProfiles, lastAuditDate, Smsr-id,
 *           ProfileInfo*, isd-r, AuditTrail?, AdditionalProperties? }
 * ProfileInfo ::= { Iccid, Isd-p-aid, Mno-id, FallbackAttribute, SubscriptionAddress?, State, Smdp-id,
 *                   ProfileType?, AllocatedMemory?, pol2 }
 * ```
 *
 * **Signature encoding — a deliberate departure.** SGP.02 has the EUM sign the EumSignedInfo part in
 * XML (XML-DSig over the SOAP body). This project carries JSON, so the EUM signs the *same fields* in a
 * canonical JSON form instead: RFC 8785 (JCS) — keys sorted by UTF-16 code units, no whitespace, strings
 * and integers serialised as ECMAScript `JSON.stringify` does — prefixed by a type tag (domain
 * separation), UTF-8 encoded, signed with ECDSA-SHA256 (plain r‖s, {@link ecdsaSignPlain}). Only the
 * EumSignedInfo fields are signed, as in SGP.02: the SM-SR rewrites memory, profiles, smsrId and audit
 * data on every operation, and those must not break the EUM's signature.
 *
 * This type has no dependency on libs/card: an SM-SR builds it from its own records.
 */
import type { KeyObject } from 'node:crypto';
import { ecdsaSignPlain, ecdsaVerifyPlain } from '@rsp/crypto';
import { ContractError } from './errors';
import { policyRules, type PolicyRule } from './policy';
import { aid, arrayOf, boolean, dateTime, eid, hex, iccid, identifier, integer, object, oneOf, optional, string, jsonSchemaOf, withSchema, type Check } from './schema';

/** A security domain as the EIS lists it (ISD-R, ECASD). Key sets are not carried. */
export interface SecurityDomainInfo {
  aid: string;
  /** Security Domain Image Number / Provider Identification Number (GP), hex, when known. */
  sin?: string;
  sdin?: string;
}

/** The ECASD and its certificate (SGP.02 §2.3: CERT.ECASD.ECKA, GP `7F21`, signed by the EUM). */
export interface EcasdInfo extends SecurityDomainInfo {
  /** CERT.ECASD.ECKA as hex of the full `7F21` TLV. */
  certificate: string;
}

/** SPEC-NOTES EIS "capabilities": transports and versions the eUICC supports. */
export interface EuiccCapabilities {
  transports: string[];
  rspVersion?: string;
}

/** SGP.02 profile states as the EIS reports them. */
export const PROFILE_STATES = ['Created', 'Disabled', 'Enabled'] as const;
export type ProfileState = (typeof PROFILE_STATES)[number];

/** One profile (ISD-P) of the EIS. */
export interface EisProfile {
  iccid: string;
  isdpAid: string;
  mnoId: string;
  state: ProfileState;
  fallbackAttribute: boolean;
  smdpId: string;
  profileType?: string;
  subscriptionAddress?: { imsi?: string; msisdn?: string };
  allocatedMemory?: number;
  pol2: PolicyRule[];
}

/** The part of the EIS the EUM signs (SGP.02 Annex E "EumSignedInfo"). */
export interface EumSignedInfo {
  eid: string;
  eumId: string;
  productionDate: string;
  platformType: string;
  platformVersion: string;
  isdPLoadFileAid?: string;
  isdPModuleAid?: string;
  ecasd: EcasdInfo;
  capabilities?: EuiccCapabilities;
}

/** The full EIS as the SM-SR holds and returns it. */
export interface Eis extends EumSignedInfo {
  remainingMemory: number;
  availableMemoryForProfiles: number;
  lastAuditDate?: string;
  smsrId: string;
  isdR: SecurityDomainInfo;
  profiles: EisProfile[];
  /** EUM signature over {@link eisSignedBytes}: hex of plain ECDSA r‖s (64 bytes). */
  eumSignature: string;
}

export type UnsignedEis = Omit<Eis, 'eumSignature'>;

/** Names of the signed fields, in the order documented above (the encoding itself sorts keys). */
export const EUM_SIGNED_FIELDS = [
  'eid', 'eumId', 'productionDate', 'platformType', 'platformVersion', 'isdPLoadFileAid', 'isdPModuleAid', 'ecasd', 'capabilities',
] as const satisfies readonly (keyof EumSignedInfo)[];

/** Domain-separation tag inside the signed JSON: a signature over an EIS can't be replayed as anything else. */
export const EIS_SIGNATURE_TYPE = 'rsp/EumSignedInfo/v1';

/**
 * RFC 8785 canonical JSON for the values an EIS holds (objects, arrays, strings, booleans, safe
 * integers). Undefined members are omitted; anything else (NaN, fractions, functions) is refused,
 * so two parties can never disagree on the bytes.
 */
export function canonicalJson(value: unknown, path = 'value'): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new ContractError.InvalidParameter(path, 'a safe integer');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item, index) => canonicalJson(item, `${path}[${index}]`)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member, `${path}.${key}`)}`).join(',')}}`;
  }
  throw new ContractError.InvalidParameter(path, 'a JSON value');
}

/** The exact bytes the EUM signs: UTF-8 of canonical JSON of the EumSignedInfo fields plus the type tag. */
export function eisSignedBytes(eis: EumSignedInfo): Buffer {
  const signed: Record<string, unknown> = { type: EIS_SIGNATURE_TYPE };
  for (const field of EUM_SIGNED_FIELDS) signed[field] = eis[field];
  return Buffer.from(canonicalJson(signed), 'utf8');
}

/** ES1.RegisterEIS (SGP.02 §5.5.1): the EUM signs the EIS it registers. Returns a new, signed EIS. */
export function signEis(eis: UnsignedEis, eumPrivateKey: KeyObject): Eis {
  return { ...eis, eumSignature: ecdsaSignPlain(eumPrivateKey, eisSignedBytes(eis)).toString('hex') };
}

/** The SM-SR's check of ES1.RegisterEIS: true only when the EUM signature covers these signed fields. */
export function verifyEisSignature(eis: Eis, eumPublicKey: KeyObject): boolean {
  if (typeof eis.eumSignature !== 'string' || !/^[0-9A-Fa-f]{128}$/.test(eis.eumSignature)) return false;
  try {
    return ecdsaVerifyPlain(eumPublicKey, eisSignedBytes(eis), Buffer.from(eis.eumSignature, 'hex'));
  } catch {
    return false;
  }
}

const securityDomainShape = { aid, sin: optional(hex(16)), sdin: optional(hex(16)) };

export const securityDomainInfo: Check<SecurityDomainInfo> = object(securityDomainShape);
export const ecasdInfo: Check<EcasdInfo> = object({ ...securityDomainShape, certificate: hex(2048) });

export const eisProfile: Check<EisProfile> = object({
  iccid,
  isdpAid: aid,
  mnoId: identifier,
  state: oneOf(PROFILE_STATES),
  fallbackAttribute: boolean,
  smdpId: identifier,
  profileType: optional(string({ maxLength: 64 })),
  subscriptionAddress: optional(
    object({
      imsi: optional(string({ maxLength: 15, pattern: /^\d{6,15}$/, expected: 'an IMSI of 6..15 digits' })),
      msisdn: optional(string({ maxLength: 15, pattern: /^\d{1,15}$/, expected: 'an MSISDN of up to 15 digits' })),
    }),
  ),
  allocatedMemory: optional(integer()),
  pol2: policyRules,
});

const eisShape = object({
  eid,
  eumId: identifier,
  productionDate: dateTime,
  platformType: string({ maxLength: 64 }),
  platformVersion: string({ maxLength: 64 }),
  isdPLoadFileAid: optional(aid),
  isdPModuleAid: optional(aid),
  ecasd: ecasdInfo,
  capabilities: optional(
    object({ transports: arrayOf(string({ maxLength: 32 }), { max: 16 }), rspVersion: optional(string({ maxLength: 16 })) }),
  ),
  remainingMemory: integer(),
  availableMemoryForProfiles: integer(),
  lastAuditDate: optional(dateTime),
  smsrId: identifier,
  isdR: securityDomainInfo,
  profiles: arrayOf(eisProfile, { max: 255 }),
  eumSignature: hex(64),
});

/**
 * Runtime validator of a full EIS (ES1 RegisterEIS, GetEIS / AuditEIS responses). Beyond the shape it
 * enforces the SGP.02 invariants: at most one Enabled profile, at most one fall-back profile, and
 * unique ICCIDs and ISD-P AIDs.
 */
export const eis: Check<Eis> = withSchema((value: unknown, path: string): Eis => {
  const parsed = eisShape(value, path);
  const at = (index: number, field: string) => `${path ? `${path}.` : ''}profiles[${index}].${field}`;
  const unique = (field: 'iccid' | 'isdpAid') => {
    const seen = new Set<string>();
    parsed.profiles.forEach((profile, index) => {
      const key = profile[field].toUpperCase();
      if (seen.has(key)) throw new ContractError.InvalidParameter(at(index, field), `a unique ${field}`);
      seen.add(key);
    });
  };
  unique('iccid');
  unique('isdpAid');
  const atMostOne = (predicate: (profile: EisProfile) => boolean, field: string, expected: string) => {
    const indexes = parsed.profiles.flatMap((profile, index) => (predicate(profile) ? [index] : []));
    if (indexes.length > 1) throw new ContractError.InvalidParameter(at(indexes[1] ?? 0, field), expected);
  };
  atMostOne((profile) => profile.state === 'Enabled', 'state', 'at most one Enabled profile');
  atMostOne((profile) => profile.fallbackAttribute, 'fallbackAttribute', 'at most one fall-back profile');
  return parsed;
}, jsonSchemaOf(eisShape));
