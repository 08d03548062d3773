/**
 * ES5.EstablishISDRKeySet on the card: the SM-SR gives the ISD-R a new SCP03 key set with GP Amd E
 * Scenario#3 (ECKA-EG, X9.63 KDF, receipt) — the mechanism of ES8.EstablishISDPKeySet (SGP.02 §3.1.2,
 * `isdp-key-establishment.ts`) with CERT.SR.ECDSA instead of CERT.DP.ECDSA and the ISD-R itself as the
 * security domain that receives the keys. SGP.02 runs it in the SM-SR change (§3.8 [U numbering]:
 * ES7.AuthenticateSMSR → 3A01, ES7.CreateAdditionalKeySet → 3A02); this SM-SR also runs it at first
 * contact, replacing the EUM's public TEST key set.
 *
 * ```
 * 80 E2 09 00  3A01 L { 7F21 CERT.SR.ECDSA }                        → 85 L RC
 * 80 E2 89 01  3A02 L { A6 CRT } ‖ 7F49 { B0 ePK, F0 ref } ‖ 5F37 sig → 85 L DR ‖ 86 10 receipt
 * 80 E4 00 00  { F2 03 KVN first-KID last-KID }…                       → 9000 (FinaliseISDRhandover)
 * ```
 * - Same headers as ES8; the ISD-R is the target when no INSTALL [for personalization] named an ISD-P
 *   (GP CS §11.11.2: STORE DATA goes to the selected SD unless a target was set, §11.5.2.3). With a
 *   target this row hands the command to the ES8 row unchanged.
 * - The pending challenge survives SELECT (each ES5 session starts with SELECT ISD-R) but not a power
 *   cycle; it is consumed by the first 3A02, valid or not (one signature attempt per challenge,
 *   `consumeChallenge` in scenario3-card.ts), and dropped by any new 3A01, accepted or not.
 * - The derived set replaces the ISD-R key set of the CRT's KVN, else is added. Older sets stay until
 *   the SM-SR, authenticated with the NEW set, deletes them (ES5.FinaliseISDRhandover, SGP.02 §3.8
 *   steps 24–25 [U numbering]; DELETE with F2 = KVN ‖ key id range, SGP.02 v3.1 §4.1.1.9 as read in
 *   njiwa `ReceiveEISHandoverTransaction` [U]): a lost receipt never locks the SM-SR out.
 * - Status words as for ES8 [U]: certificate / signature refused → 6982; malformed → 6A80; order → 6985.
 */
import { decodeDgi, decodeTlvs, encodeTlv, type CommandApdu } from '@rsp/tlv';
import type { CardContext, CommandHandler } from '../context';
import { ok } from '../dispatcher';
import { CardError } from '@rsp/offcard';
import { ES8_CHALLENGE_LENGTH, ES8_HEADER, ES8_TAG, hasHeader } from '@rsp/offcard';
import { ISD_R_DELETE_KEY_SET_TAG } from '@rsp/offcard';
import { isCommand } from './common';
import { storeDataKeyEstablishment } from './isdp-key-establishment';
import { agreeScenario3Keys, consumeChallenge, keySetOf, parsed, validateOffCardCertificate, verifyKeyEstablishment } from './scenario3-card';

/** Key identifiers of an SCP03 key set: S-ENC 01, S-MAC 02, DEK 03 (GP Amd D §4.1.1). */
const SCP03_KEY_IDS = { first: 0x01, last: 0x03 } as const;

/**
 * 3A01: validates CERT.SR.ECDSA against PK.CI.ECDSA of the ECASD (signature over the received bytes,
 * CA id, dates, role C8 01 02, key usage; SGP.02 §2.3 / §4.1.3.1; no CRL on the card, see
 * `validateOffCardCertificate`) and answers a fresh challenge.
 */
function receiveCertificate(ctx: CardContext, apdu: CommandApdu): Buffer {
  ctx.volatile.isdRKeyEstablishment = undefined; // a new 3A01 ends any pending attempt, even when refused
  const dgi = readDgi(apdu.data);
  if (dgi.dgi !== ES8_TAG.DGI_CERTIFICATE || dgi.next !== apdu.data.length) throw new CardError.IncorrectData('expected exactly one DGI 3A01');
  ctx.step('isd-r-key-establishment:certificate');
  const certificate = validateOffCardCertificate(ctx, dgi.value, 'sm-sr');
  const challenge = Buffer.from(ctx.env.random(ES8_CHALLENGE_LENGTH));
  // A new 3A01 replaces any earlier pending one: only the latest challenge can be signed.
  ctx.volatile.isdRKeyEstablishment = { challenge, offCardCertificate: certificate };
  return encodeTlv(ES8_TAG.CHALLENGE, challenge);
}

/** One DGI (GP CS §11.11.2.2 lengths); malformed → 6A80. */
function readDgi(data: Buffer): ReturnType<typeof decodeDgi> {
  return parsed('DGI', () => decodeDgi(data));
}

/** GP KVNs of key sets are 01–7F (GP CS §11.1.8 [U]; 00 means "first key set" in INITIALIZE UPDATE). */
function requireKvn(kvn: number): number {
  if (!Number.isInteger(kvn) || kvn < 0x01 || kvn > 0x7f) throw new CardError.IncorrectData(`KVN ${kvn} is not 01–7F`);
  return kvn;
}

