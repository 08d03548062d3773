import { RspError } from '@rsp/errors';

/** Failures of an ES5 exchange with a card (SGP.02 §5.7 [U]), each with a stable code. */
export namespace Es5Error {
  /** The card did not answer before the deadline (offline, or the validityPeriod ran out). */
  export class Timeout extends RspError {
    static override readonly code = 'ERR_ES5_TIMEOUT';
  }
  /** No route to the card: the broker refused, or the channel is closed. */
  export class CardUnreachable extends RspError {
    static override readonly code = 'ERR_ES5_CARD_UNREACHABLE';
  }
  /** The SCP03 session could not be opened or a response failed its R-MAC (GP Amd D §6.2). */
  export class SecureChannel extends RspError {
    static override readonly code = 'ERR_ES5_SECURE_CHANNEL';
  }
  /** The card side reported an error instead of a response script (malformed script, power loss…). */
  export class CardError extends RspError {
    static override readonly code = 'ERR_ES5_CARD_ERROR';
  }
}
