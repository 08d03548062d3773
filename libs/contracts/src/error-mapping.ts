/**
 * From a thrown error to the FunctionExecutionStatus a caller receives (SGP.02 §5.1). Table-driven: every
 * `ERR_*` code defined in libs/ has one row (a test greps the sources to keep it so). The message sent is
 * the row's fixed text, never the error's own message or stack: internal details stay in the logs.
 *
 * - {@link StatusError}: reported with its explicit codes.
 * - {@link ContractFailure}: 1.6 / 2.x with the parameter path as subjectIdentifier.
 * - any other RspError: its row; an unknown code or a non-RspError: 1.2 / 4.2 "Execution error".
 */
import { isRspError } from '@rsp/errors';
import { ContractFailure, StatusError } from './errors';
import { REASON, STATUS_CODE, SUBJECT, failed, type FunctionExecutionStatus, type StatusCodeData } from './status';

type Row = Required<Omit<StatusCodeData, 'subjectIdentifier'>>;

const row = (subjectCode: string, reasonCode: string, message: string): Row => ({ subjectCode, reasonCode, message });

const EXECUTION_ERROR = STATUS_CODE.EXECUTION_ERROR;
const ECASD_CERT = STATUS_CODE.ECASD_CERTIFICATE_INVALID;
const CARD_ERROR = row(SUBJECT.EUICC, REASON.EXECUTION_ERROR, 'eUICC execution error');
const CARD_SECURITY = row(SUBJECT.EUICC, REASON.VERIFICATION_FAILED, 'eUICC security verification failed');
const PROFILE_PACKAGE = row(SUBJECT.ISD_P, REASON.EXECUTION_ERROR, 'Profile package refused');
const IDENTITY_UNVERIFIED = row(SUBJECT.FUNCTION_REQUESTER, REASON.VERIFICATION_FAILED, 'Function requester identity verification failed');

/**
 * Error code → SGP.02 codes. Choices (see also STATUS_CODE_SOURCES):
 * - card status words: 6982 → 8.1 / 6.1, 6985 → 8.2.1 / 1.2 (wrong state), 69E1 (POL1) → 8.2.1 / 3.8 [U],
 *   6A84 → 8.1 / 4.8, 6A88 → 8.2.1 / 3.9 (ISD-P not found), others → 8.1 / 4.2;
 * - certificate chain (CERT.ECASD.ECKA → EUM → CI) failures → 8.5.2 / 6.3 invalid ECASD certificate;
 * - MAC / cryptogram / receipt failures → 6.1 verification failed;
 * - SAIP (profile package) failures → 8.4 / 4.2 (ISD-P execution error, as njiwa reports failed downloads);
 * - programming or environment faults (bad key object, broker port) → 1.2 / 4.2.
 */
