/**
 * The logger port every domain writes to (issue 10 item 6). A line is a short message plus the
 * correlation ids that let an operator follow one call across the SM-DP, the SM-SR and the card:
 * the SGP.02 functionCallIdentifier (§5.1 header), the SM-DP's download transaction and the EID.
 * The services bind it to pino (@rsp/service-kit `serviceLogging`); tests may pass any console-like
 * object. Never put a secret (Ki, OPc, keys, codes, tokens) in a message: secret-named fields are also
 * redacted by the pino configuration, but a message string is not inspected.
 */
export interface LogFields {
  readonly functionCallIdentifier?: string;
  readonly transactionId?: string;
  readonly eid?: string;
  readonly iccid?: string;
  /** The authenticated requester (MNO, SM-DP or EUM id). */
  readonly requester?: string;
  /** The stable error code (ERR_* or subject/reason) of a refusal or failure. */
  readonly code?: string;
  readonly [field: string]: unknown;
}

export interface RspLogger {
  log(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const SILENT_LOGGER: RspLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };
