/**
 * The card side of an ES5 script (ETSI TS 102 226 §5.2): run each C-APDU of a decoded AA script in order
 * and answer the AB response script. The codec itself is off-card shared code (@rsp/offcard es5-script).
 */
import { isSuccessSw } from '@rsp/tlv';
import { decodeCommandScript, encodeResponseScript, statusWordOf, type CommandScript, type ResponseScript } from '@rsp/offcard';

/** Anything that takes a C-APDU and returns an R-APDU (a VirtualEuicc, or a stub in tests). */
export interface ApduExecutor {
  transmit(apdu: Uint8Array): Uint8Array;
}

/**
 * Runs a decoded script on the card: each C-APDU in order, stopping after the first non-success
 * status word (TS 102 226 §5.2.1). A thrown error (e.g. a power loss) ends the script with no
 * response at all, as a real card that lost power would send nothing.
 */
export function runScript(card: ApduExecutor, script: CommandScript): ResponseScript {
  const responses: Buffer[] = [];
  for (const apdu of script.commands) {
    const response = Buffer.from(card.transmit(apdu));
    responses.push(response);
    if (!isSuccessSw(statusWordOf(response))) break;
  }
  return { executed: responses.length, responses };
}

/** Decodes `scriptBytes` (an AA script), runs it on `euicc`, returns the encoded AB response script. */
export function executeScript(euicc: ApduExecutor, scriptBytes: Uint8Array): Buffer {
  return encodeResponseScript(runScript(euicc, decodeCommandScript(scriptBytes)));
}

