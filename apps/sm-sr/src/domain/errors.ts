/**
 * SM-SR failures and their SGP.02 §5.1 FunctionExecutionStatus. Use cases throw `StatusError` with the
 * codes of @rsp/contracts when they decide a refusal themselves; ES5 and card failures are mapped here.
 */
import { RspError } from '@rsp/errors';
import { REASON, STATUS_CODE, SUBJECT, expired, failed, statusCodeFor, toExecutionStatus, type FunctionExecutionStatus, type StatusCodeData } from '@rsp/contracts';
import { SW, formatSw } from '@rsp/tlv';

/** The registry already holds this EID (ES1 duplicate). */
export class DuplicateEidError extends RspError {
  static override readonly code = 'ERR_SMSR_DUPLICATE_EID';
}

/** The card answered a non-success status word to an ES5 command. */
export class CardStatusError extends RspError {
  static override readonly code = 'ERR_SMSR_CARD_STATUS';
  constructor(
    readonly sw: number,
    readonly command: string,
  ) {
    super(`card answered ${formatSw(sw)} to ${command}`);
  }
}

/** Another writer replaced a card's ISD-R key set during this SM-SR's handover (see isd-r-handover.ts). */
export class IsdRKeysChangedError extends RspError {
  static override readonly code = 'ERR_SMSR_ISD_R_KEYS_CHANGED';
}

/** SM-SR specific code pairs ([U]: chosen from the SGP.02 subject/reason tables in @rsp/contracts). */
export const SMSR_STATUS = {
  /** §3.3 / §5.5: the EID is already registered. */
  EID_ALREADY_REGISTERED: { subjectCode: SUBJECT.EID, reasonCode: REASON.ALREADY_IN_USE, message: 'EID already registered' },
  /** The EID is outside the permittedEins of the EUM certificate [U: 8.1.1 / 1.2]. */
  EID_NOT_PERMITTED: { subjectCode: SUBJECT.EID, reasonCode: REASON.NOT_ALLOWED, message: 'EID outside the EUM permitted range' },
  /** The EUM's signature over the EIS does not verify [U: 1.1 / 6.1]. */
  EIS_SIGNATURE_INVALID: { subjectCode: SUBJECT.FUNCTION_REQUESTER, reasonCode: REASON.VERIFICATION_FAILED, message: 'EIS signature verification failed' },
  /** The EUM certificate does not chain to the CI [U: 1.1 / 6.3]. */
  EUM_CERTIFICATE_INVALID: { subjectCode: SUBJECT.FUNCTION_REQUESTER, reasonCode: REASON.INVALID_CERTIFICATE, message: 'Invalid EUM certificate' },
  /** The profile belongs to another SM-DP / MNO (8.2.1 / 1.2). */
  PROFILE_NOT_OWNED: { subjectCode: SUBJECT.PROFILE_ICCID, reasonCode: REASON.NOT_ALLOWED, message: 'Profile not owned by the function requester' },
  /** DeleteProfile on the enabled profile (8.2.1 / 1.2, SGP.02 §5.5.4): the card keeps one profile enabled. */
  ENABLED_PROFILE_NOT_DELETABLE: {
    subjectCode: SUBJECT.PROFILE_ICCID,
    reasonCode: REASON.NOT_ALLOWED,
    message: 'The profile is enabled: enable another profile (or disable this one) first, then delete it',
  },
  /** POL2 forbids the operation [U: 8.2.3 / 3.8]. */
  POL2_REFUSED: { subjectCode: SUBJECT.POL2, reasonCode: REASON.REFUSED, message: 'Refused by a POL2 rule of the profile' },
  /** The fall-back profile cannot be deleted / is in the way (8.2.1 / 1.2). */
  FALLBACK_PROFILE: { subjectCode: SUBJECT.PROFILE_ICCID, reasonCode: REASON.NOT_ALLOWED, message: 'Operation not allowed on the fall-back profile' },
  /** ISD-P AID of SendData unknown or not the requester's (8.4 / 3.9). */
  ISDP_UNKNOWN: { subjectCode: SUBJECT.ISD_P, reasonCode: REASON.UNKNOWN, message: 'Unknown ISD-P' },
  /**
   * SendData carried a command other than the ES8 ones for its sdAid (8.4 / 1.2 "ISD-P / not allowed"
   * [U: SGP.02 names no code for a refused script; 1.2 is the authorisation reason of §5.1]).
   */
  SEND_DATA_COMMAND_REFUSED: { subjectCode: SUBJECT.ISD_P, reasonCode: REASON.NOT_ALLOWED, message: 'Command not allowed in SendData' },
  INSUFFICIENT_MEMORY: { subjectCode: SUBJECT.EUICC, reasonCode: REASON.INSUFFICIENT_MEMORY, message: 'Insufficient memory on the eUICC' },
  EUICC_UNREACHABLE: { subjectCode: SUBJECT.EUICC, reasonCode: REASON.INACCESSIBLE, message: 'eUICC unreachable' },
  EUICC_SECURITY: { subjectCode: SUBJECT.EUICC, reasonCode: REASON.VERIFICATION_FAILED, message: 'eUICC security verification failed' },
  EUICC_EXECUTION_ERROR: { subjectCode: SUBJECT.EUICC, reasonCode: REASON.EXECUTION_ERROR, message: 'eUICC execution error' },
  FUNCTION_UNSUPPORTED: { subjectCode: SUBJECT.FUNCTION, reasonCode: REASON.UNSUPPORTED, message: 'Function not supported' },
  REQUESTER_UNKNOWN: STATUS_CODE.REQUESTER_UNKNOWN,
  REQUESTER_NOT_ALLOWED: STATUS_CODE.REQUESTER_NOT_ALLOWED,
} as const satisfies Record<string, StatusCodeData>;

