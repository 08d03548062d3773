/**
 * The MNO's side of a network attach (TS 33.102 §6.3 UMTS AKA with Milenage, TS 35.206): what an HSS
 * and a VLR/MME do with the subscriber record the MNO holds (Ki, OPc), independently of the card.
 * A device that authenticates here proves its eUICC holds the same credentials as the MNO's record,
 * not merely a self-consistent profile.
 *
 *   network: RAND, SQN → AUTN, XRES         card: AUTHENTICATE(RAND, AUTN) → RES | AUTS
 *   RES = XRES → attached;  AUTS → resynchronise SQN (TS 33.102 §6.3.5) and retry once.
 */
import { randomBytes } from 'node:crypto';
import { buildAutn, milenage, resyncSqnFromAuts } from '@rsp/crypto';
import { decodeResponseApdu, encodeCommandApdu } from '@rsp/tlv';
import { USIM_AID_PREFIX } from '@rsp/card';

/** The MNO's subscriber record (as an HSS holds it). @secret ki, opc */
export interface SubscriberRecord {
  imsi: string;
  ki: Buffer;
  opc: Buffer;
}

export type AttachOutcome = 'attached' | 'authentication-failed' | 'no-usim' | 'sync-failed';

/** Sends one C-APDU to the card and returns the R-APDU (e.g. `fleet.transmit.bind(fleet, eid)`). */
export type Transmit = (apdu: Uint8Array) => Uint8Array;

const AMF = Buffer.from('8000', 'hex'); // AMF separation bit (TS 33.401 Annex H)

/** A time-based SQN (TS 33.102 Annex C.3): always ahead of an earlier one, so a fresh network needs no resync. */
function timeBasedSqn(now = Date.now()): Buffer {
  const value = (BigInt(Math.floor(now / 10)) << 5n) & 0xffffffffffffn;
  return Buffer.from(value.toString(16).padStart(12, '0'), 'hex');
}

/** Runs AKA against the card's USIM with the MNO's record; resynchronises once on AUTS. */
export function attachWithSubscriber(transmit: Transmit, subscriber: SubscriberRecord): AttachOutcome {
  const select = decodeResponseApdu(transmit(encodeCommandApdu({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x04, data: Buffer.from(USIM_AID_PREFIX, 'hex'), le: 256 })));
  if (select.sw !== 0x9000 && select.sw >> 8 !== 0x61) return 'no-usim';
  let sqn = timeBasedSqn();
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const rand = randomBytes(16);
    const input = { k: subscriber.ki, opc: subscriber.opc, rand, sqn, amf: AMF };
    const autn = buildAutn(input);
    const data = Buffer.concat([Buffer.of(rand.length), rand, Buffer.of(autn.length), autn]);
    const response = decodeResponseApdu(transmit(encodeCommandApdu({ cla: 0x00, ins: 0x88, p1: 0x00, p2: 0x81, data, le: 256 })));
    if (response.sw !== 0x9000) return 'authentication-failed'; // 9862: MAC failure, the card holds other keys
    if (response.data[0] === 0xdc) {
      const auts = response.data.subarray(2, 2 + (response.data[1] ?? 0));
      const sqnMs = resyncSqnFromAuts({ k: subscriber.ki, opc: subscriber.opc, rand, auts });
      sqn = Buffer.from(((BigInt(`0x${sqnMs.toString('hex')}`) + 32n) & 0xffffffffffffn).toString(16).padStart(12, '0'), 'hex');
      continue;
    }
    const res = response.data.subarray(2, 2 + (response.data[1] ?? 0));
    return response.data[0] === 0xdb && res.equals(milenage(input).res) ? 'attached' : 'authentication-failed';
  }
  return 'sync-failed';
}
