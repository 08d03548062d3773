/* global atob, btoa, crypto, fetch, location, sessionStorage, TextDecoder, TextEncoder, URLSearchParams */
/**
 * OpenID Connect in the browser for a public client: authorization code flow (OIDC Core 1.0 §3.1) with
 * PKCE S256 (RFC 7636), `state` against CSRF and `nonce` against token replay. The ID token comes
 * straight from the token endpoint over the fetch the page made itself, so its signature is left to the
 * registry, which verifies it through discovery on every call (OIDC Core §3.1.3.7 item 6); the page
 * still checks iss, aud, azp, nonce, exp and, after a fresh login, auth_time (§3.1.2.1 max_age).
 */

const PENDING_KEY = 'rsp.portal.oidc.pending';
const SESSION_KEY = 'rsp.portal.oidc.session';
const FORCE_LOGIN_KEY = 'rsp.portal.oidc.forceLogin';
/** A pending sign-in older than this is dropped (the IdP's own interaction expires well before). */
const PENDING_TTL_MS = 15 * 60 * 1000;
const CLOCK_SKEW_S = 60;

export class OidcError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'OidcError';
    this.code = code;
  }
}

function base64url(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomToken(byteLength = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(byteLength)));
}

async function s256(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** The claims of a compact JWS, unverified (display and sanity checks only). */
export function decodeJwtClaims(jwt) {
  const part = typeof jwt === 'string' ? jwt.split('.')[1] : undefined;
  if (!part) throw new OidcError('ERR_PORTAL_BAD_ID_TOKEN', 'The ID token is not a JWT');
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  const claims = JSON.parse(new TextDecoder().decode(bytes));
  if (!claims || typeof claims !== 'object') throw new OidcError('ERR_PORTAL_BAD_ID_TOKEN', 'The ID token has no claims');
  return claims;
}

function readJson(storageKey) {
  const raw = sessionStorage.getItem(storageKey);
  if (!raw) return null;
  try {
    return JSON.parse(raw);
  } catch {
    sessionStorage.removeItem(storageKey);
    return null;
  }
}

export class OidcClient {
  /** @param {{ issuer: string, clientId: string, redirectUri: string }} options */
  constructor(options) {
    this.issuer = options.issuer;
    this.clientId = options.clientId;
    this.redirectUri = options.redirectUri;
    this.metadata = null;
  }

  /** OIDC Discovery 1.0 §4: the metadata's `issuer` must be exactly the configured one. */
  async discover() {
    if (this.metadata) return this.metadata;
    const url = `${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let response;
    try {
      response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'omit' });
    } catch {
      throw new OidcError('ERR_PORTAL_IDP_UNREACHABLE', 'The identity provider cannot be reached');
    }
    if (!response.ok) throw new OidcError('ERR_PORTAL_IDP_UNREACHABLE', `Discovery failed (HTTP ${response.status})`);
    const metadata = await response.json();
    if (metadata.issuer !== this.issuer) throw new OidcError('ERR_PORTAL_IDP_MISMATCH', 'Discovery names another issuer');
    const methods = metadata.code_challenge_methods_supported;
    if (Array.isArray(methods) && !methods.includes('S256')) throw new OidcError('ERR_PORTAL_IDP_NO_PKCE', 'The identity provider does not support PKCE S256');
    this.metadata = metadata;
    return metadata;
  }

  /**
   * Redirects to the authorization endpoint. `fresh`: step-up, `prompt=login&max_age=0` (the registry
   * wants auth_time within 300 s, RFC 9470). After a sign-out the next sign-in also asks for the
   * password, so the next person at this browser does not inherit the IdP session.
   * @param {{ fresh?: boolean, resume?: unknown }} [options]
   */
  async signIn(options = {}) {
    const metadata = await this.discover();
    const fresh = options.fresh === true;
    const forceLogin = fresh || sessionStorage.getItem(FORCE_LOGIN_KEY) === '1';
    const pending = {
      state: randomToken(),
      nonce: randomToken(),
      codeVerifier: randomToken(48),
      fresh,
      startedAt: Date.now(),
      resume: options.resume ?? null,
    };
    sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
    const url = new URL(metadata.authorization_endpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.clientId);
    url.searchParams.set('redirect_uri', this.redirectUri);
    url.searchParams.set('scope', 'openid');
    url.searchParams.set('state', pending.state);
    url.searchParams.set('nonce', pending.nonce);
    url.searchParams.set('code_challenge', await s256(pending.codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    if (forceLogin) url.searchParams.set('prompt', 'login');
    if (fresh) url.searchParams.set('max_age', '0');
    location.assign(url.toString());
  }

  /**
   * Finishes the redirect back (`?code=&state=` or `?error=`): state check, code exchange with the
   * PKCE verifier, ID token checks. Returns `{ session, resume }`.
   * @param {URLSearchParams} params
   */
  async completeSignIn(params) {
    const pending = readJson(PENDING_KEY);
    sessionStorage.removeItem(PENDING_KEY); // single use, whatever the outcome
    if (params.has('error')) {
      throw new OidcError(`ERR_PORTAL_IDP_${String(params.get('error')).toUpperCase()}`, params.get('error_description') ?? 'The identity provider refused the sign-in');
    }
    if (!pending || Date.now() - pending.startedAt > PENDING_TTL_MS) throw new OidcError('ERR_PORTAL_NO_PENDING_SIGN_IN', 'No sign-in was started from this tab');
    if (params.get('state') !== pending.state) throw new OidcError('ERR_PORTAL_STATE_MISMATCH', 'The sign-in response does not match the request');
    const issuerParam = params.get('iss'); // RFC 9207, when the IdP sends it
    if (issuerParam !== null && issuerParam !== this.issuer) throw new OidcError('ERR_PORTAL_IDP_MISMATCH', 'The response comes from another issuer');
    const code = params.get('code');
    if (!code) throw new OidcError('ERR_PORTAL_NO_CODE', 'The sign-in response carries no code');

    const metadata = await this.discover();
    let response;
    try {
      response = await fetch(metadata.token_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        credentials: 'omit',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: this.redirectUri,
          client_id: this.clientId,
          code_verifier: pending.codeVerifier,
        }),
      });
    } catch {
      throw new OidcError('ERR_PORTAL_IDP_UNREACHABLE', 'The token endpoint cannot be reached');
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new OidcError(`ERR_PORTAL_TOKEN_${String(body.error ?? response.status).toUpperCase()}`, body.error_description ?? 'The code exchange failed');
    if (typeof body.id_token !== 'string') throw new OidcError('ERR_PORTAL_BAD_ID_TOKEN', 'The token response has no ID token');

    const claims = this.checkIdToken(body.id_token, pending);
    const session = { idToken: body.id_token, claims };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    sessionStorage.removeItem(FORCE_LOGIN_KEY);
    return { session, resume: pending.resume };
  }

  /** OIDC Core §3.1.3.7 checks 2, 3, 4, 5, 9, 11 and (max_age) 13. */
  checkIdToken(idToken, pending) {
    const claims = decodeJwtClaims(idToken);
    const now = Math.floor(Date.now() / 1000);
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const fail = (what) => {
      throw new OidcError('ERR_PORTAL_BAD_ID_TOKEN', `ID token rejected: ${what}`);
    };
    if (claims.iss !== this.issuer) fail('issuer');
    if (!audiences.includes(this.clientId)) fail('audience');
    if (audiences.length > 1 && claims.azp !== this.clientId) fail('authorized party');
    if (claims.nonce !== pending.nonce) fail('nonce');
    if (typeof claims.exp !== 'number' || claims.exp + CLOCK_SKEW_S < now) fail('expired');
    if (typeof claims.sub !== 'string' || claims.sub === '') fail('subject');
    if (pending.fresh && (typeof claims.auth_time !== 'number' || claims.auth_time * 1000 < pending.startedAt - CLOCK_SKEW_S * 1000)) fail('no fresh login');
    return claims;
  }

  /** The signed-in session of this tab, or null (none, or its ID token expired). */
  currentSession() {
    const session = readJson(SESSION_KEY);
    if (!session || typeof session.idToken !== 'string' || !session.claims) return null;
    if (typeof session.claims.exp === 'number' && session.claims.exp * 1000 <= Date.now()) {
      sessionStorage.removeItem(SESSION_KEY);
      return null;
    }
    return session;
  }

  /**
   * Forgets the tokens of this tab; the next sign-in asks for a password again. When the IdP offers
   * RP-Initiated Logout 1.0 (`end_session_endpoint`), its session ends too (it redirects back to the
   * portal, which the client must register as a post-logout redirect URI). Returns true when it
   * navigates away.
   */
  async signOut() {
    const session = readJson(SESSION_KEY);
    sessionStorage.removeItem(SESSION_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    sessionStorage.setItem(FORCE_LOGIN_KEY, '1');
    let metadata = null;
    try {
      metadata = await this.discover();
    } catch {
      return false; // signed out here; the IdP session stays, the next sign-in prompts anyway
    }
    if (!session || typeof metadata.end_session_endpoint !== 'string') return false;
    const url = new URL(metadata.end_session_endpoint);
    url.searchParams.set('client_id', this.clientId);
    url.searchParams.set('id_token_hint', session.idToken);
    url.searchParams.set('post_logout_redirect_uri', this.redirectUri);
    location.assign(url.toString());
    return true;
  }
}
