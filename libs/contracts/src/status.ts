/**
 * FunctionExecutionStatus, the outcome every SGP.02 off-card function returns (SGP.02 §5.1 "Function
 * execution status"; the same structure as SGP.22 §5.1.6 / §6.5.1.4 of the JSON binding).
 *
 * WSDL/XSD shape (as njiwa's JAX-WS types carry it, namespace `http://namespaces.gsma.org/esim-messaging/1`):
 * ```
 * FunctionExecutionStatus ::= { Status: Executed-Success | Executed-WithWarning | Failed | Expired,
 *                               StatusCodeData?: { Subject, Reason, SubjectIdentifier?, Message? } }
 * ```
 * Code values: see {@link SUBJECT} / {@link REASON}. Each entry names its source in {@link STATUS_CODE_SOURCES};
 * no full SGP.02 text was available, so entries marked `[U]` are inferred and should be checked against it.
 */

/** SGP.02 §5.1: the four execution outcomes. */
export const EXECUTION_STATUS = ['Executed-Success', 'Executed-WithWarning', 'Expired', 'Failed'] as const;
export type ExecutionStatusValue = (typeof EXECUTION_STATUS)[number];

/** The statusCodeData of a Failed / Expired / WithWarning outcome. */
export interface StatusCodeData {
  /** Dotted subject code, e.g. `8.1.1` (EID). */
  subjectCode: string;
  /** Dotted reason code, e.g. `3.9` (unknown). */
  reasonCode: string;
  /** Which instance of the subject, e.g. the EID value or the name of the faulty parameter. */
  subjectIdentifier?: string;
  /** Human-readable text; never an internal error message or stack trace. */
  message?: string;
}

export interface FunctionExecutionStatus {
  status: ExecutionStatusValue;
  statusCodeData?: StatusCodeData;
}

/**
 * Subject codes: WHAT failed. Sources per code in {@link STATUS_CODE_SOURCES}.
 * SGP.02 numbers them hierarchically: 1.x the function call itself, 8.x the M2M objects.
 */
export const SUBJECT = {
  GENERIC: '1',
  FUNCTION_REQUESTER: '1.1',
  FUNCTION_PROVIDER: '1.2',
  VALIDITY_PERIOD: '1.2.1',
  FUNCTION: '1.6',
  EUICC: '8.1',
  EID: '8.1.1',
  PROFILE_ICCID: '8.2.1',
  POL2: '8.2.3',
  ISD_P: '8.4',
  ECASD_CERTIFICATE: '8.5.2',
  ECASD_CERTIFICATE_ALT: '8.5.3',
  SM_SR: '8.7',
} as const;
export type SubjectCode = (typeof SUBJECT)[keyof typeof SUBJECT];

/** Reason codes: WHY it failed. Sources per code in {@link STATUS_CODE_SOURCES}. */
export const REASON = {
  UNKNOWN_IDENTIFICATION: '1.1',
  NOT_ALLOWED: '1.2',
  INVALID: '2.1',
  MANDATORY_ELEMENT_MISSING: '2.2',
  CONDITIONAL_ELEMENT_MISSING: '2.3',
  UNSUPPORTED: '3.1',
  ALREADY_IN_USE: '3.3',
  UNAVAILABLE: '3.7',
  REFUSED: '3.8',
  UNKNOWN: '3.9',
  EXECUTION_ERROR: '4.2',
  BUSY: '4.4',
  INSUFFICIENT_MEMORY: '4.8',
  INACCESSIBLE: '5.1',
  TTL_EXPIRED: '5.3',
  VERIFICATION_FAILED: '6.1',
  INVALID_CERTIFICATE: '6.3',
  MAX_ATTEMPTS_EXCEEDED: '6.4',
} as const;
export type ReasonCode = (typeof REASON)[keyof typeof REASON];

