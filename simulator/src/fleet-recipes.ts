/**
 * A fleet's manufacturing record: what the EUM personalised into every card of the fleet (SGP.02 §2.2 /
 * §4.1.3: SK.ECASD.ECKA and CERT.ECASD.ECKA, GP Amd E 7F21 issued by the EUM), so a restart adopts the
 * same cards instead of making new ones the SM-SR has never seen. One compact binary file per fleet,
 * written atomically and fsynced once (100k cards: one file of ~29 MB, not 100k files):
 *
 *   offset size
 *        0    8  magic "RSPFLEET"
 *        8    1  format version (1)
 *        9    1  curve: 1 P-256, 2 brainpoolP256r1
 *       10    1  flags: 0x01 = cards ship with the bootstrap (fall-back) profile
 *       11    1  00
 *       12    8  manufacturing time, ms since 1970 (u64 BE)
 *       20   32  SHA-256 of the EUM certificate (DER): the PKI the cards belong to
 *       52    4  record count n (u32 BE)
 *       56       n records: EID (16 bytes BCD) ‖ d (32) ‖ certificate length (u16 BE, 0 = not issued yet) ‖ 7F21
 *   end-32   32  SHA-256 of every byte before it
 *
 * Reading back checks everything it can without an EUM signature per card (which would cost ~70 µs a
 * card): the digest, the PKI, each EID against the fleet's numbering, and each certificate's key
 * against its scalar (d·G, ~13 µs on P-256), CA identifier and curve. Any failure is a coded
 * error (FleetRecordCorrupt, FleetRecordForeignPki) naming the file; nothing is ever re-made silently.
 *
 * The scalars are secrets (the file is mode 600): no message here ever includes one.
 */
import { createECDH, createHash, createPrivateKey, type ECDH } from 'node:crypto';
import type { CardState } from '@rsp/card';
import { RspError } from '@rsp/errors';
import { GP_CURVE_REFERENCE, type CurveName } from '@rsp/crypto';
import { GP_ROLE, GP_TAG, eidFromBytes, eidToBytes, type TestPki } from '@rsp/pki';
import { decodeSingleTlv, decodeTlvs, findTlv, type Tlv } from '@rsp/tlv';

/** The record is unreadable: truncated, bad magic or digest, a malformed entry, a key that is not its certificate's. */
export class FleetRecordCorrupt extends RspError {
  static override readonly code = 'ERR_SIM_FLEET_RECORD_CORRUPT';
}

/** The record (or a stored card) was made under another PKI: other EUM certificate, curve or CA identifier. */
export class FleetRecordForeignPki extends RspError {
  static override readonly code = 'ERR_SIM_FLEET_RECORD_FOREIGN_PKI';
}

/** A stored card state disagrees with the manufacturing record about the card's ECASD identity. */
export class CardIdentityMismatch extends RspError {
  static override readonly code = 'ERR_SIM_CARD_IDENTITY_MISMATCH';
}

const MAGIC = Buffer.from('RSPFLEET', 'ascii');
const FORMAT_VERSION = 1;
const HEADER_BYTES = 56;
const DIGEST_BYTES = 32;
const EID_BYTES = 16;
const SCALAR_BYTES = 32;
const CURVE_CODE: Record<CurveName, number> = { 'P-256': 1, brainpoolP256r1: 2 };
const FLAG_BOOTSTRAP_PROFILE = 0x01;

/** The fleet-wide facts of a record. */
export interface FleetRecipeHeader {
  curve: CurveName;
  manufacturedAt: Date;
  bootstrapProfile: boolean;
}

/** A record read back: scalars in one slab (32 bytes per card), certificates as views on the file bytes. */
export interface FleetRecipes extends FleetRecipeHeader {
  count: number;
  /** SK.ECASD.ECKA of card `index`. @secret */
  scalar(index: number): Buffer;
  certificates: ReadonlyArray<Buffer | undefined>;
}

/** What to encode: `count` cards, read through accessors so a 100k fleet is not copied first. */
export interface FleetRecipeSource extends FleetRecipeHeader {
  count: number;
  eid(index: number): string;
  /** @secret */
  scalar(index: number): Buffer;
  certificate(index: number): Buffer | undefined;
}

/** The record name of the fleet numbered from `firstSerial` under `eidPrefix` (one file per fleet). */
export function fleetRecordName(eidPrefix: string, firstSerial: number): string {
  return `fleet-${eidPrefix}-${firstSerial}.recipes`;
}

/** SHA-256 of the EUM certificate: binds a record to one PKI. */
export function eumFingerprint(pki: TestPki): Buffer {
  return createHash('sha256').update(pki.eum.der).digest();
}

