/**
 * One ES5 secure-channel session with the ISD-R (pure; no transport).
 *
 * SGP.02 protects ES5 with the ISD-R keys (SCP80 / SCP81 on a real network, §2.4.3 [U]); the virtual
 * eUICC offers SCP03 on its ISD-R (GP Amd D), so this SM-SR opens an SCP03 session per exchange, in one of
 * two ways:
 *
 * - scripted (one TS 102 226 script, GP Amd D §6.2.2.1): the ISD-R's card challenge is pseudo-random,
 *   derived from its sequence counter, so when the SM-SR knows the counter the card will use (the last one
 *   it saw + 1), it computes the session keys before the card answers and sends
 *     SELECT ISD-R ‖ INITIALIZE UPDATE ‖ EXTERNAL AUTHENTICATE ‖ wrapped C-APDU₁ … ₙ  → R-APDUs
 *   The card still checks the host cryptogram and every C-MAC; the SM-SR checks the card cryptogram and
 *   the counter in the INITIALIZE UPDATE response before it trusts any response. A wrong prediction (another
 *   SM-SR instance, a lost reply) makes the card refuse EXTERNAL AUTHENTICATE and stop: nothing ran, and
 *   the response tells the real counter.
 * - two scripts, when the counter is unknown (first contact, after a restart):
 *     script 1: SELECT ISD-R ‖ INITIALIZE UPDATE(KVN, host challenge)                → card challenge + cryptogram
 *     script 2: EXTERNAL AUTHENTICATE(host cryptogram, C-MAC) ‖ wrapped C-APDU₁ … ₙ    → R-APDUs (R-MAC, R-ENC)
 *
 * SELECT ends any earlier session on the card, so every exchange starts clean and a lost reply never
 * leaves a half-used MAC chain behind. Security level 0x33: C-MAC, C-DEC, R-MAC, R-ENC (Amd D §5.1).
 */
import { Scp03Host } from '@rsp/crypto';
import { AID, decodeResponseScript, encodeCommandScript, type IsdRKeySet } from '@rsp/offcard';
import { isRspError } from '@rsp/errors';
import { decodeResponseApdu, encodeCommandApdu, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import { Es5Error } from './errors';

/** C-MAC | C-DECRYPTION | R-MAC | R-ENCRYPTION (GP Amd D §5.1 Table 5-1). */
export const ES5_SECURITY_LEVEL = 0x33;

const ISD_R_AID = Buffer.from(AID.ISD_R, 'hex');
const SELECT_ISD_R: CommandApdu = { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: ISD_R_AID, le: 256 };

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

  /** The scripted session (one script) for a card that will use `sequenceCounter`: see the file comment. */
  scriptedScript(sequenceCounter: number, commands: readonly CommandApdu[]): Buffer {
    this.host.predictInitializeUpdate(sequenceCounter, ISD_R_AID);
    const externalAuthenticate = this.host.externalAuthenticateCommand(ES5_SECURITY_LEVEL);
    const wrapped = commands.map((command) => encodeCommandApdu(this.host.wrapCommand(command)));
    this.sent = commands.length;
    return encodeCommandScript({
      commands: [encodeCommandApdu(SELECT_ISD_R), encodeCommandApdu(this.host.initializeUpdateCommand()), encodeCommandApdu(externalAuthenticate), ...wrapped],
    });
  }

  /**
   * The responses of a scripted session, unwrapped; or `{ resync }` with the counter the card used when the
   * prediction was wrong (nothing ran on the card: it refused EXTERNAL AUTHENTICATE).
   */
  scriptedResponses(answer: Uint8Array): { responses: ResponseApdu[]; sequenceCounter: number } | { resync: number } {
    const [select, initializeUpdate, ...rest] = this.responsesOf(answer);
    if (select?.sw !== 0x9000) throw new Es5Error.SecureChannel(`SELECT ISD-R answered ${swText(select)}`);
    if (initializeUpdate === undefined) throw new Es5Error.SecureChannel('no INITIALIZE UPDATE response');
    let confirmed;
    try {
      confirmed = this.host.confirmPredictedInitializeUpdate(initializeUpdate);
    } catch (cause) {
      const actual = (cause as { actual?: unknown }).actual;
      if (isRspError(cause, 'ERR_CRYPTO_SCP03_COUNTER_MISMATCH') && typeof actual === 'number') return { resync: actual };
      throw new Es5Error.SecureChannel('the card failed SCP03 authentication (card cryptogram)', { cause });
    }
    const [externalAuthenticate, ...wrapped] = rest;
    return { responses: this.unwrap(externalAuthenticate, wrapped), sequenceCounter: confirmed.sequenceCounter as number };
  }

  /** Script 1 (AA): SELECT ISD-R, INITIALIZE UPDATE. */
  openingScript(): Buffer {
    return encodeCommandScript({ commands: [encodeCommandApdu(SELECT_ISD_R), encodeCommandApdu(this.host.initializeUpdateCommand())] });
  }

  /**
   * Script 2 (AA): checks the card cryptogram in script 1's response, then EXTERNAL AUTHENTICATE and the
   * wrapped commands. `sequenceCounter` is the counter the card used (the next scripted session predicts + 1).
   */
  commandScript(openingResponse: Uint8Array, commands: readonly CommandApdu[]): { script: Buffer; sequenceCounter: number | undefined } {
    const [select, initializeUpdate] = this.responsesOf(openingResponse);
    if (select?.sw !== 0x9000) throw new Es5Error.SecureChannel(`SELECT ISD-R answered ${swText(select)}`);
    if (initializeUpdate === undefined) throw new Es5Error.SecureChannel('no INITIALIZE UPDATE response');
    try {
      const { sequenceCounter } = this.host.processInitializeUpdateResponse(initializeUpdate);
      const externalAuthenticate = this.host.externalAuthenticateCommand(ES5_SECURITY_LEVEL);
      const wrapped = commands.map((command) => encodeCommandApdu(this.host.wrapCommand(command)));
      this.sent = commands.length;
      return { script: encodeCommandScript({ commands: [encodeCommandApdu(externalAuthenticate), ...wrapped] }), sequenceCounter };
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
    return this.unwrap(externalAuthenticate, rest);
  }

  private unwrap(externalAuthenticate: ResponseApdu | undefined, rest: ResponseApdu[]): ResponseApdu[] {
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
