/**
 * Command and response APDUs, ISO/IEC 7816-4 §5.1 (short and extended length), and status words
 * as used by GlobalPlatform Card Spec v2.3 §11 and SGP.02 §5.7 / Annex.
 */
import { TlvError } from './errors';

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data (Nc bytes); empty when absent. */
  data: Buffer;
  /** Ne, the expected response length; undefined when absent. 256 (short) / 65536 (extended) mean "maximum". */
  le?: number;
}

export interface ResponseApdu {
  data: Buffer;
  /** SW1SW2 as one 16-bit number, e.g. 0x9000. */
  sw: number;
}

/** Status words this project emits or understands (ISO/IEC 7816-4 §5.6, GP CS §11.1.3, SGP.02). */
export const SW = {
  OK: 0x9000,
  /** 61xx: more data available (T=0 GET RESPONSE). */
  MORE_DATA_BASE: 0x6100,
  WRONG_LENGTH: 0x6700,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTHENTICATION_METHOD_BLOCKED: 0x6983,
  REFERENCED_DATA_INVALIDATED: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  COMMAND_NOT_ALLOWED: 0x6986,
  /** SGP.02: the action is refused by a POL1 rule. */
  POLICY_RULE_VIOLATION: 0x69e1,
  INCORRECT_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  WRONG_P1P2: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  NO_PRECISE_DIAGNOSIS: 0x6f00,
  VERIFICATION_FAILED: 0x6300,
} as const;

/** True for the SWs SGP.02 treats as success: 9000, 61xx (more data) and 9Fxx (proactive command pending). */
export function isSuccessSw(sw: number): boolean {
  const sw1 = sw >> 8;
  return sw === SW.OK || sw1 === 0x61 || sw1 === 0x9f;
}

/** Encodes a C-APDU, choosing the short form when Nc ≤ 255 and Ne ≤ 256, else the extended form. */
export function encodeCommandApdu(apdu: CommandApdu): Buffer {
  checkByte(apdu.cla, 'CLA');
  checkByte(apdu.ins, 'INS');
  checkByte(apdu.p1, 'P1');
  checkByte(apdu.p2, 'P2');
  const header = Buffer.of(apdu.cla, apdu.ins, apdu.p1, apdu.p2);
  const nc = apdu.data.length;
  const ne = apdu.le;
  if (nc > 65535) throw new TlvError.BadApdu(`command data of ${nc} bytes exceeds 65535`);
  if (ne !== undefined && (!Number.isInteger(ne) || ne < 1 || ne > 65536)) {
    throw new TlvError.BadApdu(`Ne ${ne} out of range 1..65536`);
  }
  const extended = nc > 255 || (ne !== undefined && ne > 256);
  if (!extended) {
    const parts: Buffer[] = [header];
    if (nc > 0) parts.push(Buffer.of(nc), apdu.data);
    if (ne !== undefined) parts.push(Buffer.of(ne === 256 ? 0 : ne));
    return Buffer.concat(parts);
  }
  const parts: Buffer[] = [header];
  if (nc > 0) parts.push(Buffer.of(0, nc >> 8, nc & 0xff), apdu.data);
  if (ne !== undefined) {
    const le = ne === 65536 ? 0 : ne;
    parts.push(nc > 0 ? Buffer.of(le >> 8, le & 0xff) : Buffer.of(0, le >> 8, le & 0xff));
  }
  return Buffer.concat(parts);
}

/** Decodes a C-APDU in any of the ISO/IEC 7816-4 §5.1 cases 1, 2S/E, 3S/E, 4S/E. */
export function decodeCommandApdu(input: Uint8Array): CommandApdu {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length < 4) throw new TlvError.BadApdu(`C-APDU of ${buf.length} bytes is shorter than its header`);
  const [cla, ins, p1, p2] = [buf[0], buf[1], buf[2], buf[3]] as [number, number, number, number];
  const body = buf.subarray(4);
  const base = { cla, ins, p1, p2 };
  if (body.length === 0) return { ...base, data: Buffer.alloc(0) }; // case 1
  if (body.length === 1) return { ...base, data: Buffer.alloc(0), le: body[0] || 256 }; // case 2S
  const b0 = body[0] as number;
  if (b0 !== 0) {
    // short cases 3S / 4S
    if (body.length === 1 + b0) return { ...base, data: Buffer.from(body.subarray(1)) };
    if (body.length === 2 + b0) return { ...base, data: Buffer.from(body.subarray(1, 1 + b0)), le: body[1 + b0] || 256 };
    throw new TlvError.BadApdu(`Lc ${b0} does not match ${body.length - 1} body bytes`);
  }
  // extended cases: body starts with 00
  if (body.length === 3) return { ...base, data: Buffer.alloc(0), le: body.readUInt16BE(1) || 65536 }; // case 2E
  if (body.length < 3) throw new TlvError.BadApdu('truncated extended length');
  const nc = body.readUInt16BE(1);
  if (nc === 0) throw new TlvError.BadApdu('extended Lc of 0 is not allowed');
  if (body.length === 3 + nc) return { ...base, data: Buffer.from(body.subarray(3)) }; // case 3E
  if (body.length === 5 + nc) {
    return { ...base, data: Buffer.from(body.subarray(3, 3 + nc)), le: body.readUInt16BE(3 + nc) || 65536 }; // 4E
  }
  throw new TlvError.BadApdu(`extended Lc ${nc} does not match ${body.length - 3} body bytes`);
}

export function encodeResponseApdu(response: ResponseApdu): Buffer {
  if (!Number.isInteger(response.sw) || response.sw < 0 || response.sw > 0xffff) {
    throw new TlvError.BadApdu(`invalid status word ${response.sw}`);
  }
  return Buffer.concat([response.data, Buffer.of(response.sw >> 8, response.sw & 0xff)]);
}

export function decodeResponseApdu(input: Uint8Array): ResponseApdu {
  if (input.length < 2) throw new TlvError.BadApdu('R-APDU shorter than its status word');
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return { data: Buffer.from(buf.subarray(0, buf.length - 2)), sw: buf.readUInt16BE(buf.length - 2) };
}

/** "6A88" style rendering for logs and errors. */
export function formatSw(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

function checkByte(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new TlvError.BadApdu(`${name} ${value} is not a byte`);
}