export function encodeFleetRecipes(source: FleetRecipeSource, pki: TestPki): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header[8] = FORMAT_VERSION;
  header[9] = CURVE_CODE[source.curve];
  header[10] = source.bootstrapProfile ? FLAG_BOOTSTRAP_PROFILE : 0;
  header.writeBigUInt64BE(BigInt(source.manufacturedAt.getTime()), 12);
  eumFingerprint(pki).copy(header, 20);
  header.writeUInt32BE(source.count, 52);
  parts.push(header);
  for (let index = 0; index < source.count; index += 1) {
    const certificate = source.certificate(index) ?? Buffer.alloc(0);
    const fixed = Buffer.alloc(EID_BYTES + SCALAR_BYTES + 2);
    eidToBytes(source.eid(index)).copy(fixed, 0);
    source.scalar(index).copy(fixed, EID_BYTES);
    fixed.writeUInt16BE(certificate.length, EID_BYTES + SCALAR_BYTES);
    parts.push(fixed, certificate);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

export interface DecodeContext {
  /** Where the bytes came from (named in every error). */
  location: string;
  pki: TestPki;
  /** The EID this fleet gives card `index` (a record of another fleet is refused). */
  eidAt(index: number): string;
}

export function decodeFleetRecipes(bytes: Buffer, context: DecodeContext): FleetRecipes {
  const { location, pki } = context;
  const corrupt = (why: string): never => {
    throw new FleetRecordCorrupt(`fleet manufacturing record ${location} is corrupt: ${why}`);
  };
  if (bytes.length < HEADER_BYTES + DIGEST_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) corrupt('not a fleet record');
  if (bytes[8] !== FORMAT_VERSION) corrupt(`format version ${bytes[8]} (expected ${FORMAT_VERSION})`);
  const body = bytes.subarray(0, bytes.length - DIGEST_BYTES);
  if (!createHash('sha256').update(body).digest().equals(bytes.subarray(body.length))) corrupt('digest mismatch (truncated or altered)');

  const curve = (Object.keys(CURVE_CODE) as CurveName[]).find((name) => CURVE_CODE[name] === bytes[9]);
  if (!curve) return corrupt(`unknown curve code ${bytes[9]}`);
  if (curve !== pki.curve || !bytes.subarray(20, 52).equals(eumFingerprint(pki))) {
    throw new FleetRecordForeignPki(`fleet manufacturing record ${location} belongs to another PKI (${curve} EUM certificate differs from this ${pki.curve} EUM's)`);
  }
  const manufacturedAt = new Date(Number(bytes.readBigUInt64BE(12)));
  const count = bytes.readUInt32BE(52);
  const scalars = Buffer.alloc(count * SCALAR_BYTES);
  const certificates: Array<Buffer | undefined> = [];
  const checker = new EcasdCredentialCheck(pki);
  let offset = HEADER_BYTES;
  for (let index = 0; index < count; index += 1) {
    if (offset + EID_BYTES + SCALAR_BYTES + 2 > body.length) corrupt(`record #${index} is truncated`);
    const eid = eidOf(body.subarray(offset, offset + EID_BYTES)) ?? corrupt(`record #${index} holds no valid EID`);
    const expected = context.eidAt(index);
    if (eid !== expected) corrupt(`record #${index} is card ${eid}, but this fleet's card #${index} is ${expected} (a record of another fleet?)`);
    const d = body.subarray(offset + EID_BYTES, offset + EID_BYTES + SCALAR_BYTES);
    const length = body.readUInt16BE(offset + EID_BYTES + SCALAR_BYTES);
    offset += EID_BYTES + SCALAR_BYTES + 2;
    if (offset + length > body.length) corrupt(`record #${index} (card ${eid}) is truncated`);
    const certificate = length > 0 ? body.subarray(offset, offset + length) : undefined;
    offset += length;
    const problem = checker.problem(d, certificate);
    if (problem?.foreign) {
      throw new FleetRecordForeignPki(`fleet manufacturing record ${location}: card ${eid}: ${problem.why}`);
    }
    if (problem) corrupt(`card ${eid}: ${problem.why}`);
    d.copy(scalars, index * SCALAR_BYTES);
    certificates.push(certificate);
  }
  if (offset !== body.length) corrupt(`${body.length - offset} bytes after the last record`);
  return {
    curve,
    manufacturedAt,
    bootstrapProfile: ((bytes[10] as number) & FLAG_BOOTSTRAP_PROFILE) !== 0,
    count,
    scalar: (index) => scalars.subarray(index * SCALAR_BYTES, (index + 1) * SCALAR_BYTES),
    certificates,
  };
}

function eidOf(bytes: Buffer): string | undefined {
  try {
    return eidFromBytes(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Does a scalar belong to a CERT.ECASD.ECKA of this PKI's EUM? A light walk over the 7F21 TLVs (a full
 * parse imports the point, ~130 µs a card) plus d·G. Used for records read back and for card states a
 * fleet adopts.
 */
export class EcasdCredentialCheck {
  private readonly ecdh: ECDH;
  private readonly eumKeyId: Buffer;

  constructor(private readonly pki: TestPki) {
    this.ecdh = createECDH(pki.curve === 'P-256' ? 'prime256v1' : 'brainpoolP256r1');
    this.eumKeyId = pki.eum.subjectKeyId;
  }

  /** The public point d·G (uncompressed), or undefined when d is no valid scalar on the curve. */
  point(d: Uint8Array): Buffer | undefined {
    if (d.length !== SCALAR_BYTES) return undefined;
    try {
      this.ecdh.setPrivateKey(d);
      return this.ecdh.getPublicKey();
    } catch {
      return undefined;
    }
  }

  /** Why (d, certificate) is not a credential of this PKI, or undefined when it is. `certificate` may be absent (lazy). */
  problem(d: Uint8Array, certificate: Buffer | undefined): { why: string; foreign: boolean } | undefined {
    const point = this.point(d);
    if (!point) return { why: `SK.ECASD.ECKA is not a valid ${this.pki.curve} scalar`, foreign: false };
    if (certificate === undefined) return undefined;
    let items: Tlv[];
    try {
      const outer = decodeSingleTlv(certificate);
      if (outer.tag !== GP_TAG.certificate) return { why: 'CERT.ECASD.ECKA is not a 7F21 certificate', foreign: false };
      items = decodeTlvs(outer.value);
    } catch {
      return { why: 'CERT.ECASD.ECKA is not well-formed TLV', foreign: false };
    }
    const publicKey = findTlv(items, GP_TAG.publicKey);
    const keyItems = publicKey ? safeChildren(publicKey) : undefined;
    const certificatePoint = keyItems && findTlv(keyItems, GP_TAG.publicKeyQ)?.value;
    const curveReference = keyItems && findTlv(keyItems, GP_TAG.keyParameterReference)?.value;
    const keyUsage = findTlv(items, GP_TAG.keyUsage)?.value;
    if (!certificatePoint || !curveReference || !keyUsage) return { why: 'CERT.ECASD.ECKA lacks its public key or key usage', foreign: false };
    if (curveReference.length !== 1 || curveReference[0] !== GP_CURVE_REFERENCE[this.pki.curve]) {
      return { why: `CERT.ECASD.ECKA is not on ${this.pki.curve}`, foreign: true };
    }
    if (keyUsage.length !== 2 || keyUsage.readUInt16BE(0) !== GP_ROLE.ecasd.keyUsage) return { why: 'CERT.ECASD.ECKA key usage is not key agreement', foreign: false };
    if (!findTlv(items, GP_TAG.caId)?.value.equals(this.eumKeyId)) return { why: 'CERT.ECASD.ECKA was not issued by this EUM (CA identifier 42)', foreign: true };
    if (!certificatePoint.equals(point)) return { why: 'SK.ECASD.ECKA does not match the public key of CERT.ECASD.ECKA', foreign: false };
    return undefined;
  }
}

function safeChildren(tlv: Tlv): Tlv[] | undefined {
  try {
    return decodeTlvs(tlv.value);
  } catch {
    return undefined;
  }
}

/** SK.ECASD.ECKA and CERT.ECASD.ECKA of a stored card, once they prove to be a credential of this PKI. */
export function adoptStoredCredential(state: CardState, check: EcasdCredentialCheck, where: string): { d: Buffer; certificate: Buffer } {
  let d: Buffer;
  try {
    const jwk = createPrivateKey({ key: Buffer.from(state.ecasd.privateKey, 'hex'), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    d = leftPad32(Buffer.from(jwk.d ?? '', 'base64url'));
  } catch (cause) {
    throw new CardIdentityMismatch(`${where}: SK.ECASD.ECKA is not a PKCS#8 EC key`, { cause });
  }
  const certificate = Buffer.from(state.ecasd.certificate, 'hex');
  const problem = check.problem(d, certificate);
  if (problem?.foreign) throw new FleetRecordForeignPki(`${where}: ${problem.why}`);
  if (problem) throw new CardIdentityMismatch(`${where}: ${problem.why}`);
  return { d, certificate };
}

/** d as 32 bytes (OpenSSL drops leading zero bytes). */
export function leftPad32(bytes: Buffer): Buffer {
  return bytes.length === 32 ? bytes : Buffer.concat([Buffer.alloc(32 - bytes.length), bytes]);
}
