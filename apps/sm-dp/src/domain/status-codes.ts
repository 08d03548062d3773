/**
 * SM-DP specific subject/reason pairs (SGP.02 §5.1 code tables as libs/contracts/src/status.ts holds
 * them; pairs not in its STATUS_CODE table are chosen here, `[U]` where SGP.02 text was not checked).
 */
import { REASON, STATUS_CODE, SUBJECT, type StatusCodeData } from '@rsp/contracts';

type Row = Required<Omit<StatusCodeData, 'subjectIdentifier'>>;

export const SMDP_STATUS = {
  /** No / unknown X-API-Key (SGP.02 §5.1: function requester unknown, 1.1 / 1.1). */
  REQUESTER_UNKNOWN: STATUS_CODE.REQUESTER_UNKNOWN,
  /** functionRequesterIdentifier differs from the authenticated MNO (docs/services.md: 1.1 / 1.2). */
  REQUESTER_NOT_ALLOWED: STATUS_CODE.REQUESTER_NOT_ALLOWED,
  /**
   * The same functionCallIdentifier reused with another request body. Chosen: subject 1.6 (function),
   * reason 3.3 "Already in use (uniqueness)" — the identifier must be unique per call [U: SGP.02 has no
   * dedicated pair].
   */
  CALL_ID_REUSED: { subjectCode: SUBJECT.FUNCTION, reasonCode: REASON.ALREADY_IN_USE, message: 'functionCallIdentifier already used for another request' },
  /** An ICCID of another MNO: 8.2.1 / 1.2 not allowed (as the brief and SGP.02 §5.1 "not allowed"). */
  ICCID_NOT_OWNED: { subjectCode: SUBJECT.PROFILE_ICCID, reasonCode: REASON.NOT_ALLOWED, message: 'Profile ICCID not allowed for this function requester' },
  ICCID_UNKNOWN: STATUS_CODE.ICCID_UNKNOWN,
  ICCID_IN_USE: STATUS_CODE.ICCID_IN_USE,
  ICCID_WRONG_STATE: STATUS_CODE.ICCID_WRONG_STATE,
  /** Unknown profile type of this MNO [U: 1.6 / 3.9 with subjectIdentifier profileType]. */
  PROFILE_TYPE_UNKNOWN: { subjectCode: SUBJECT.FUNCTION, reasonCode: REASON.UNKNOWN, message: 'Unknown profile type' },
  /** No free subscription of the profile type left [U: 8.2.1 / 3.7 unavailable]. */
  NO_PROFILE_AVAILABLE: { subjectCode: SUBJECT.PROFILE_ICCID, reasonCode: REASON.UNAVAILABLE, message: 'No profile of this type available' },
  /** The SM-SR id cannot name an MQTT route (SGP.02 njiwa: 8.7 / 3.9 unknown SM-SR). */
  SMSR_UNKNOWN: STATUS_CODE.SMSR_UNKNOWN,
  /** The EIS returned by the SM-SR is about another eUICC, or carries no ECASD certificate. */
  EIS_INVALID: { subjectCode: SUBJECT.EUICC, reasonCode: REASON.INVALID, message: 'Invalid eUICC information set' },
  ECASD_CERTIFICATE_INVALID: STATUS_CODE.ECASD_CERTIFICATE_INVALID,
  /** The eUICC's EUICCResponse reports a failed profile installation (SGP.02 §3.1.3; njiwa 8.4 / 4.2). */
  PROFILE_INSTALLATION_FAILED: STATUS_CODE.ISDP_EXECUTION_ERROR,
  /** The SM-SR's reply to SendData lacks or truncates the response script. */
  EUICC_RESPONSE_MISSING: { subjectCode: SUBJECT.EUICC, reasonCode: REASON.EXECUTION_ERROR, message: 'No usable eUICC response data' },
  FUNCTION_NOT_SUPPORTED: { subjectCode: SUBJECT.FUNCTION, reasonCode: REASON.UNSUPPORTED, message: 'Function not supported' },
  PROVIDER_BUSY: STATUS_CODE.PROVIDER_BUSY,
  EXECUTION_ERROR: STATUS_CODE.EXECUTION_ERROR,
} as const satisfies Record<string, Row>;
