/**
 * OpenID Connect ID token verification against a set of trusted issuers (federation: several at
 * once). Keys come from discovery (OIDC Discovery 1.0 §4: `{issuer}/.well-known/openid-configuration`
 * → `jwks_uri`) and are cached by `jose.createRemoteJWKSet`. Checks follow OIDC Core §3.1.3.7:
 * signature, `iss` (exact), `aud`, `exp` / `iat` with a clock tolerance, `nonce` when expected.
 *
 * An owner IS the pair `(iss, sub)`; `email` and `name` are display hints only, never a key.
 */
import { createRemoteJWKSet, customFetch, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { IdentityError } from './errors';

/** One issuer whose ID tokens are accepted, for the given audience (our client id(s) there). */
export interface TrustedIssuer {
  /** Exact `iss` value (and discovery base URL). */
  issuer: string;
  /** Client id(s) the tokens must be issued to (`aud` must contain one of them). */
  audience: string | string[];
  /** Skip discovery and take keys from this JWKS URL. */
  jwksUri?: string;
}

/** A verified owner identity: `(iss, sub)` plus the authentication context used for step-up and audit. */
export interface OwnerIdentity {
  iss: string;
  sub: string;
  /** `auth_time` (seconds since the epoch) of the login that produced the token. */
  authTime?: number;
  acr?: string;
  amr?: string[];
  jti?: string;
  email?: string;
  name?: string;
  /** `iat` (seconds since the epoch). */
  issuedAt: number;
  /** `exp` (seconds since the epoch). */
  expiresAt: number;
}

export interface OidcVerifierOptions {
  /** Accepted clock skew for `exp` / `iat` / `nbf`, in seconds (default 60). */
  clockToleranceSeconds?: number;
  /** Fetch used for discovery and JWKS (tests; default the global fetch). */
  fetch?: typeof fetch;
  /** Clock (tests; default `new Date()`). */
  now?: () => Date;
}

/** Asymmetric algorithms only: `none` and HMAC (a shared client secret) are never accepted. */
export const ID_TOKEN_ALGORITHMS = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const;

const DISCOVERY_TIMEOUT_MS = 5000;

/** Verifies ID tokens of the configured trusted issuers. */
export class OidcVerifier {
  private readonly issuers = new Map<string, TrustedIssuer>();
  private readonly keySets = new Map<string, Promise<JWTVerifyGetKey>>();
  private readonly clockTolerance: number;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => Date;

  constructor(issuers: TrustedIssuer[], options: OidcVerifierOptions = {}) {
    for (const trusted of issuers) this.issuers.set(trusted.issuer, trusted);
    this.clockTolerance = options.clockToleranceSeconds ?? 60;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? (() => new Date());
  }

  /** The issuers this verifier trusts. */
  get trustedIssuers(): string[] {
    return [...this.issuers.keys()];
  }

  /**
   * Verifies `token` and returns the owner it names. Throws exactly one {@link IdentityError} when it
   * is refused. The unverified `iss` is read only to pick the issuer's configuration: an untrusted
   * issuer is refused before any network call.
   */
  async verifyIdToken(token: string, options: { nonce?: string } = {}): Promise<OwnerIdentity> {
    if (typeof token !== 'string' || token.trim() === '') throw new IdentityError.MissingToken('No ID token presented');
    const trusted = this.issuerOf(token);
    const keys = await this.keySetFor(trusted);

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: trusted.issuer,
        audience: trusted.audience,
        algorithms: [...ID_TOKEN_ALGORITHMS],
        clockTolerance: this.clockTolerance,
        currentDate: this.now(),
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (error) {
      throw mapJoseError(error);
    }

    // OIDC Core §3.1.3.7 step 11: the nonce sent in the authentication request must come back.
    if (options.nonce !== undefined && payload.nonce !== options.nonce) {
      throw new IdentityError.NonceMismatch('ID token nonce does not match the request');
    }
    return toOwnerIdentity(payload, trusted.issuer);
  }

  /** Trusted issuer configuration for the token's (unverified) `iss`. */
  private issuerOf(token: string): TrustedIssuer {
    let iss: unknown;
    try {
      const header = decodeProtectedHeader(token);
      // Another kind of JWT (e.g. a consent token, typ rsp-consent+jwt) is not an ID token.
      if (header.typ !== undefined && header.typ.toUpperCase() !== 'JWT') {
        throw new IdentityError.MalformedToken('Not an ID token (unexpected typ)');
      }
      iss = decodeJwt(token).iss;
    } catch (error) {
      if (error instanceof IdentityError.MalformedToken) throw error;
      throw new IdentityError.MalformedToken('ID token is not a well-formed JWS JWT', { cause: error });
    }
    if (typeof iss !== 'string' || iss === '') throw new IdentityError.MalformedToken('ID token has no iss claim');
    const trusted = this.issuers.get(iss);
    if (trusted === undefined) throw new IdentityError.UntrustedIssuer('ID token issuer is not trusted');
    return trusted;
  }

  /** The issuer's remote key set, created once (after discovery) and cached; a failure is not cached. */
  private keySetFor(trusted: TrustedIssuer): Promise<JWTVerifyGetKey> {
    let keySet = this.keySets.get(trusted.issuer);
    if (keySet === undefined) {
      keySet = this.createKeySet(trusted);
      this.keySets.set(trusted.issuer, keySet);
      keySet.catch(() => this.keySets.delete(trusted.issuer));
    }
    return keySet;
  }

  private async createKeySet(trusted: TrustedIssuer): Promise<JWTVerifyGetKey> {
    const jwksUri = trusted.jwksUri ?? (await this.discoverJwksUri(trusted.issuer));
    let url: URL;
    try {
      url = new URL(jwksUri);
    } catch (error) {
      throw new IdentityError.DiscoveryFailed('Issuer jwks_uri is not a URL', { cause: error });
    }
    const fetchImpl = this.fetchImpl;
    return createRemoteJWKSet(url, {
      timeoutDuration: DISCOVERY_TIMEOUT_MS,
      [customFetch]: (input: string, init: RequestInit) => fetchImpl(input, init),
    });
  }

  /** OIDC Discovery 1.0 §4.1 / §4.3: fetch the configuration and check its `issuer` is exactly ours. */
  private async discoverJwksUri(issuer: string): Promise<string> {
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let document: unknown;
    try {
      const response = await this.fetchImpl(url, {
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS),
      });
      if (response.status !== 200) throw new Error(`discovery answered HTTP ${response.status}`);
      document = await response.json();
    } catch (error) {
      throw new IdentityError.DiscoveryFailed('Issuer discovery document could not be fetched', { cause: error });
    }
    const config = (typeof document === 'object' && document !== null ? document : {}) as Record<string, unknown>;
    if (config.issuer !== issuer) throw new IdentityError.DiscoveryFailed('Discovery document names another issuer');
    if (typeof config.jwks_uri !== 'string' || config.jwks_uri === '') {
      throw new IdentityError.DiscoveryFailed('Discovery document has no jwks_uri');
    }
    return config.jwks_uri;
  }
}

