import { RspError } from '@rsp/errors';
import { SW } from '@rsp/tlv';

/**
 * Card errors: each carries the status word the card answers (ISO/IEC 7816-4 §5.6, GP CS §11,
 * SGP.02). Handlers throw them; the dispatcher turns them into an R-APDU and discards the
 * transaction, so a refused command never changes the card.
 */
export class CardFailure extends RspError {
  static override readonly code: string = 'ERR_CARD_FAILURE';
  static readonly sw: number = SW.NO_PRECISE_DIAGNOSIS;
  readonly sw: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.sw = (new.target as typeof CardFailure).sw;
  }
}

export namespace CardError {
  export class WrongLength extends CardFailure {
    static override readonly code = 'ERR_CARD_WRONG_LENGTH';
    static override readonly sw = SW.WRONG_LENGTH;
  }
  /** MAC, cryptogram, certificate or signature failure (GP CS §11.1.3: 6982). */
  export class SecurityStatus extends CardFailure {
    static override readonly code = 'ERR_CARD_SECURITY_STATUS';
    static override readonly sw = SW.SECURITY_STATUS_NOT_SATISFIED;
  }
  /** Wrong life-cycle state or order of commands (6985). */
  export class ConditionsNotSatisfied extends CardFailure {
    static override readonly code = 'ERR_CARD_CONDITIONS_NOT_SATISFIED';
    static override readonly sw = SW.CONDITIONS_NOT_SATISFIED;
  }
  /** SGP.02: refused by a POL1 rule of the profile (69E1). */
  export class PolicyRule extends CardFailure {
    static override readonly code = 'ERR_CARD_POLICY_RULE';
    static override readonly sw = SW.POLICY_RULE_VIOLATION;
  }
  export class IncorrectData extends CardFailure {
    static override readonly code = 'ERR_CARD_INCORRECT_DATA';
    static override readonly sw = SW.INCORRECT_DATA;
  }
  export class NotEnoughMemory extends CardFailure {
    static override readonly code = 'ERR_CARD_NOT_ENOUGH_MEMORY';
    static override readonly sw = SW.NOT_ENOUGH_MEMORY;
  }
  export class ReferencedDataNotFound extends CardFailure {
    static override readonly code = 'ERR_CARD_REFERENCED_DATA_NOT_FOUND';
    static override readonly sw = SW.REFERENCED_DATA_NOT_FOUND;
  }
  export class IncorrectP1P2 extends CardFailure {
    static override readonly code = 'ERR_CARD_INCORRECT_P1P2';
    static override readonly sw = SW.INCORRECT_P1P2;
  }
  export class InsNotSupported extends CardFailure {
    static override readonly code = 'ERR_CARD_INS_NOT_SUPPORTED';
    static override readonly sw = SW.INS_NOT_SUPPORTED;
  }
  export class ClaNotSupported extends CardFailure {
    static override readonly code = 'ERR_CARD_CLA_NOT_SUPPORTED';
    static override readonly sw = SW.CLA_NOT_SUPPORTED;
  }
  export class FileNotFound extends CardFailure {
    static override readonly code = 'ERR_CARD_FILE_NOT_FOUND';
    static override readonly sw = SW.FILE_NOT_FOUND;
  }
  export class FunctionNotSupported extends CardFailure {
    static override readonly code = 'ERR_CARD_FUNCTION_NOT_SUPPORTED';
    static override readonly sw = SW.FUNCTION_NOT_SUPPORTED;
  }
}

/**
 * Raised by a fault plan at a named step: the card "loses power" there. The transaction in progress
 * is dropped, volatile state (sessions, selection, download buffers) is lost, and no R-APDU is sent.
 */
export class PowerLoss extends RspError {
  static override readonly code = 'ERR_CARD_POWER_LOSS';
  constructor(readonly step: string) {
    super(`power lost at step "${step}"`);
  }
}
