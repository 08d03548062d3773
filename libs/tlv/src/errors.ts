import { RspError } from '@rsp/errors';

/** Errors raised by @rsp/tlv, each with a stable code. */
export namespace TlvError {
  /** Input ends before the tag, length or value it announces. */
  export class Truncated extends RspError {
    static override readonly code = 'ERR_TLV_TRUNCATED';
  }
  /** A tag that is not valid BER (e.g. a 00 filler, a tag longer than 4 bytes). */
  export class BadTag extends RspError {
    static override readonly code = 'ERR_TLV_BAD_TAG';
  }
  /** An indefinite, over-long or non-minimal length encoding. */
  export class BadLength extends RspError {
    static override readonly code = 'ERR_TLV_BAD_LENGTH';
  }
  /** Bytes left over after the last complete TLV. */
  export class TrailingData extends RspError {
    static override readonly code = 'ERR_TLV_TRAILING_DATA';
  }
  /** A mandatory TLV is absent. */
  export class Missing extends RspError {
    static override readonly code = 'ERR_TLV_MISSING';
  }
  /** A hex string with odd length or non-hex characters. */
  export class BadHex extends RspError {
    static override readonly code = 'ERR_TLV_BAD_HEX';
  }
  /** A C-APDU or R-APDU that is not well formed (ISO/IEC 7816-4 §5.1). */
  export class BadApdu extends RspError {
    static override readonly code = 'ERR_TLV_BAD_APDU';
  }
}
