import { RspError } from '@rsp/errors';

/**
 * Errors raised by @rsp/identity while checking who is asking, each with a stable code. The
 * verifier throws exactly one of these per refused token, so a caller (and a negative test) can tell
 * which check failed. Messages never echo the token. The edge maps them: HTTP 401 for the owner
 * registry, SGP.02 1.1 (function requester) / 1.1 unknown or 6.1 verification failed elsewhere.
 */
export namespace IdentityError {
  /** No bearer token was presented. */
  export class MissingToken extends RspError {
    static override readonly code = 'ERR_IDENTITY_MISSING_TOKEN';
  }
  /** Not a compact JWS JWT, a required claim (`iss`, `sub`, `exp`, `iat`) is missing, or not yet valid. */
  export class MalformedToken extends RspError {
    static override readonly code = 'ERR_IDENTITY_MALFORMED_TOKEN';
  }
  /** The `iss` claim names no configured trusted issuer. */
  export class UntrustedIssuer extends RspError {
    static override readonly code = 'ERR_IDENTITY_UNTRUSTED_ISSUER';
  }
  /** No published key of the issuer verifies the signature (unknown `kid`, wrong key, refused `alg`). */
  export class SignatureInvalid extends RspError {
    static override readonly code = 'ERR_IDENTITY_SIGNATURE_INVALID';
  }
  /** `aud` does not contain the audience configured for the issuer. */
  export class AudienceMismatch extends RspError {
    static override readonly code = 'ERR_IDENTITY_AUDIENCE_MISMATCH';
  }
  /** `exp` is past (beyond the clock tolerance). */
  export class TokenExpired extends RspError {
    static override readonly code = 'ERR_IDENTITY_TOKEN_EXPIRED';
  }
  /** The caller expected a `nonce` (OIDC Core §3.1.3.7 step 11) and the token carries another one or none. */
  export class NonceMismatch extends RspError {
    static override readonly code = 'ERR_IDENTITY_NONCE_MISMATCH';
  }
  /** The issuer's discovery document or JWKS could not be fetched or is not acceptable. */
  export class DiscoveryFailed extends RspError {
    static override readonly code = 'ERR_IDENTITY_DISCOVERY_FAILED';
  }
  /** The operation needs a fresh login (RFC 9470): `auth_time` too old and no step-up `acr`. */
  export class StepUpRequired extends RspError {
    static override readonly code = 'ERR_IDENTITY_STEP_UP_REQUIRED';
    /** The `max_age` (seconds) the client should request at the new login. */
    readonly maxAgeSeconds: number;

    constructor(message: string, options?: { cause?: unknown; maxAgeSeconds?: number }) {
      super(message, options);
      this.maxAgeSeconds = options?.maxAgeSeconds ?? 300;
    }
  }
}