export const ERROR_STATUS_MAP: Readonly<Record<string, Row>> = {
  // @rsp/errors
  ERR_RSP_GENERIC: EXECUTION_ERROR,
  // @rsp/contracts
  ERR_CONTRACT_MANDATORY_ELEMENT_MISSING: STATUS_CODE.MANDATORY_ELEMENT_MISSING,
  ERR_CONTRACT_CONDITIONAL_ELEMENT_MISSING: STATUS_CODE.CONDITIONAL_ELEMENT_MISSING,
  ERR_CONTRACT_INVALID_PARAMETER: STATUS_CODE.INVALID_PARAMETER,
  ERR_CONTRACT_STATUS: EXECUTION_ERROR, // only reached for a StatusError without usable statusCodeData
  // @rsp/tlv: malformed bytes from a peer; the request itself was valid
  ERR_TLV_TRUNCATED: EXECUTION_ERROR,
  ERR_TLV_BAD_TAG: EXECUTION_ERROR,
  ERR_TLV_BAD_LENGTH: EXECUTION_ERROR,
  ERR_TLV_TRAILING_DATA: EXECUTION_ERROR,
  ERR_TLV_MISSING: EXECUTION_ERROR,
  ERR_TLV_BAD_HEX: STATUS_CODE.INVALID_PARAMETER,
  ERR_TLV_BAD_APDU: EXECUTION_ERROR,
  // @rsp/crypto
  ERR_CRYPTO_INVALID_KEY: EXECUTION_ERROR,
  ERR_CRYPTO_UNSUPPORTED_CURVE: EXECUTION_ERROR,
  ERR_CRYPTO_INVALID_LENGTH: EXECUTION_ERROR,
  ERR_CRYPTO_MAC_MISMATCH: CARD_SECURITY,
  ERR_CRYPTO_RECEIPT_MISMATCH: row(SUBJECT.ISD_P, REASON.VERIFICATION_FAILED, 'Key establishment receipt verification failed'),
  ERR_CRYPTO_COUNTER_REPLAY: CARD_SECURITY,
  ERR_CRYPTO_PADDING: CARD_SECURITY,
  ERR_CRYPTO_CRYPTOGRAM_MISMATCH: CARD_SECURITY,
  ERR_CRYPTO_SCP03_COUNTER_MISMATCH: CARD_SECURITY, // never reaches a caller: the SM-SR predicts again (scripting mode)
  ERR_CRYPTO_INVALID_PARAMETER: EXECUTION_ERROR,
  ERR_CRYPTO_SECURE_CHANNEL_STATE: EXECUTION_ERROR,
  // @rsp/pki
  ERR_PKI_MALFORMED: ECASD_CERT,
  ERR_PKI_SIGNATURE_INVALID: ECASD_CERT,
  ERR_PKI_EXPIRED: ECASD_CERT,
  ERR_PKI_NOT_YET_VALID: ECASD_CERT,
  ERR_PKI_BASIC_CONSTRAINTS: ECASD_CERT,
  ERR_PKI_PATH_LENGTH: ECASD_CERT,
  ERR_PKI_KEY_USAGE: ECASD_CERT,
  ERR_PKI_ROLE_MISMATCH: ECASD_CERT,
  ERR_PKI_KEY_ID_MISMATCH: ECASD_CERT,
  ERR_PKI_UNTRUSTED_ROOT: ECASD_CERT,
  ERR_PKI_EID_NOT_PERMITTED: ECASD_CERT,
  ERR_PKI_REVOKED: ECASD_CERT,
  ERR_PKI_CRL_INVALID: ECASD_CERT,
  ERR_PKI_UNSUPPORTED: ECASD_CERT,
  ERR_PKI_INVALID_EID: row(SUBJECT.EID, REASON.INVALID, 'Invalid EID'),
  ERR_PKI_INVALID_ICCID: row(SUBJECT.PROFILE_ICCID, REASON.INVALID, 'Invalid ICCID'),
  // @rsp/saip
  ERR_SAIP_MALFORMED: PROFILE_PACKAGE,
  ERR_SAIP_BAD_VALUE: PROFILE_PACKAGE,
  ERR_SAIP_PE_ORDER: PROFILE_PACKAGE,
  ERR_SAIP_UNSUPPORTED_ALGORITHM: PROFILE_PACKAGE,
  ERR_SAIP_UNSUPPORTED_VERSION: PROFILE_PACKAGE,
  ERR_SAIP_TEMPLATE_MISMATCH: PROFILE_PACKAGE,
  // @rsp/card (status words answered by the virtual eUICC)
  ERR_ES5_SCRIPT_MALFORMED: CARD_ERROR, // a TS 102 226 script the card or the SM-SR could not parse
  ERR_CARD_FAILURE: CARD_ERROR,
  ERR_CARD_WRONG_LENGTH: CARD_ERROR,
  ERR_CARD_SECURITY_STATUS: CARD_SECURITY,
  ERR_CARD_CONDITIONS_NOT_SATISFIED: STATUS_CODE.ICCID_WRONG_STATE,
  ERR_CARD_POLICY_RULE: row(SUBJECT.PROFILE_ICCID, REASON.REFUSED, 'Refused by a POL1 rule of the profile'),
  ERR_CARD_INCORRECT_DATA: CARD_ERROR,
  ERR_CARD_NOT_ENOUGH_MEMORY: row(SUBJECT.EUICC, REASON.INSUFFICIENT_MEMORY, 'Insufficient memory on the eUICC'),
  ERR_CARD_REFERENCED_DATA_NOT_FOUND: STATUS_CODE.ICCID_UNKNOWN,
  ERR_CARD_INCORRECT_P1P2: CARD_ERROR,
  ERR_CARD_INS_NOT_SUPPORTED: CARD_ERROR,
  ERR_CARD_CLA_NOT_SUPPORTED: CARD_ERROR,
  ERR_CARD_FILE_NOT_FOUND: CARD_ERROR,
  ERR_CARD_FUNCTION_NOT_SUPPORTED: CARD_ERROR,
  ERR_CARD_POWER_LOSS: row(SUBJECT.EUICC, REASON.INACCESSIBLE, 'eUICC unreachable'),
  ERR_CARD_MANUFACTURE: EXECUTION_ERROR,
  // A card's non-volatile memory (the simulator's store) unreadable: the card is out of order
  ERR_CARD_STORE_INVALID_EID: EXECUTION_ERROR,
  ERR_CARD_STORE_CORRUPT: row(SUBJECT.EUICC, REASON.INACCESSIBLE, 'eUICC unreachable'),
  // @rsp/scenario: a scenario file names a value it never defined (a test author's mistake, never a service's)
  ERR_SCENARIO_VALUE: EXECUTION_ERROR,
  // @rsp/mqtt-transport (service requests; a Remote error carries the remote code, mapped by its own row)
  ERR_MQTT_BROKER_PORT_IN_USE: EXECUTION_ERROR,
  // Broker identities (docs/security.md): a deployment fault, never the requester's
  ERR_MQTT_BROKER_REFUSED: EXECUTION_ERROR,
  ERR_MQTT_CREDENTIALS_MISSING: EXECUTION_ERROR,
  ERR_MQTT_CREDENTIAL_INVALID: EXECUTION_ERROR,
  ERR_TRANSPORT_INVALID_ENVELOPE: row(SUBJECT.FUNCTION, REASON.INVALID, 'Invalid message envelope'),
  ERR_TRANSPORT_UNSUPPORTED_VERSION: row(SUBJECT.FUNCTION, REASON.UNSUPPORTED, 'Unsupported message version'),
  ERR_TRANSPORT_INVALID_PATTERN: EXECUTION_ERROR,
  ERR_TRANSPORT_INVALID_OPTIONS: EXECUTION_ERROR,
  ERR_TRANSPORT_TIMEOUT: row(SUBJECT.FUNCTION_PROVIDER, REASON.INACCESSIBLE, 'Function provider did not answer in time'),
  ERR_TRANSPORT_EXPIRED: STATUS_CODE.TTL_EXPIRED,
  ERR_TRANSPORT_NO_HANDLER: row(SUBJECT.FUNCTION, REASON.UNSUPPORTED, 'Function not supported'),
  ERR_TRANSPORT_HANDLER_FAILED: EXECUTION_ERROR,
  ERR_TRANSPORT_BROKER: row(SUBJECT.FUNCTION_PROVIDER, REASON.INACCESSIBLE, 'Function provider unreachable'),
  ERR_TRANSPORT_CLOSED: EXECUTION_ERROR,
  ERR_TRANSPORT_REMOTE: EXECUTION_ERROR,
  // @rsp/config: a start-up refusal, never a function's outcome
  ERR_CONFIG_INVALID_SETTING: EXECUTION_ERROR,
  ERR_CONFIG_MISSING_SETTING: EXECUTION_ERROR,
  ERR_CONFIG_KEY_FILE: EXECUTION_ERROR,
  // @rsp/persistence: storage faults are the provider's, never the requester's
  ERR_PERSISTENCE_INVALID_URL: EXECUTION_ERROR,
  ERR_PERSISTENCE_UNREACHABLE: EXECUTION_ERROR,
  ERR_PERSISTENCE_INVALID_OPTIONS: EXECUTION_ERROR,
  ERR_PERSISTENCE_NOT_FOUND: EXECUTION_ERROR,
  ERR_PERSISTENCE_UNKNOWN_FLOW: EXECUTION_ERROR,
  ERR_PERSISTENCE_SECRET_KEY: EXECUTION_ERROR,
  ERR_PERSISTENCE_SECRET_OPEN: EXECUTION_ERROR,
  ERR_PERSISTENCE_STEP_FAILED: EXECUTION_ERROR,
  // @rsp/identity: the owner / caller identity token was refused (docs/owner-registry.md)
  ERR_IDENTITY_MISSING_TOKEN: STATUS_CODE.REQUESTER_UNKNOWN,
  ERR_IDENTITY_MALFORMED_TOKEN: IDENTITY_UNVERIFIED,
  ERR_IDENTITY_UNTRUSTED_ISSUER: STATUS_CODE.REQUESTER_UNKNOWN,
  ERR_IDENTITY_SIGNATURE_INVALID: IDENTITY_UNVERIFIED,
  ERR_IDENTITY_AUDIENCE_MISMATCH: IDENTITY_UNVERIFIED,
  ERR_IDENTITY_TOKEN_EXPIRED: IDENTITY_UNVERIFIED,
  ERR_IDENTITY_NONCE_MISMATCH: IDENTITY_UNVERIFIED,
  ERR_IDENTITY_DISCOVERY_FAILED: IDENTITY_UNVERIFIED,
  ERR_IDENTITY_STEP_UP_REQUIRED: STATUS_CODE.REQUESTER_NOT_ALLOWED,
  // @rsp/identity: owner consent and device status (docs/owner-registry.md "SGP.02 outcomes") [U]
  ERR_CONSENT_MISSING: row(SUBJECT.EID, REASON.NOT_ALLOWED, 'Owner consent required'),
  ERR_CONSENT_INVALID: row(SUBJECT.EID, REASON.VERIFICATION_FAILED, 'Owner consent verification failed'),
  ERR_CONSENT_EXPIRED: row(SUBJECT.EID, REASON.VERIFICATION_FAILED, 'Owner consent expired'),
  ERR_CONSENT_SCOPE: row(SUBJECT.EID, REASON.VERIFICATION_FAILED, 'Owner consent does not cover this function'),
  ERR_CONSENT_REVOKED: row(SUBJECT.EID, REASON.VERIFICATION_FAILED, 'Owner consent revoked'),
  ERR_CONSENT_KEYS_UNAVAILABLE: EXECUTION_ERROR,
  ERR_DEVICE_SUSPENDED: row(SUBJECT.EUICC, REASON.REFUSED, 'Device suspended by its owner'),
  ERR_DEVICE_STATUS_INVALID: EXECUTION_ERROR, // never reaches a caller: a malformed status message is dropped
  // Fail closed: no verified owner status of the EID could be had (registry unreachable) [U]
  ERR_DEVICE_STATUS_UNAVAILABLE: row(SUBJECT.EID, REASON.UNAVAILABLE, 'Owner status of the EID unavailable'),
  // Never reach a caller: a refused status document is ignored (logged by code), or becomes ERR_DEVICE_STATUS_UNAVAILABLE
  ERR_DEVICE_STATUS_EMPTY: EXECUTION_ERROR,
  ERR_DEVICE_STATUS_UNSIGNED: EXECUTION_ERROR,
  ERR_DEVICE_STATUS_SIGNATURE_INVALID: EXECUTION_ERROR,
  ERR_DEVICE_STATUS_KEYS_UNAVAILABLE: EXECUTION_ERROR,
  ERR_DEVICE_STATUS_EID_MISMATCH: EXECUTION_ERROR,
  ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE: EXECUTION_ERROR,
};

