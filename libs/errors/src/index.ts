/**
 * @packageDocumentation
 * The typed-error base shared by every lib (modelled on panva/jose `src/util/errors.ts`).
 *
 * Each failure is its own subclass with a stable string `code` (e.g. `ERR_PKI_SIGNATURE_INVALID`).
 * Callers branch on `code`, never on the message. The service edge (a later `libs/contracts`) maps
 * codes to SGP.02 functionExecutionStatus subject/reason codes, and card errors to status words.
 */

/** Base class of every error thrown on purpose by this project's libs. */
export class RspError extends Error {
  /** Stable machine-readable code of this error class. */
  static readonly code: string = 'ERR_RSP_GENERIC';
  /** Stable machine-readable code; equals the subclass's static `code`. */
  readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = (new.target as typeof RspError).code;
  }
}

/** True when `e` is an RspError carrying `code` (works across duplicated module instances). */
export function isRspError(e: unknown, code?: string): e is RspError {
  if (!(e instanceof Error) || typeof (e as { code?: unknown }).code !== 'string') return false;
  return code === undefined || (e as RspError).code === code;
}