function toOwnerIdentity(payload: JWTPayload, issuer: string): OwnerIdentity {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub === '') throw new IdentityError.MalformedToken('ID token has no sub claim');
  const identity: OwnerIdentity = { iss: issuer, sub, issuedAt: payload.iat ?? 0, expiresAt: payload.exp ?? 0 };
  if (typeof payload.auth_time === 'number') identity.authTime = payload.auth_time;
  if (typeof payload.acr === 'string') identity.acr = payload.acr;
  if (Array.isArray(payload.amr) && payload.amr.every((v) => typeof v === 'string')) identity.amr = payload.amr as string[];
  if (typeof payload.jti === 'string') identity.jti = payload.jti;
  if (typeof payload.email === 'string') identity.email = payload.email;
  if (typeof payload.name === 'string') identity.name = payload.name;
  return identity;
}

/** jose failure → exactly one typed identity error (by `code`, robust to duplicated jose instances). */
function mapJoseError(error: unknown): Error {
  if (error instanceof IdentityError.DiscoveryFailed) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const claim = (error as { claim?: unknown } | null)?.claim;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new IdentityError.TokenExpired('ID token has expired', { cause: error });
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'aud') return new IdentityError.AudienceMismatch('ID token audience does not match', { cause: error });
      if (claim === 'iss') return new IdentityError.UntrustedIssuer('ID token issuer is not trusted', { cause: error });
      return new IdentityError.MalformedToken(`ID token claim ${String(claim)} is invalid`, { cause: error });
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
    case 'ERR_JWK_INVALID':
      return new IdentityError.SignatureInvalid('ID token signature does not verify', { cause: error });
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return new IdentityError.MalformedToken('ID token is not a well-formed JWS JWT', { cause: error });
    default:
      // JWKS timeout / invalid JWKS / HTTP or network failure while fetching the keys.
      return new IdentityError.DiscoveryFailed('Issuer keys could not be fetched', { cause: error });
  }
}
