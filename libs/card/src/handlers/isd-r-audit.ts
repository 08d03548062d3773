/**
 * ISD-R audit over ES5 (SGP.02 §4.1.1.x AuditEIS support; GP CS v2.3 §11.4 GET STATUS, §11.3 GET DATA).
 * Response codings per SPEC-NOTES "Audit" (njiwa) [U].
 */
import { decodeTlvs, encodeTlv, findTlv, type CommandApdu } from '@rsp/tlv';
import type { CardContext, CommandHandler } from '../context';
import { ok } from '../dispatcher';
import { CardError } from '@rsp/offcard';
import { freeMemory, type IsdpState } from '../model';
import { aidHex, isCommand, requireIsdp, uint32 } from './common';

/** GET STATUS P1 40: applications and security domains; P2 02: TLV response format (GP CS Table 11-33/11-34). */
const P1_APPLICATIONS = 0x40;
const P2_TLV_FORMAT = 0x02;
/** Free volatile memory we report (the virtual card has no real RAM limit; our figure). */
const FREE_VOLATILE_BYTES = 8 * 1024;
/** Tag 53 "properties" bit b1: the ISD-P holds the fall-back attribute [U]. */
const PROPERTY_FALLBACK = 0x01;

/** One GET STATUS entry: `E3 { 4F AID, 9F70 01 life cycle, 53 01 properties, 8F 04 granted NV, 91 04 remaining NV }` [U]. */
export function isdpStatusEntry(isdp: IsdpState): Buffer {
  const used = isdp.profile?.sizeBytes ?? 0;
  return encodeTlv(
    0xe3,
    encodeTlv(0x4f, Buffer.from(isdp.aid, 'hex')),
    encodeTlv(0x9f70, Buffer.of(isdp.lifeCycle)),
    encodeTlv(0x53, Buffer.of(isdp.fallback ? PROPERTY_FALLBACK : 0)),
    encodeTlv(0x8f, uint32(isdp.memoryQuota)),
    encodeTlv(0x91, uint32(isdp.memoryQuota - used)),
  );
}

/**
 * GET STATUS `80 F2 40 02 Lc 4F L AID` (`4F 00` = every ISD-P). Lists ISD-Ps only (the ISD-R and ECASD
 * are fixed). No match → 6A88 (GP CS §11.4.3). No paging: the whole list fits a response here.
 */
function getStatus(ctx: CardContext, apdu: CommandApdu) {
  if (apdu.p1 !== P1_APPLICATIONS || apdu.p2 !== P2_TLV_FORMAT) throw new CardError.IncorrectP1P2('expected GET STATUS 40 02');
  const search = findTlv(decodeTlvs(apdu.data), 0x4f);
  if (!search) throw new CardError.IncorrectData('4F search criterion missing');
  const isdps = search.value.length === 0 ? ctx.state.isdps : [requireIsdp(ctx, aidHex(search.value))];
  if (isdps.length === 0) throw new CardError.ReferencedDataNotFound('no ISD-P');
  return ok(Buffer.concat(isdps.map(isdpStatusEntry)));
}

/** GET DATA `80 CA FF 21`: extended card resources `FF21 { 81 apps, 82 free NV, 83 free volatile }` (ETSI TS 102 226 §8.2.1.7.2 [U]). */
function cardResources(ctx: CardContext) {
  const value = Buffer.concat([
    encodeTlv(0x81, Buffer.of(Math.min(ctx.state.isdps.length, 0xff))),
    encodeTlv(0x82, uint32(freeMemory(ctx.state))),
    encodeTlv(0x83, uint32(FREE_VOLATILE_BYTES)),
  ]);
  return ok(encodeTlv(0xff21, value));
}

/** GET DATA `80 CA BF 30 Lc 5C 02 7F 21` → `BF30 L { 7F21 CERT.ECASD.ECKA }` (SPEC-NOTES Audit [U]). */
function ecasdCertificateViaIsdR(ctx: CardContext, apdu: CommandApdu) {
  const list = findTlv(decodeTlvs(apdu.data), 0x5c);
  if (!list || !list.value.equals(Buffer.of(0x7f, 0x21))) throw new CardError.ReferencedDataNotFound('only 7F21 can be requested');
  return ok(encodeTlv(0xbf30, Buffer.from(ctx.state.ecasd.certificate, 'hex')));
}

export const ISD_R_AUDIT_COMMANDS: CommandHandler[] = [
  {
    name: 'ISD-R GET STATUS (audit ISD-Ps)',
    spec: 'SGP.02 §4.1.1 audit; GP CS v2.3 §11.4',
    app: 'isd-r',
    secured: true,
    matches: (apdu) => isCommand(apdu, 0x80, 0xf2),
    handle: getStatus,
  },
  {
    name: 'ISD-R GET DATA FF21 (card resources)',
    spec: 'GP CS v2.3 §11.3; ETSI TS 102 226 §8.2.1.7.2',
    app: 'isd-r',
    secured: true,
    matches: (apdu) => isCommand(apdu, 0x80, 0xca) && apdu.p1 === 0xff && apdu.p2 === 0x21,
    handle: cardResources,
  },
  {
    name: 'ISD-R GET DATA BF30 (CERT.ECASD.ECKA)',
    spec: 'SGP.02 §4.1.1 audit; GP CS v2.3 §11.3',
    app: 'isd-r',
    secured: true,
    matches: (apdu) => isCommand(apdu, 0x80, 0xca) && apdu.p1 === 0xbf && apdu.p2 === 0x30,
    handle: ecasdCertificateViaIsdR,
  },
];