/** Where each code value comes from (kept next to the values so a reviewer can check them one by one). */
export const STATUS_CODE_SOURCES: Readonly<Record<string, string>> = {
  'subject 1': 'SGP.22 §5.1.6.3 "Generic", via GSMA LAA spec table (gaelrgerard/laa) [SGP.02 same numbering: U]',
  'subject 1.1': 'SPEC-NOTES SGP.02 table excerpt "requester"; SGP.22 "Function Requester"',
  'subject 1.2': 'SPEC-NOTES SGP.02 table excerpt "provider"; SGP.22 "Function Provider"',
  'subject 1.2.1': 'SPEC-NOTES SGP.02 table excerpt "validity period"',
  'subject 1.6': 'SPEC-NOTES SGP.02 table excerpt "function"; njiwa ("1.6", 5.3 Expired)',
  'subject 8.1': 'SPEC-NOTES SGP.02 table excerpt "eUICC"',
  'subject 8.1.1': 'SPEC-NOTES "EID"; njiwa ES2 DownloadProfile ("8.1.1", "3.9", "EID", "Unknown EID")',
  'subject 8.2.1': 'SPEC-NOTES "ICCID"; njiwa ES2 DownloadProfile ("8.2.1", "3.9", "Profile ICCID")',
  'subject 8.2.3': 'SPEC-NOTES "POL2"',
  'subject 8.4': 'SPEC-NOTES "ISD-P"; njiwa (8.4 / 4.2 on failed ISD-P operations)',
  'subject 8.5.2': 'SPEC-NOTES "8.5.2 / 8.5.3 — invalid ECASD certificate" (which of the two is which: U)',
  'subject 8.5.3': 'SPEC-NOTES "8.5.2 / 8.5.3 — invalid ECASD certificate" (which of the two is which: U)',
  'subject 8.7': 'SPEC-NOTES "SM-SR"; njiwa ES2 ("8.7", "3.9", "SM-SR", "Unknown SM-SR")',
  'reason 1.1': 'SGP.22 §5.1.6.4 "Unknown (Identification or Authentication)"; SPEC-NOTES 1.1 "unknown"',
  'reason 1.2': 'SGP.22 §5.1.6.4 "Not Allowed (Authorisation)"; SPEC-NOTES 1.2 "not allowed" / "wrong state"',
  'reason 2.1': 'SGP.22 §5.1.6.4 "Invalid"; SPEC-NOTES 2.1 "invalid parameter"',
  'reason 2.2': 'SGP.22 §5.1.6.4 "Mandatory Element Missing"; SPEC-NOTES 2.2',
  'reason 2.3': 'SGP.22 §5.1.6.4 "Conditional Element Missing" [SGP.02: U]',
  'reason 3.1': 'SGP.22 §5.1.6.4 "Unsupported" [SGP.02: U]',
  'reason 3.3': 'SGP.22 §5.1.6.4 "Already in Use (Uniqueness)"; SPEC-NOTES 8.2.1 / 3.3 "in use"',
  'reason 3.7': 'SGP.22 §5.1.6.4 "Unavailable" [SGP.02: U]',
  'reason 3.8': 'SGP.22 §5.1.6.4 "Refused"; SPEC-NOTES 3.8 "refused"',
  'reason 3.9': 'SGP.22 §5.1.6.4 "Unknown"; SPEC-NOTES 3.9; njiwa',
  'reason 4.2': 'SGP.22 §5.1.6.4 "Execution Error"; SPEC-NOTES 4.2; njiwa',
  'reason 4.4': 'SPEC-NOTES SGP.02 table excerpt "busy" [not in SGP.22]',
  'reason 4.8': 'SGP.22 §5.1.6.4 "Insufficient Memory" [SGP.02: U]',
  'reason 5.1': 'SGP.22 §5.1.6.4 "Inaccessible" (transport error) [SGP.02: U]',
  'reason 5.3': 'SPEC-NOTES 1.6 / 5.3 "TTL expired"; njiwa ("1.6", 5.3, "Expired"). SGP.22 uses 4.10 instead',
  'reason 6.1': 'SGP.22 §5.1.6.4 "Verification Failed" [SGP.02: U]',
  'reason 6.3': 'SPEC-NOTES SGP.02 excerpt "invalid ECASD certificate". NB SGP.22 names 6.3 "Expired"',
  'reason 6.4': 'SGP.22 §5.1.6.4 "Maximum number of attempts exceeded" [SGP.02: U]',
};

