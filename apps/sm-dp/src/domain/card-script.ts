/**
 * ES8 over ES3.SendData (docs/services.md "SendData"): the SM-DP's C-APDUs travel as one TS 102 226
 * expanded command script (`AA …`, SGP.02 Annex K); the SM-SR answers with the `AB …` response script
 * it got from the card. Here: building the script, reading the answer back, and turning a refused
 * command's status word into the card error libs/contracts maps to SGP.02 codes.
 */
import { CardError, CardFailure, decodeResponseScript, encodeCommandScript, statusWordOf } from '@rsp/offcard';
import { StatusError } from '@rsp/contracts';
import { encodeCommandApdu, formatSw, isSuccessSw, type CommandApdu } from '@rsp/tlv';
import { SMDP_STATUS } from './status-codes';

/** The hex `AA` script carrying `commands` (ISO/IEC 7816-4 encoding of each C-APDU). */
export function commandScriptHex(commands: readonly CommandApdu[]): string {
  return encodeCommandScript({ commands: commands.map((command) => encodeCommandApdu(command)) }).toString('hex').toUpperCase();
}

const ERRORS_BY_SW: ReadonlyMap<number, new (message: string) => CardFailure> = new Map(
  Object.values(CardError).map((ErrorClass) => [ErrorClass.sw, ErrorClass] as const),
);

/** The CardError for a refusing status word (ISO/IEC 7816-4 §5.6, GP CS §11); CardFailure for others. */
export function cardErrorForSw(sw: number, what: string): CardFailure {
  const ErrorClass = ERRORS_BY_SW.get(sw) ?? CardFailure;
  return new ErrorClass(`the eUICC answered ${formatSw(sw)} to ${what}`);
}

/**
 * Decodes the `AB` response script of `commandCount` commands and returns each response's data (SW
 * stripped). Throws the card error of the first refusing status word (the card stops there, TS 102 226
 * §5.2.1), or EUICC_RESPONSE_MISSING when responses are missing.
 */
export function responseData(euiccResponseData: string | undefined, commandCount: number, what: string): Buffer[] {
  if (euiccResponseData === undefined) throw new StatusError(SMDP_STATUS.EUICC_RESPONSE_MISSING);
  const script = decodeResponseScript(Buffer.from(euiccResponseData, 'hex'));
  const data: Buffer[] = [];
  for (const response of script.responses) {
    const sw = statusWordOf(response);
    if (!isSuccessSw(sw)) throw cardErrorForSw(sw, what);
    data.push(response.subarray(0, response.length - 2));
  }
  if (data.length !== commandCount) throw new StatusError(SMDP_STATUS.EUICC_RESPONSE_MISSING);
  return data;
}
