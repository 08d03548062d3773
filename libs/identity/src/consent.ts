/**
 * Owner consent tokens (docs/owner-registry.md "Consent tokens"): the owner registry signs, the MNO
 * forwards them with ES2 / ES4 calls in the HTTP header `X-Owner-Consent`, and the SM-DP / SM-SR verify.
 *
 * JWS ES256 (RFC 7515 / RFC 7519), header `{ alg: 'ES256', kid, typ: 'rsp-consent+jwt' }` (explicit typing,
 * RFC 8725 §3.11), claims `{ iss, aud: 'urn:gsma:rsp:sm', sub: EID, mno, ops, epoch, jti, iat, exp }`.
 * SGP.02 has no owner consent: the outcomes are this project's choice [U] (see ERROR_STATUS_MAP rows).
 */
import { randomUUID, type KeyObject, type webcrypto } from 'node:crypto';
import { SignJWT, createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { ContractError } from '@rsp/contracts';
import { RspError } from '@rsp/errors';
import { isValidEid } from '@rsp/pki';
import type { DeviceStatus } from './device-status';

/** ES2 / ES4 functions an owner can consent to (ES2 names; SM-SR ES4 uses the same). */
export type ConsentOperation = 'DownloadProfile' | 'EnableProfile' | 'DisableProfile' | 'DeleteProfile';
export const CONSENT_OPERATIONS: readonly ConsentOperation[] = ['DownloadProfile', 'EnableProfile', 'DisableProfile', 'DeleteProfile'];
export const isConsentOperation = (value: unknown): value is ConsentOperation => CONSENT_OPERATIONS.includes(value as ConsentOperation);

/** `aud` of every consent: the subscription managers (SM-DP, SM-SR). */
export const CONSENT_AUDIENCE = 'urn:gsma:rsp:sm';
/** JOSE `typ` of a consent (explicit typing, so an ID token can never pass as a consent). */
export const CONSENT_TYPE = 'rsp-consent+jwt';
/** HTTP header carrying the consent on ES2 / ES4 calls. */
export const OWNER_CONSENT_HEADER = 'X-Owner-Consent';
const ALGORITHM = 'ES256';

export interface ConsentClaims {
  /** The owner registry URL. */
  iss: string;
  aud: typeof CONSENT_AUDIENCE;
  /** EID of the device. */
  sub: string;
  /** The MNO allowed to act. */
  mno: string;
  ops: ConsentOperation[];
  /** Device consent epoch at issue; a transfer bumps it and so revokes older consents. */
  epoch: number;
  jti: string;
  iat: number;
  exp: number;
}

/** No `X-Owner-Consent` on a call about an owned device (8.1.1 / 1.2). */
export class ConsentMissing extends RspError {
  static override readonly code = 'ERR_CONSENT_MISSING';
}
/** Bad signature, unknown key, malformed token, wrong `typ` / `iss` / `aud` (8.1.1 / 6.1). */
export class ConsentInvalid extends RspError {
  static override readonly code = 'ERR_CONSENT_INVALID';
}
/** `exp` passed (beyond the clock tolerance) (8.1.1 / 6.1). */
export class ConsentExpired extends RspError {
  static override readonly code = 'ERR_CONSENT_EXPIRED';
}
/** The consent is about another EID, another MNO, or does not list the operation (8.1.1 / 6.1). */
export class ConsentScope extends RspError {
  static override readonly code = 'ERR_CONSENT_SCOPE';
}
/** Issued in an older consent epoch, or its `jti` was revoked (8.1.1 / 6.1). */
export class ConsentRevoked extends RspError {
  static override readonly code = 'ERR_CONSENT_REVOKED';
}
/** The registry's signing keys (JWKS) could not be fetched: the provider's fault (1.2 / 4.2). */
export class ConsentKeysUnavailable extends RspError {
  static override readonly code = 'ERR_CONSENT_KEYS_UNAVAILABLE';
}
/** The device is Suspended / Revoked: every profile operation but delete is refused (8.1 / 3.8). */
export class DeviceSuspended extends RspError {
  static override readonly code = 'ERR_DEVICE_SUSPENDED';
}

export interface SignConsentInput {
  issuer: string;
  eid: string;
  mnoId: string;
  operations: ConsentOperation[];
  epoch: number;
  expiresInSeconds: number;
  /** Default: a random UUID. */
  jti?: string;
  now?: Date;
}

/** Signs a consent (the owner registry's side). */
export async function signConsent(
  input: SignConsentInput,
  key: { privateKey: KeyObject | webcrypto.CryptoKey; kid: string },
): Promise<{ token: string; claims: ConsentClaims }> {
  if (!isValidEid(input.eid)) throw new ContractError.InvalidParameter('eid', 'a valid EID');
  if (typeof input.mnoId !== 'string' || input.mnoId.length === 0) throw new ContractError.InvalidParameter('mnoId', 'a non-empty string');
  if (!Array.isArray(input.operations) || input.operations.length === 0 || !input.operations.every(isConsentOperation)) {
    throw new ContractError.InvalidParameter('operations', `a non-empty list of ${CONSENT_OPERATIONS.join(' | ')}`);
  }
  if (!Number.isSafeInteger(input.epoch) || input.epoch < 0) throw new ContractError.InvalidParameter('epoch', 'a non-negative integer');
  if (!Number.isSafeInteger(input.expiresInSeconds) || input.expiresInSeconds <= 0) {
    throw new ContractError.InvalidParameter('expiresInSeconds', 'a positive integer');
  }
  const iat = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const claims: ConsentClaims = {
    iss: input.issuer,
    aud: CONSENT_AUDIENCE,
    sub: input.eid,
    mno: input.mnoId,
    ops: [...new Set(input.operations)],
    epoch: input.epoch,
    jti: input.jti ?? randomUUID(),
    iat,
    exp: iat + input.expiresInSeconds,
  };
  const token = await new SignJWT({ mno: claims.mno, ops: claims.ops, epoch: claims.epoch })
    .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: CONSENT_TYPE })
    .setIssuer(claims.iss)
    .setAudience(claims.aud)
    .setSubject(claims.sub)
    .setJti(claims.jti)
    .setIssuedAt(claims.iat)
    .setExpirationTime(claims.exp)
    .sign(key.privateKey);
  return { token, claims };
}

