/**
 * The owner registry's refusals, each with a stable `ERR_OWNER_*` code and the HTTP status it is
 * answered with (docs/owner-registry.md: "Every refusal has a stable code and is audited").
 * Messages name the problem, never a code, token or key the caller sent.
 */
import { RspError } from '@rsp/errors';

/** Base of the registry's errors: `httpStatus` is what the edge answers. */
export abstract class OwnerRegistryError extends RspError {
  static readonly httpStatus: number = 400;
  readonly httpStatus: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.httpStatus = (new.target as unknown as typeof OwnerRegistryError).httpStatus;
  }
}

export namespace OwnerError {
  /** A body member is missing or malformed (the message names the member). */
  export class BadRequest extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_BAD_REQUEST';
    static override readonly httpStatus = 400;
  }
  /** No credential, or an X-API-Key that is not a known maker / MNO key. */
  export class Unauthenticated extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_UNAUTHENTICATED';
    static override readonly httpStatus = 401;
  }
  /** The caller's role does not allow the operation (or the device is not theirs). */
  export class Forbidden extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_FORBIDDEN';
    static override readonly httpStatus = 403;
  }
  /** Unknown device, grant, group, consent or snapshot, or one the caller may not see. */
  export class NotFound extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_NOT_FOUND';
    static override readonly httpStatus = 404;
  }
  /** The maker already registered this EID or device id. */
  export class DeviceExists extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_DEVICE_EXISTS';
    static override readonly httpStatus = 409;
  }
  /** Wrong claim code or unknown device URL (the two are not told apart). */
  export class ClaimCodeInvalid extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_CLAIM_CODE_INVALID';
    static override readonly httpStatus = 403;
  }
  /** The device already has an owner: only a transfer moves it. */
  export class AlreadyClaimed extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_DEVICE_ALREADY_CLAIMED';
    static override readonly httpStatus = 409;
  }
  /** Wrong, expired, used or burned transfer code (not told apart). */
  export class TransferCodeInvalid extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_TRANSFER_CODE_INVALID';
    static override readonly httpStatus = 403;
  }
  /** 'pass' to an MNO that does not accept transfers, or a transfer to oneself. */
  export class TransferNotAllowed extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_TRANSFER_NOT_ALLOWED';
    static override readonly httpStatus = 409;
  }
  /** Wrong, expired, used PAC, or a PAC of another device. */
  export class PacInvalid extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_PAC_INVALID';
    static override readonly httpStatus = 403;
  }
  /** Too many wrong codes by this caller recently (5 per 10 min). */
  export class RateLimited extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_RATE_LIMITED';
    static override readonly httpStatus = 429;
  }
  /** The owner grant cannot be removed or changed, except by a transfer. */
  export class OwnerGrantImmutable extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_GRANT_IMMUTABLE';
    static override readonly httpStatus = 409;
  }
  /** The device is Suspended / Revoked: the operation needs an Active device. */
  export class DeviceNotActive extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_DEVICE_NOT_ACTIVE';
    static override readonly httpStatus = 409;
  }
  /** The snapshot's model does not match the device's. */
  export class ModelMismatch extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_MODEL_MISMATCH';
    static override readonly httpStatus = 409;
  }
  /** The MNO is unknown, or has no ES2 connector configured for the call. */
  export class MnoUnavailable extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_MNO_UNAVAILABLE';
    static override readonly httpStatus = 409;
  }
  /** The MNO's SM-DP could not be reached or answered garbage. */
  export class Es2Unreachable extends OwnerRegistryError {
    static override readonly code = 'ERR_OWNER_ES2_UNREACHABLE';
    static override readonly httpStatus = 502;
  }
}