/**
 * 3A02: verifies the SM-SR's signature (PK.SR.ECDSA from 3A01) over `3A02 TLV ‖ 7F49 TLV ‖ 85 L RC`, runs
 * ECKA-EG with SK.ECASD.ECKA and stores the derived set in the ISD-R (committed with the command).
 */
function establishKeys(ctx: CardContext, data: Buffer): Buffer {
  const pending = consumeChallenge(ctx.volatile.isdRKeyEstablishment, () => (ctx.volatile.isdRKeyEstablishment = undefined));
  const received = verifyKeyEstablishment(ctx, pending, data, 'SK.SR.ECDSA');
  requireKvn(received.crt.keyVersion);
  ctx.step('isd-r-key-establishment:signature-verified');
  const result = agreeScenario3Keys(ctx, received, 'ePK.SR.ECKA / CRT');
  ctx.step('isd-r-key-establishment:keys-derived');
  const keySet = keySetOf(received.crt, result.keys);
  const keySets = ctx.state.isdR.keySets;
  const index = keySets.findIndex((k) => k.kvn === keySet.kvn);
  if (index >= 0) keySets[index] = keySet;
  else keySets.push(keySet);
  return result.response;
}

/**
 * FinaliseISDRhandover: `80 E4 00 00 { F2 03 KVN 01 03 }…` deletes whole ISD-R key sets. Unknown KVN →
 * 6A88; a range that is not the whole set (01–03) → 6A80 [U]; deleting the last key set → 6985 (the
 * ISD-R would be unreachable). All or nothing: any refusal leaves every set in place (draft rollback).
 */
function deleteKeySets(ctx: CardContext, apdu: CommandApdu): Buffer {
  const ranges = parsed('DELETE key', () => decodeTlvs(apdu.data));
  if (ranges.length === 0) throw new CardError.IncorrectData('DELETE key: no F2 range');
  for (const range of ranges) {
    const [kvn, first, last] = range.value;
    if (range.tag !== ISD_R_DELETE_KEY_SET_TAG || range.value.length !== 3 || kvn === undefined) {
      throw new CardError.IncorrectData('DELETE key: expected F2 03 KVN first-KID last-KID');
    }
    if (first !== SCP03_KEY_IDS.first || last !== SCP03_KEY_IDS.last) throw new CardError.IncorrectData('DELETE key: only whole key sets (01–03)');
    const index = ctx.state.isdR.keySets.findIndex((k) => k.kvn === kvn);
    if (index < 0) throw new CardError.ReferencedDataNotFound(`no ISD-R key set with KVN ${kvn}`);
    ctx.state.isdR.keySets.splice(index, 1);
  }
  if (ctx.state.isdR.keySets.length === 0) throw new CardError.ConditionsNotSatisfied('the ISD-R would have no key set left');
  return Buffer.alloc(0);
}

/** True for the two STORE DATA headers of Scenario#3 (3A01 / 3A02). */
function isKeyEstablishmentStoreData(apdu: CommandApdu): boolean {
  return hasHeader(apdu, ES8_HEADER.STORE_DATA_CERTIFICATE) || hasHeader(apdu, ES8_HEADER.STORE_DATA_KEY_ESTABLISHMENT);
}

/** 3A01 / 3A02 to the ISD-R itself, or to the ISD-P named by INSTALL [for personalization] (ES8 row). */
export const storeDataIsdRKeyEstablishment: CommandHandler = {
  name: 'ISD-R STORE DATA 3A01/3A02 (ES5 EstablishISDRKeySet; with a target: ES8 EstablishISDPKeySet)',
  spec: 'SGP.02 §3.8, §4.1.3.1; GP Amd E Scenario#3; GP CS §11.11',
  app: 'isd-r',
  secured: true,
  matches: isKeyEstablishmentStoreData,
  handle(ctx, apdu) {
    if (ctx.volatile.personalizationTarget !== undefined) return storeDataKeyEstablishment.handle(ctx, apdu);
    if (apdu.p1 === ES8_HEADER.STORE_DATA_CERTIFICATE.p1) return ok(receiveCertificate(ctx, apdu));
    return ok(establishKeys(ctx, apdu.data));
  },
};

/** DELETE `80 E4 00 00` of ISD-R key sets (ES5.FinaliseISDRhandover); DeleteProfile (P2 40) is another row. */
export const deleteIsdRKeySets: CommandHandler = {
  name: 'ISD-R DELETE key sets (ES5 FinaliseISDRhandover)',
  spec: 'SGP.02 §3.8, v3.1 §4.1.1.9 [U]; GP CS §11.2',
  app: 'isd-r',
  secured: true,
  // Header only: rows match before C-DECRYPTION, so the data field cannot be looked at here.
  matches: (apdu) => isCommand(apdu, 0x80, 0xe4) && apdu.p1 === 0x00 && apdu.p2 === 0x00,
  handle: (ctx, apdu) => ok(deleteKeySets(ctx, apdu)),
};

/** Ahead of the ES8 rows: this STORE DATA row decides between the ISD-R and the personalization target. */
export const ISD_R_KEY_ESTABLISHMENT_COMMANDS: CommandHandler[] = [storeDataIsdRKeyEstablishment, deleteIsdRKeySets];
