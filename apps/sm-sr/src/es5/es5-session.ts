/**
 * One ES5 secure-channel session with the ISD-R, as two TS 102 226 command scripts (pure; no transport).
 *
 * SGP.02 protects ES5 with the ISD-R keys (SCP80 / SCP81 on a real network, §2.4.3 [U]); the virtual
 * eUICC offers SCP03 on its ISD-R (GP Amd D), so this SM-SR opens an SCP03 session per exchange:
 *
 *   script 1: SELECT ISD-R ‖ INITIALIZE UPDATE(KVN, host challenge)                → card challenge + cryptogram
 *   script 2: EXTERNAL AUTHENTICATE(host cryptogram, C-MAC) ‖ wrapped C-APDU₁ … ₙ    → R-APDUs (R-MAC, R-ENC)
 *
 * SELECT ends any earlier session on the card, so every exchange starts clean and a lost reply never
 * leaves a half-used MAC chain behind. Security level 0x33: C-MAC, C-DEC, R-MAC, R-ENC (Amd D §5.1).
 */
import { Scp03Host } from '@rsp/crypto';
import { AID, decodeResponseScript, encodeCommandScript, type IsdRKeySet } from '@rsp/card';
import { decodeResponseApdu, encodeCommandApdu, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import { Es5Error } from './errors';

/** C-MAC | C-DECRYPTION | R-MAC | R-ENCRYPTION (GP Amd D §5.1 Table 5-1). */
export const ES5_SECURITY_LEVEL = 0x33;

const SELECT_ISD_R: CommandApdu = { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: Buffer.from(AID.ISD_R, 'hex'), le: 256 };

export class Es5Session {
  private readonly host: Scp03Host;
  private sent = 0;

  constructor(keys: IsdRKeySet, hostChallenge?: Uint8Array) {
    this.host = new Scp03Host({
      keys: { enc: keys.enc, mac: keys.mac, dek: keys.dek },
      kvn: keys.kvn,
      ...(hostChallenge ? { hostChallenge } : {}),
    });
  }

  /** Script 1 (AA): SELECT ISD-R, INITIALIZE UPDATE. */
  openingScript(): Buffer {
    return encodeCommandScript({ commands: [encodeCommandApdu(SELECT_ISD_R), encodeCommandApdu(this.host.initializeUpdateCommand())] });
  }

  /** Script 2 (AA): checks the card cryptogram in script 1's response, then EXTERNAL AUTHENTICATE and the wrapped commands. */
  commandScript(openingResponse: Uint8Array, commands: readonly CommandApdu[]): Buffer {
    const [select, initializeUpdate] = this.responsesOf(openingResponse);
    if (select?.sw !== 0x9000) throw new Es5Error.SecureChannel(`SELECT ISD-R answered ${swText(select)}`);
    if (initializeUpdate === undefined) throw new Es5Error.SecureChannel('no INITIALIZE UPDATE response');
    try {
      this.host.processInitializeUpdateResponse(initializeUpdate);
      const externalAuthenticate = this.host.externalAuthenticateCommand(ES5_SECURITY_LEVEL);
      const wrapped = commands.map((command) => encodeCommandApdu(this.host.wrapCommand(command)));
      this.sent = commands.length;
      return encodeCommandScript({ commands: [encodeCommandApdu(externalAuthenticate), ...wrapped] });
    } catch (cause) {
      throw new Es5Error.SecureChannel('the card failed SCP03 authentication (card cryptogram)', { cause });
    }
  }

  /**
   * The R-APDUs of the wrapped commands, unwrapped in order (fewer than sent when the card stopped at an
   * error). Throws Es5Error.SecureChannel when EXTERNAL AUTHENTICATE was refused or an R-MAC is wrong.
   */
  responses(commandResponse: Uint8Array): ResponseApdu[] {
    const [externalAuthenticate, ...rest] = this.responsesOf(commandResponse);
    if (externalAuthenticate?.sw !== 0x9000) throw new Es5Error.SecureChannel(`EXTERNAL AUTHENTICATE answered ${swText(externalAuthenticate)}`);
    if (rest.length > this.sent) throw new Es5Error.SecureChannel('more responses than commands');
    try {
      return rest.map((response) => this.host.unwrapResponse(response));
    } catch (cause) {
      throw new Es5Error.SecureChannel('a response failed its R-MAC', { cause });
    }
  }

  private responsesOf(script: Uint8Array): ResponseApdu[] {
    try {
      return decodeResponseScript(script).responses.map((rApdu) => decodeResponseApdu(rApdu));
    } catch (cause) {
      throw new Es5Error.CardError('the card answered with a malformed response script', { cause });
    }
  }
}

function swText(response: ResponseApdu | undefined): string {
  return response === undefined ? 'nothing' : response.sw.toString(16).toUpperCase().padStart(4, '0');
}