/** Frequent subject/reason pairs with their fixed, safe message (SPEC-NOTES "Function execution status" table). */
export const STATUS_CODE = {
  REQUESTER_UNKNOWN: { subjectCode: SUBJECT.FUNCTION_REQUESTER, reasonCode: REASON.UNKNOWN_IDENTIFICATION, message: 'Unknown function requester' },
  REQUESTER_NOT_ALLOWED: { subjectCode: SUBJECT.FUNCTION_REQUESTER, reasonCode: REASON.NOT_ALLOWED, message: 'Function requester not allowed' },
  EXECUTION_ERROR: { subjectCode: SUBJECT.FUNCTION_PROVIDER, reasonCode: REASON.EXECUTION_ERROR, message: 'Execution error' },
  PROVIDER_BUSY: { subjectCode: SUBJECT.FUNCTION_PROVIDER, reasonCode: REASON.BUSY, message: 'Function provider busy' },
  VALIDITY_PERIOD_REFUSED: { subjectCode: SUBJECT.VALIDITY_PERIOD, reasonCode: REASON.REFUSED, message: 'Validity period refused' },
  INVALID_PARAMETER: { subjectCode: SUBJECT.FUNCTION, reasonCode: REASON.INVALID, message: 'Invalid parameter' },
  MANDATORY_ELEMENT_MISSING: { subjectCode: SUBJECT.FUNCTION, reasonCode: REASON.MANDATORY_ELEMENT_MISSING, message: 'Mandatory element missing' },
  CONDITIONAL_ELEMENT_MISSING: { subjectCode: SUBJECT.FUNCTION, reasonCode: REASON.CONDITIONAL_ELEMENT_MISSING, message: 'Conditional element missing' },
  TTL_EXPIRED: { subjectCode: SUBJECT.FUNCTION, reasonCode: REASON.TTL_EXPIRED, message: 'Time to live expired' },
  EUICC_REFUSED: { subjectCode: SUBJECT.EUICC, reasonCode: REASON.REFUSED, message: 'Refused by the eUICC' },
  EID_UNKNOWN: { subjectCode: SUBJECT.EID, reasonCode: REASON.UNKNOWN, message: 'Unknown EID' },
  ICCID_UNKNOWN: { subjectCode: SUBJECT.PROFILE_ICCID, reasonCode: REASON.UNKNOWN, message: 'Unknown profile ICCID' },
  ICCID_WRONG_STATE: { subjectCode: SUBJECT.PROFILE_ICCID, reasonCode: REASON.NOT_ALLOWED, message: 'Profile not in a state allowing this function' },
  ICCID_IN_USE: { subjectCode: SUBJECT.PROFILE_ICCID, reasonCode: REASON.ALREADY_IN_USE, message: 'Profile ICCID already in use' },
  POL2_NOT_OWNER: { subjectCode: SUBJECT.POL2, reasonCode: REASON.INVALID, message: 'POL2 update not allowed' },
  ISDP_EXECUTION_ERROR: { subjectCode: SUBJECT.ISD_P, reasonCode: REASON.EXECUTION_ERROR, message: 'ISD-P execution error' },
  ECASD_CERTIFICATE_INVALID: { subjectCode: SUBJECT.ECASD_CERTIFICATE, reasonCode: REASON.INVALID_CERTIFICATE, message: 'Invalid ECASD certificate' },
  SMSR_UNKNOWN: { subjectCode: SUBJECT.SM_SR, reasonCode: REASON.UNKNOWN, message: 'Unknown SM-SR' },
} as const satisfies Record<string, Required<Omit<StatusCodeData, 'subjectIdentifier'>>>;

/** `Executed-Success` with no statusCodeData. */
export function executedSuccess(): FunctionExecutionStatus {
  return { status: 'Executed-Success' };
}

/** A `Failed` status from a code pair, optionally naming the subject instance. */
export function failed(code: StatusCodeData, subjectIdentifier?: string): FunctionExecutionStatus {
  const statusCodeData: StatusCodeData = { subjectCode: code.subjectCode, reasonCode: code.reasonCode };
  const identifier = subjectIdentifier ?? code.subjectIdentifier;
  if (identifier !== undefined) statusCodeData.subjectIdentifier = identifier;
  if (code.message !== undefined) statusCodeData.message = code.message;
  return { status: 'Failed', statusCodeData };
}

/** SGP.02 §5.1: the validity period elapsed before the function completed (`Expired`, 1.6 / 5.3). */
export function expired(subjectIdentifier?: string): FunctionExecutionStatus {
  return { ...failed(STATUS_CODE.TTL_EXPIRED, subjectIdentifier), status: 'Expired' };
}

/** True for the two `Executed-*` outcomes. */
export function isExecuted(status: FunctionExecutionStatus): boolean {
  return status.status === 'Executed-Success' || status.status === 'Executed-WithWarning';
}
