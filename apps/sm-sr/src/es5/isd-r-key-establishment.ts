/**
 * ES5.EstablishISDRKeySet and ES5.FinaliseISDRhandover, the SM-SR's side (transport-free).
 *
 * The SM-SR gives the ISD-R a key set only it knows with GP Amd E Scenario#3 (ECKA-EG with
 * PK.ECASD.ECKA, X9.63 KDF, receipt), authenticated by CERT.SR.ECDSA — the ES8 mechanism of SGP.02
 * §3.1.2 aimed at the ISD-R itself. SGP.02 uses it in the SM-SR change (§3.8 [U numbering]: steps
 * AuthenticateSMSR → 3A01, CreateAdditionalKeySet → 3A02, then FinaliseISDRhandover deleting the old
 * keys with the new ones). This SM-SR runs it at first contact after ES1 registration, so the EUM's
 * public TEST key set (KVN 0x30) stops opening the card.
 *
 * Order, so that no crash can lock the SM-SR out of a card:
 *   1. {@link establishIsdRKeySet} over the current keys (the old set stays on the card);
 *   2. the caller stores the returned key set in its EIS registry (sealed);
 *   3. over a session with the NEW keys, {@link buildDeleteIsdRKeySets} deletes the old KVNs: the SM-SR's
 *      handover sends it first in the script of the operation that needed ES5 (domain/isd-r-handover.ts);
 *      {@link finaliseIsdRHandover} sends it alone.
 */
