import { RspError } from '@rsp/errors';
import { REASON, SUBJECT, type ExecutionStatusValue, type StatusCodeData } from './status';

/**
 * A request or message that breaks its contract (SGP.02 §5.1: the function provider checks the
 * parameters before executing). Each subclass carries the SGP.02 codes it is reported with; the
 * subjectIdentifier is the path of the faulty parameter (e.g. `eid`, `header.functionCallIdentifier`,
 * `eis.profiles[0].iccid`). Messages name the parameter only, never the received value.
 */
export abstract class ContractFailure extends RspError {
  static readonly subjectCode: string = SUBJECT.FUNCTION;
  static readonly reasonCode: string = REASON.INVALID;
  /** Dotted path of the parameter at fault. */
  readonly parameter: string;
  readonly subjectCode: string;
  readonly reasonCode: string;

  constructor(parameter: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.parameter = parameter;
    const ctor = new.target as unknown as typeof ContractFailure;
    this.subjectCode = ctor.subjectCode;
    this.reasonCode = ctor.reasonCode;
  }
}

/** Errors raised by @rsp/contracts validators and topic builders, each with a stable code. */
export namespace ContractError {
  /** A mandatory element is absent (1.6 / 2.2 mandatory element missing). */
  export class MandatoryElementMissing extends ContractFailure {
    static override readonly code = 'ERR_CONTRACT_MANDATORY_ELEMENT_MISSING';
    static override readonly reasonCode = REASON.MANDATORY_ELEMENT_MISSING;
    constructor(parameter: string) {
      super(parameter, `mandatory element missing: ${parameter}`);
    }
  }
  /** None of a set of alternative elements is present (1.6 / 2.3 conditional element missing). */
  export class ConditionalElementMissing extends ContractFailure {
    static override readonly code = 'ERR_CONTRACT_CONDITIONAL_ELEMENT_MISSING';
    static override readonly reasonCode = REASON.CONDITIONAL_ELEMENT_MISSING;
    constructor(parameter: string) {
      super(parameter, `conditional element missing: ${parameter}`);
    }
  }
  /** Present but of the wrong type, format or range (1.6 / 2.1 invalid). */
  export class InvalidParameter extends ContractFailure {
    static override readonly code = 'ERR_CONTRACT_INVALID_PARAMETER';
    static override readonly reasonCode = REASON.INVALID;
    constructor(parameter: string, expected: string) {
      super(parameter, `invalid parameter ${parameter}: expected ${expected}`);
    }
  }
}

/**
 * Thrown by a service to end a function with explicit SGP.02 codes, e.g.
 * `throw new StatusError(STATUS_CODE.EID_UNKNOWN, eid)`. {@link toExecutionStatus} reports it as is.
 */
export class StatusError extends RspError {
  static override readonly code = 'ERR_CONTRACT_STATUS';
  readonly statusCodeData: StatusCodeData;
  readonly status: Extract<ExecutionStatusValue, 'Failed' | 'Expired'>;

  constructor(
    code: StatusCodeData,
    subjectIdentifier?: string,
    options: { status?: 'Failed' | 'Expired'; cause?: unknown } = {},
  ) {
    super(code.message ?? `${code.subjectCode} / ${code.reasonCode}`, options.cause === undefined ? undefined : { cause: options.cause });
    const statusCodeData: StatusCodeData = { subjectCode: code.subjectCode, reasonCode: code.reasonCode };
    const identifier = subjectIdentifier ?? code.subjectIdentifier;
    if (identifier !== undefined) statusCodeData.subjectIdentifier = identifier;
    if (code.message !== undefined) statusCodeData.message = code.message;
    this.statusCodeData = statusCodeData;
    this.status = options.status ?? 'Failed';
  }
}