export interface ConsentVerifierOptions {
  /** The owner registry URL (`iss`). */
  issuer: string;
  /** The registry's JWKS URL (`{registry}/.well-known/jwks.json`, fetched and cached) or the key set itself. */
  jwks: string | JSONWebKeySet;
  /** Default 60 s. */
  clockToleranceSeconds?: number;
  now?: () => Date;
}

export interface ConsentExpectation {
  /** The call's EID. */
  eid: string;
  /** The authenticated requester (MNO). */
  mnoId: string;
  operation: ConsentOperation;
  /** The device's latest status: its epoch and revoked `jti`s are enforced when given. */
  status?: DeviceStatus;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet> | ReturnType<typeof createRemoteJWKSet>;

/** Verifies consents (the SM-DP's and SM-SR's side). Every refusal is one of the typed errors above. */
export class ConsentVerifier {
  private readonly keys: KeyResolver;

  constructor(private readonly options: ConsentVerifierOptions) {
    this.keys = typeof options.jwks === 'string' ? createRemoteJWKSet(new URL(options.jwks)) : createLocalJWKSet(options.jwks);
  }

  async verify(token: string, expected: ConsentExpectation): Promise<ConsentClaims> {
    if (typeof token !== 'string' || token.trim().length === 0) throw new ConsentMissing('no owner consent');
    const claims = await this.verifySignature(token.trim());
    // docs/owner-registry.md: sub = the call's EID, mno = the authenticated requester, ops ∋ the function.
    if (claims.sub !== expected.eid) throw new ConsentScope('consent is for another EID');
    if (claims.mno !== expected.mnoId) throw new ConsentScope('consent is for another MNO');
    if (!claims.ops.includes(expected.operation)) throw new ConsentScope(`consent does not cover ${expected.operation}`);
    if (expected.status) {
      if (claims.epoch !== expected.status.consentEpoch) throw new ConsentRevoked('consent of another consent epoch');
      if (expected.status.revokedConsents.includes(claims.jti)) throw new ConsentRevoked('consent revoked');
    }
    return claims;
  }

  private async verifySignature(token: string): Promise<ConsentClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: [ALGORITHM],
        typ: CONSENT_TYPE,
        issuer: this.options.issuer,
        audience: CONSENT_AUDIENCE,
        clockTolerance: this.options.clockToleranceSeconds ?? 60,
        requiredClaims: ['iss', 'aud', 'sub', 'jti', 'iat', 'exp'],
        ...(this.options.now ? { currentDate: this.options.now() } : {}),
      }));
    } catch (error) {
      throw joseFailure(error);
    }
    return consentClaims(payload);
  }
}

/** jose's failure → ours (never its message: it may quote token contents). */
function joseFailure(error: unknown): RspError {
  if (error instanceof joseErrors.JWTExpired) return new ConsentExpired('consent expired', { cause: error });
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) {
    return new ConsentKeysUnavailable('consent signing keys unavailable', { cause: error });
  }
  if (error instanceof joseErrors.JOSEError) return new ConsentInvalid(`consent rejected (${error.code})`, { cause: error });
  // A failed JWKS fetch (network) surfaces as a plain Error from fetch.
  return new ConsentKeysUnavailable('consent signing keys unavailable', { cause: error });
}

/** The verified payload as ConsentClaims; anything off-shape is an invalid consent. */
function consentClaims(payload: JWTPayload): ConsentClaims {
  const { iss, aud, sub, jti, iat, exp } = payload;
  const { mno, ops, epoch } = payload as { mno?: unknown; ops?: unknown; epoch?: unknown };
  const audience = Array.isArray(aud) ? (aud.length === 1 ? aud[0] : undefined) : aud;
  if (
    typeof iss !== 'string' ||
    audience !== CONSENT_AUDIENCE ||
    typeof sub !== 'string' ||
    typeof jti !== 'string' ||
    jti.length === 0 ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    typeof mno !== 'string' ||
    !Array.isArray(ops) ||
    ops.length === 0 ||
    !ops.every(isConsentOperation) ||
    typeof epoch !== 'number' ||
    !Number.isSafeInteger(epoch) ||
    epoch < 0
  ) {
    throw new ConsentInvalid('consent claims malformed');
  }
  return { iss, aud: CONSENT_AUDIENCE, sub, mno, ops, epoch, jti, iat, exp };
}
