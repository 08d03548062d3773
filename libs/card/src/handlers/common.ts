/** Small parsing helpers shared by the ISD-R / ECASD / USIM command rows. */
import { decodeTlvs, findTlv, type CommandApdu } from '@rsp/tlv';
import { CardError } from '@rsp/offcard';
import { findIsdp, type IsdpState } from '../model';
import type { CardContext } from '../context';

/** True when CLA (logical channel and secure-messaging bits ignored) and INS match. */
export function isCommand(apdu: CommandApdu, cla: number, ins: number): boolean {
  return (apdu.cla & 0xf0) === cla && apdu.ins === ins;
}

/** An AID as the state stores it (upper-case hex); 5..16 bytes (ISO/IEC 7816-5 §5.2) or 6A80. */
export function aidHex(bytes: Uint8Array): string {
  if (bytes.length < 5 || bytes.length > 16) throw new CardError.IncorrectData(`AID of ${bytes.length} bytes`);
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

/** Reads the mandatory `4F L AID` from a list of BER-TLVs (6A80 when absent or malformed). */
export function requireAidTlv(value: Uint8Array): string {
  const aid = findTlv(decodeTlvs(value), 0x4f);
  if (!aid) throw new CardError.IncorrectData('4F AID missing');
  return aidHex(aid.value);
}

/** The ISD-P with this AID, or 6A88 (GP CS §11: referenced data not found). */
export function requireIsdp(ctx: CardContext, aid: string): IsdpState {
  const isdp = findIsdp(ctx.state, aid);
  if (!isdp) throw new CardError.ReferencedDataNotFound(`no ISD-P ${aid}`);
  return isdp;
}

/** Reads one length-value field (1-byte length) of INSTALL data (GP CS §11.5.2.3). */
export class LvReader {
  private offset = 0;
  constructor(private readonly data: Buffer) {}

  next(field: string): Buffer {
    const length = this.data[this.offset];
    if (length === undefined || this.offset + 1 + length > this.data.length) {
      throw new CardError.IncorrectData(`INSTALL data ends inside ${field}`);
    }
    const value = this.data.subarray(this.offset + 1, this.offset + 1 + length);
    this.offset += 1 + length;
    return value;
  }

  get done(): boolean {
    return this.offset === this.data.length;
  }
}

/** Big-endian unsigned of 4 bytes (memory figures in audit data). [U] the width SGP.02 uses. */
export function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(Math.max(0, Math.min(value, 0xffffffff)));
  return out;
}
