/**
 * ES5 payloads: ETSI TS 102 226 "expanded" remote command / response scripts, as SGP.02 Annex K
 * (SM-SR ↔ eUICC over HTTPS/CAT_TP) carries them. Pure codec; the card-side executor is libs/card/src/script-runner.ts.
 *
 *   command script   AA L { [83 01 <chaining>] 22 L <C-APDU> 22 L <C-APDU> … }     TS 102 226 §5.2.1
 *   response script  AB L { 80 01 <number executed> 23 L <data ‖ SW1 SW2> … }       TS 102 226 §5.2.2
 *
 * Layout checked against osmocom pySim `pySim/ota.py` (read for facts only), which cites TS 102 226
 * tables 5.2 (AA template, 22 C-APDU TLVs), 5.10/5.11 (AB template starting with tag 80 "number of
 * executed command TLV objects") and 5.12–5.16 (90 bad format, 81 immediate action, 83 chaining).
 *
 * Execution stops after the first R-APDU whose status word is not a success (9000, 61xx, 9Fxx): that
 * R-APDU is still returned and counted (SPEC-NOTES "ES5 transport"). [U] The TS 102 226 §5.2.1 text was
 * not available to check the exact stop rule (pySim only confirms that 62F1 terminates processing);
 * 62xx/63xx warnings are treated as errors here.
 * Not implemented: the 81/82 immediate/error-action tags (unused by SGP.02) are refused; a malformed
 * script is reported by the transport as a typed error, not as a `90` bad-format TLV [U].
 */
import { RspError } from '@rsp/errors';
import { decodeSingleTlv, decodeTlvs, encodeTlv, type Tlv } from '@rsp/tlv';

/** A script that is not a well-formed TS 102 226 expanded script (stable code for the transport). */
export class Es5ScriptMalformedError extends RspError {
  static override readonly code = 'ERR_ES5_SCRIPT_MALFORMED';
}

/** TS 102 226 §5.2 tags (expanded format, definite length). */
export const ES5_TAG = {
  COMMAND_SCRIPT: 0xaa,
  RESPONSE_SCRIPT: 0xab,
  C_APDU: 0x22,
  R_APDU: 0x23,
  EXECUTED_COUNT: 0x80,
  SCRIPT_CHAINING: 0x83,
} as const;

/** Script chaining values (TS 102 226 §5.2.1.2): first/delete-on-reset, first/keep, subsequent, last. */
export const SCRIPT_CHAINING = {
  FIRST_DELETE_ON_RESET: 0x01,
  FIRST_KEEP_ON_RESET: 0x11,
  SUBSEQUENT: 0x02,
  LAST: 0x03,
} as const;

export interface CommandScript {
  /** Tag 83 value when present. */
  chaining?: number;
  commands: Buffer[];
}

export interface ResponseScript {
  /** Number of C-APDUs executed (tag 80). */
  executed: number;
  /** Each R-APDU: response data ‖ SW1 SW2. */
  responses: Buffer[];
}

export function encodeCommandScript(script: CommandScript): Buffer {
  const parts: Buffer[] = [];
  if (script.chaining !== undefined) parts.push(encodeTlv(ES5_TAG.SCRIPT_CHAINING, Buffer.of(script.chaining)));
  for (const apdu of script.commands) parts.push(encodeTlv(ES5_TAG.C_APDU, apdu));
  return encodeTlv(ES5_TAG.COMMAND_SCRIPT, ...parts);
}

export function decodeCommandScript(bytes: Uint8Array): CommandScript {
  const inner = template(bytes, ES5_TAG.COMMAND_SCRIPT, 'command');
  const script: CommandScript = { commands: [] };
  for (const tlv of inner) {
    if (tlv.tag === ES5_TAG.C_APDU && tlv.value.length >= 4) script.commands.push(Buffer.from(tlv.value)); // CLA INS P1 P2 at least
    else if (tlv.tag === ES5_TAG.SCRIPT_CHAINING && tlv.value.length === 1 && script.commands.length === 0) {
      script.chaining = tlv.value[0];
    } else {
      throw new Es5ScriptMalformedError(`unexpected tag ${tlv.tag.toString(16)} in a command script`);
    }
  }
  return script;
}

export function encodeResponseScript(script: ResponseScript): Buffer {
  if (script.executed > 0xff) throw new Es5ScriptMalformedError('more than 255 executed commands');
  return encodeTlv(
    ES5_TAG.RESPONSE_SCRIPT,
    encodeTlv(ES5_TAG.EXECUTED_COUNT, Buffer.of(script.executed)),
    ...script.responses.map((r) => encodeTlv(ES5_TAG.R_APDU, r)),
  );
}

export function decodeResponseScript(bytes: Uint8Array): ResponseScript {
  const inner = template(bytes, ES5_TAG.RESPONSE_SCRIPT, 'response');
  let executed: number | undefined;
  const responses: Buffer[] = [];
  for (const tlv of inner) {
    if (tlv.tag === ES5_TAG.EXECUTED_COUNT && tlv.value.length === 1 && executed === undefined) executed = tlv.value[0];
    else if (tlv.tag === ES5_TAG.R_APDU && tlv.value.length >= 2) responses.push(Buffer.from(tlv.value));
    else throw new Es5ScriptMalformedError(`unexpected tag ${tlv.tag.toString(16)} in a response script`);
  }
  if (executed === undefined) throw new Es5ScriptMalformedError('response script without tag 80');
  return { executed, responses };
}

/** SW1SW2 of an R-APDU (its last two bytes). */
export function statusWordOf(rApdu: Uint8Array): number {
  if (rApdu.length < 2) throw new Es5ScriptMalformedError('R-APDU shorter than a status word');
  return ((rApdu[rApdu.length - 2] as number) << 8) | (rApdu[rApdu.length - 1] as number);
}

function template(bytes: Uint8Array, tag: number, kind: string): Tlv[] {
  let outer: Tlv;
  try {
    outer = decodeSingleTlv(bytes);
  } catch (cause) {
    throw new Es5ScriptMalformedError(`${kind} script is not one BER-TLV`, { cause });
  }
  if (outer.tag !== tag) {
    throw new Es5ScriptMalformedError(`${kind} script must start with tag ${tag.toString(16)}, got ${outer.tag.toString(16)}`);
  }
  try {
    return decodeTlvs(outer.value);
  } catch (cause) {
    throw new Es5ScriptMalformedError(`${kind} script content is not a TLV list`, { cause });
  }
}