/** Codes reported with status `Expired` rather than `Failed` (SGP.02 §5.1: the validity period elapsed). */
export const EXPIRED_ERROR_CODES: ReadonlySet<string> = new Set(['ERR_TRANSPORT_EXPIRED']);

/** The row for a code, or undefined when the code has none. */
export function statusCodeFor(code: string): StatusCodeData | undefined {
  return ERROR_STATUS_MAP[code];
}

/**
 * Maps any thrown value to a Failed (or Expired) FunctionExecutionStatus. `subjectIdentifier` names the
 * subject instance (e.g. the EID or ICCID the function was about); a ContractFailure uses its parameter path.
 */
export function toExecutionStatus(error: unknown, subjectIdentifier?: string): FunctionExecutionStatus {
  // instanceof first; the code checks also catch copies of these classes from a duplicated module instance
  if (error instanceof StatusError || isRspError(error, StatusError.code)) {
    const { status, statusCodeData } = error as StatusError;
    if (typeof statusCodeData?.subjectCode === 'string' && typeof statusCodeData.reasonCode === 'string') {
      return { status: status === 'Expired' ? 'Expired' : 'Failed', statusCodeData: { ...statusCodeData } };
    }
  }
  if (error instanceof ContractFailure) {
    const rowForCode = ERROR_STATUS_MAP[error.code] ?? STATUS_CODE.INVALID_PARAMETER;
    return failed({ ...rowForCode, subjectCode: error.subjectCode, reasonCode: error.reasonCode }, error.parameter);
  }
  if (isRspError(error)) {
    const rowForCode = Object.prototype.hasOwnProperty.call(ERROR_STATUS_MAP, error.code) ? ERROR_STATUS_MAP[error.code] : undefined;
    if (rowForCode !== undefined) {
      const status = failed(rowForCode, subjectIdentifier);
      return EXPIRED_ERROR_CODES.has(error.code) ? { ...status, status: 'Expired' } : status;
    }
  }
  return failed(EXECUTION_ERROR, subjectIdentifier);
}
