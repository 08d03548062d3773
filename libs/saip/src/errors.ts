import { RspError } from '@rsp/errors';

/**
 * PEStatus `status` values of the SAIP EUICCResponse (TCA PE_Definitions 3.3.1, `PEStatus`).
 * ISO 7816 status words 6xxx / 9xxx map into 24576..28671 / 36864..40959; 40960..65535 are proprietary.
 */
export const PE_STATUS = {
  ok: 0,
  peNotSupported: 1,
  memoryFailure: 2,
  badValues: 3,
  notEnoughMemory: 4,
  invalidRequestFormat: 5,
  invalidParameter: 6,
  runtimeNotSupported: 7,
  libNotSupported: 8,
  templateNotSupported: 9,
  featureNotSupported: 10,
  pinCodeMissing: 11,
  unsupportedProfileVersion: 31,
} as const;

export interface SaipErrorOptions {
  cause?: unknown;
  /** Position (0-based) of the failing ProfileElement in the package. */
  peIndex?: number;
  /** PEHeader `identification` of the failing ProfileElement, when it could be read. */
  identification?: number;
}

/**
 * Common shape of every SaipError: the RspError code plus what a card needs to build its EUICCResponse
 * (the PEStatus status code and which PE failed).
 */
export abstract class SaipFailure extends RspError {
  /** EUICCResponse PEStatus status this failure is reported with (see {@link PE_STATUS}). */
  static readonly euiccStatus: number = PE_STATUS.invalidRequestFormat;
  readonly euiccStatus: number;
  peIndex: number | undefined;
  identification: number | undefined;

  constructor(message: string, options: SaipErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.euiccStatus = (new.target as unknown as typeof SaipFailure).euiccStatus;
    this.peIndex = options.peIndex;
    this.identification = options.identification;
  }
}

/**
 * Errors raised by @rsp/saip, each with a stable code and the EUICCResponse status a card reports for it.
 */
export namespace SaipError {
  /** Not decodable: truncated TLV, wrong tag, missing mandatory component (status 5 invalid-request-format). */
  export class Malformed extends SaipFailure {
    static override readonly code = 'ERR_SAIP_MALFORMED';
    static override readonly euiccStatus = PE_STATUS.invalidRequestFormat;
  }
  /** Well-formed but a value is out of range: ICCID check digit, key length, IMSI digits (status 3 bad-values). */
  export class BadValue extends SaipFailure {
    static override readonly code = 'ERR_SAIP_BAD_VALUE';
    static override readonly euiccStatus = PE_STATUS.badValues;
  }
  /** The ProfileElements are not in a valid sequence: header first, end last, no duplicates (status 5). */
  export class PeOrder extends SaipFailure {
    static override readonly code = 'ERR_SAIP_PE_ORDER';
    static override readonly euiccStatus = PE_STATUS.invalidRequestFormat;
  }
  /** AKA algorithmID outside milenage(1) / tuak(2) / usim-test-algorithm(3) (status 3 bad-values). */
  export class UnsupportedAlgorithm extends SaipFailure {
    static override readonly code = 'ERR_SAIP_UNSUPPORTED_ALGORITHM';
    static override readonly euiccStatus = PE_STATUS.badValues;
  }
  /** ProfileHeader major-version this implementation does not know (status 31 unsupported-profile-version). */
  export class UnsupportedVersion extends SaipFailure {
    static override readonly code = 'ERR_SAIP_UNSUPPORTED_VERSION';
    static override readonly euiccStatus = PE_STATUS.unsupportedProfileVersion;
  }
  /** Personalisation: the template lacks an element the values need (e.g. no PIN1 entry; status 6). */
  export class TemplateMismatch extends SaipFailure {
    static override readonly code = 'ERR_SAIP_TEMPLATE_MISMATCH';
    static override readonly euiccStatus = PE_STATUS.invalidParameter;
  }
}