/** Card status words → the @rsp/offcard error code whose row in ERROR_STATUS_MAP reports them. */
const SW_CODES: Readonly<Record<number, string>> = {
  [SW.CONDITIONS_NOT_SATISFIED]: 'ERR_CARD_CONDITIONS_NOT_SATISFIED',
  [SW.POLICY_RULE_VIOLATION]: 'ERR_CARD_POLICY_RULE',
  [SW.NOT_ENOUGH_MEMORY]: 'ERR_CARD_NOT_ENOUGH_MEMORY',
  [SW.REFERENCED_DATA_NOT_FOUND]: 'ERR_CARD_REFERENCED_DATA_NOT_FOUND',
  [SW.SECURITY_STATUS_NOT_SATISFIED]: 'ERR_CARD_SECURITY_STATUS',
  [SW.INCORRECT_DATA]: 'ERR_CARD_INCORRECT_DATA',
};

/** ES5 channel failures (apps/sm-sr/src/es5/errors.ts) and the ISD-R handover's → codes. */
const ES5_CODES: Readonly<Record<string, StatusCodeData>> = {
  ERR_ES5_TIMEOUT: SMSR_STATUS.EUICC_UNREACHABLE,
  ERR_ES5_CARD_UNREACHABLE: SMSR_STATUS.EUICC_UNREACHABLE,
  ERR_ES5_SECURE_CHANNEL: SMSR_STATUS.EUICC_SECURITY,
  ERR_ES5_CARD_ERROR: SMSR_STATUS.EUICC_EXECUTION_ERROR,
  ERR_ES5_SCRIPT_MALFORMED: { ...STATUS_CODE.INVALID_PARAMETER, message: 'Malformed command script' },
  ERR_SMSR_ISD_R_KEYS_CHANGED: SMSR_STATUS.EUICC_EXECUTION_ERROR,
};

/**
 * Any failure of a function → its FunctionExecutionStatus. Past the validityPeriod (`deadline`) an ES5
 * timeout is `Expired` (SGP.02 §5.1, 1.6 / 5.3). Never carries internal messages.
 */
export function executionStatusOf(error: unknown, context: { deadline?: number; now: number; subjectIdentifier?: string }): FunctionExecutionStatus {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_ES5_') && context.deadline !== undefined && context.now >= context.deadline) {
    return expired(context.subjectIdentifier);
  }
  if (error instanceof CardStatusError) {
    const mapped = statusCodeFor(SW_CODES[error.sw] ?? 'ERR_CARD_FAILURE') ?? SMSR_STATUS.EUICC_EXECUTION_ERROR;
    return failed(mapped, context.subjectIdentifier);
  }
  if (typeof code === 'string' && ES5_CODES[code] !== undefined) {
    return failed(ES5_CODES[code], context.subjectIdentifier);
  }
  return toExecutionStatus(error, context.subjectIdentifier);
}
