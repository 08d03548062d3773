import { RspError } from '@rsp/errors';

/** Errors raised by @rsp/crypto, each with a stable code. */
export namespace CryptoError {
  export class InvalidKey extends RspError {
    static override readonly code = 'ERR_CRYPTO_INVALID_KEY';
  }
  export class UnsupportedCurve extends RspError {
    static override readonly code = 'ERR_CRYPTO_UNSUPPORTED_CURVE';
  }
  export class InvalidLength extends RspError {
    static override readonly code = 'ERR_CRYPTO_INVALID_LENGTH';
  }
  export class MacMismatch extends RspError {
    static override readonly code = 'ERR_CRYPTO_MAC_MISMATCH';
  }
  export class ReceiptMismatch extends RspError {
    static override readonly code = 'ERR_CRYPTO_RECEIPT_MISMATCH';
  }
  export class CounterReplay extends RspError {
    static override readonly code = 'ERR_CRYPTO_COUNTER_REPLAY';
  }
  export class Padding extends RspError {
    static override readonly code = 'ERR_CRYPTO_PADDING';
  }
  export class CryptogramMismatch extends RspError {
    static override readonly code = 'ERR_CRYPTO_CRYPTOGRAM_MISMATCH';
  }
  /** A predicted SCP03 session (scripting mode) whose card used another sequence counter: `actual` is the card's. */
  export class CounterMismatch extends RspError {
    static override readonly code = 'ERR_CRYPTO_SCP03_COUNTER_MISMATCH';
    constructor(
      message: string,
      readonly actual: number | undefined,
    ) {
      super(message);
    }
  }
  export class InvalidParameter extends RspError {
    static override readonly code = 'ERR_CRYPTO_INVALID_PARAMETER';
  }
  /** A secure channel operation in the wrong state (not yet authenticated, or closed after a failure). */
  export class SecureChannelState extends RspError {
    static override readonly code = 'ERR_CRYPTO_SECURE_CHANNEL_STATE';
  }
}