import type { KeyObject } from 'node:crypto';
import { CryptoError } from '@rsp/crypto';
import { buildEstablishKeySetStep1, buildEstablishKeySetStep2, DEFAULT_ISDP_CRT, ISD_R_DELETE_KEY_SET_TAG, parseEstablishKeySetStep1Response, type IsdRKeySet } from '@rsp/offcard';
import { encodeTlv, isSuccessSw, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import { CardStatusError } from '../domain/errors';
import type { Es5Channel } from './es5-channel';
import { Es5Error } from './errors';

/** KVN of the first key set the SM-SR establishes; the EUM's initial set is 0x30 (DEFAULT_ISD_R_KVN). */
export const SMSR_ISD_R_KVN = 0x31;
/** Whole SCP03 key set in a FinaliseISDRhandover range: S-ENC 01 … DEK 03 (GP Amd D §4.1.1). */
const SCP03_KEY_ID_RANGE = [0x01, 0x03] as const;

export interface EstablishIsdRKeySetOptions {
  /** CERT.SR.ECDSA (GP 7F21), as issued by the CI. */
  smsrCertificate: Uint8Array;
  /** SK.SR.ECDSA. @secret */
  smsrPrivateKey: KeyObject;
  /** CERT.ECASD.ECKA (7F21) from the EIS, verified against the EUM at ES1 registration. */
  ecasdCertificate: Uint8Array;
  /** KVN of the new key set (01–7F). A set with this KVN on the card is replaced. Default 0x31. */
  kvn?: number;
  /** Epoch ms: the function's validityPeriod. */
  deadline?: number;
}

/** Runs one ES5 script of a single command and requires a success status word. */
async function runOne(channel: Es5Channel, eid: string, commands: readonly CommandApdu[], name: string, deadline?: number): Promise<ResponseApdu> {
  const responses = await channel.run(eid, commands, deadline === undefined ? {} : { deadline });
  commands.forEach((_, index) => {
    const response = responses[index];
    if (response === undefined) throw new CardStatusError(0x6f00, name); // not executed: an earlier one failed
    if (!isSuccessSw(response.sw)) throw new CardStatusError(response.sw, name);
  });
  return responses[responses.length - 1] as ResponseApdu;
}

function requireKvn(kvn: number): number {
  if (!Number.isInteger(kvn) || kvn < 0x01 || kvn > 0x7f) throw new CryptoError.InvalidParameter(`KVN ${kvn} is not 01–7F`);
  return kvn;
}

/**
 * Step 1 (3A01, CERT.SR.ECDSA → challenge) and step 2 (3A02, signed ePK.SR.ECKA + CRT → DR ‖ receipt) in
 * two ES5 sessions with the card's current ISD-R keys; returns the new key set once the receipt verified.
 * A refused command throws {@link CardStatusError} (6982: certificate or signature refused); a receipt
 * that does not verify throws Es5Error.SecureChannel (the card may then hold a set the SM-SR cannot use:
 * the old keys still work, run it again).
 */
export async function establishIsdRKeySet(channel: Es5Channel, eid: string, options: EstablishIsdRKeySetOptions): Promise<IsdRKeySet> {
  const kvn = requireKvn(options.kvn ?? SMSR_ISD_R_KVN);
  // No isdpAid: no INSTALL [for personalization], the STORE DATA goes to the ISD-R (GP CS §11.11).
  const step1 = buildEstablishKeySetStep1({ smdpCertificate: options.smsrCertificate });
  const challenge = parseEstablishKeySetStep1Response((await runOne(channel, eid, step1, 'STORE DATA 3A01 (CERT.SR.ECDSA)', options.deadline)).data);
  const step2 = buildEstablishKeySetStep2({
    challenge,
    smdpPrivateKey: options.smsrPrivateKey, // SK.SR.ECDSA signs `3A02 ‖ 7F49 ‖ 85 RC` as SK.DP.ECDSA does in ES8
    ecasdCertificate: options.ecasdCertificate,
    // Same CRT as ES8 (DR included, certificate verified first, S-ENC/S-MAC/DEK), the ISD-R's KVN.
    crtParams: { ...DEFAULT_ISDP_CRT, keyVersion: kvn },
  });
  const answer = await runOne(channel, eid, step2.commands, 'STORE DATA 3A02 (ePK.SR.ECKA)', options.deadline);
  let established;
  try {
    established = step2.finish(answer.data); // GP Amd E: DR fed into the KDF, receipt = CMAC(receipt key, CRT ‖ DR)
  } catch (cause) {
    if (cause instanceof CryptoError.ReceiptMismatch) throw new Es5Error.SecureChannel('the ISD-R key set receipt does not verify', { cause });
    throw new Es5Error.CardError('malformed answer to 3A02', { cause });
  }
  const { enc, mac, dek } = established.keys;
  return { kvn: established.kvn, enc: Buffer.from(enc), mac: Buffer.from(mac), dek: Buffer.from(dek) };
}

/** DELETE `80 E4 00 00 { F2 03 KVN 01 03 }…` (SGP.02 v3.1 §4.1.1.9 as njiwa sends it [U]). */
export function buildDeleteIsdRKeySets(kvns: readonly number[]): CommandApdu {
  if (kvns.length === 0) throw new CryptoError.InvalidParameter('no key set to delete');
  const ranges = kvns.map((kvn) => encodeTlv(ISD_R_DELETE_KEY_SET_TAG, Buffer.of(requireKvn(kvn), ...SCP03_KEY_ID_RANGE)));
  return { cla: 0x80, ins: 0xe4, p1: 0x00, p2: 0x00, data: Buffer.concat(ranges) };
}

/**
 * ES5.FinaliseISDRhandover as a script of its own (the handover itself sends the same DELETE with the next
 * operation's commands): deletes the ISD-R key sets `deleteKvns` (e.g. the EUM's 0x30). `channel` must
 * authenticate with the NEW key set, which proves the card holds it before the old one goes (SGP.02 §3.8
 * [U]). The card refuses to delete its last key set (6985) and unknown KVNs (6A88), all or nothing.
 */
export async function finaliseIsdRHandover(channel: Es5Channel, eid: string, options: { deleteKvns: readonly number[]; deadline?: number }): Promise<void> {
  await runOne(channel, eid, [buildDeleteIsdRKeySets(options.deleteKvns)], 'DELETE ISD-R key sets', options.deadline);
}
