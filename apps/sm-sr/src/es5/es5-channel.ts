/**
 * ES5 as the SM-SR's use cases see it (SGP.02 §4.1.1, §5.7 [U numbering]): run C-APDUs on the ISD-R of
 * one eUICC inside a secure channel opened with that card's ISD-R key set, and get the R-APDUs back.
 * Transport-free: the MQTT implementation is `mqtt-es5-channel.ts`; tests may pass their own.
 */
import type { CommandApdu, ResponseApdu } from '@rsp/tlv';

export interface Es5RunOptions {
  /** Epoch ms after which the SM-SR stops waiting for the card (the function's validityPeriod). */
  deadline?: number;
}

export interface Es5Channel {
  /**
   * Sends `commands` to the ISD-R of `eid` in one SCP03 session and returns one R-APDU per command the
   * card executed, SCP03 wrapping removed. The card stops at the first failing status word (TS 102 226
   * §5.2.1), so fewer responses than commands means the last one failed; the caller checks the SWs.
   * Throws `Es5Error` (codes ERR_ES5_CARD_UNREACHABLE, ERR_ES5_TIMEOUT, ERR_ES5_SECURE_CHANNEL, ERR_ES5_CARD_ERROR).
   */
  run(eid: string, commands: readonly CommandApdu[], options?: Es5RunOptions): Promise<ResponseApdu[]>;
  close(): Promise<void>;
}
