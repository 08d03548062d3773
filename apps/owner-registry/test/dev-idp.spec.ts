import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { OidcVerifier, requireStepUp } from '@rsp/identity';
import { OWNER_PORTAL_CLIENT_ID, startDevIdp, type DevIdp } from '../src/dev-idp/dev-idp';

/** Cookies by name (the dev IdP's cookie names do not collide across paths). */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

interface LoginResult {
  idToken: string;
  formShown: boolean;
}

/** Authorization code + PKCE (S256) driven by hand: follow redirects, carry cookies, fill the form. */
async function authorizationCodeFlow(
  idp: DevIdp,
  jar: CookieJar,
  options: { user: string; nonce: string; extra?: Record<string, string> },
): Promise<LoginResult> {
  const discovery = (await (await fetch(idp.discoveryUrl)).json()) as Record<string, string>;
  const redirectUri = `${idp.issuer}/callback`;
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const auth = new URL(discovery.authorization_endpoint ?? '');
  const params = {
    client_id: OWNER_PORTAL_CLIENT_ID, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile email',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    state, nonce: options.nonce, ...options.extra,
  };
  for (const [key, value] of Object.entries(params)) auth.searchParams.set(key, value);

  let formShown = false;
  let request: { url: string; init?: RequestInit } = { url: auth.href };
  for (let hop = 0; hop < 15; hop++) {
    const response = await fetch(request.url, {
      ...request.init,
      redirect: 'manual',
      headers: { ...(request.init?.headers as Record<string, string>), cookie: jar.header() },
    });
    jar.store(response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      const next = new URL(location, request.url);
      if (next.href.startsWith(redirectUri)) {
        expect(next.searchParams.get('state')).toBe(state);
        const code = next.searchParams.get('code');
        if (code === null) throw new Error(`authorization error: ${next.search}`);
        const token = await fetch(discovery.token_endpoint ?? '', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: OWNER_PORTAL_CLIENT_ID, code_verifier: verifier,
          }),
        });
        const body = (await token.json()) as Record<string, string>;
        if (token.status !== 200 || body.id_token === undefined) throw new Error(`token error ${JSON.stringify(body)}`);
        return { idToken: body.id_token, formShown };
      }
      request = { url: next.href };
      continue;
    }
    const html = await response.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (response.status !== 200 || action === undefined) throw new Error(`unexpected page ${response.status}: ${html}`);
    formShown = true;
    request = {
      url: new URL(action.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c))), request.url).href,
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: options.user, password: options.user }).toString(),
      },
    };
  }
  throw new Error('too many redirects');
}

describe('dev IdP (oidc-provider)', () => {
  let idp: DevIdp;
  let verifier: OidcVerifier;

  beforeAll(async () => {
    idp = await startDevIdp({ port: 0 });
    verifier = new OidcVerifier([{ issuer: idp.issuer, audience: OWNER_PORTAL_CLIENT_ID }]);
  });
  afterAll(async () => {
    await idp.close();
  });

  it('publishes its discovery document on plain http', async () => {
    expect(idp.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(idp.discoveryUrl);
    expect(response.status).toBe(200);
    const discovery = (await response.json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({
      issuer: idp.issuer,
      jwks_uri: expect.stringMatching(/^http:\/\/127\.0\.0\.1/),
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['ES256'],
    });
    const jwks = (await (await fetch(discovery.jwks_uri as string)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('issueIdToken mints tokens that verify through discovery', async () => {
    const authTime = Math.floor(Date.now() / 1000) - 5;
    const token = await idp.issueIdToken({ sub: 'bob', aud: OWNER_PORTAL_CLIENT_ID, authTime, acr: 'urn:rsp:acr:step-up', amr: ['pwd'], nonce: 'n1' });
    const identity = await verifier.verifyIdToken(token, { nonce: 'n1' });
    expect(identity).toMatchObject({ iss: idp.issuer, sub: 'bob', authTime, acr: 'urn:rsp:acr:step-up', amr: ['pwd'] });
    expect(identity.jti).toEqual(expect.any(String));
    const expired = await idp.issueIdToken({ sub: 'bob', aud: OWNER_PORTAL_CLIENT_ID, iat: authTime - 7200, expiresInSeconds: 3600 });
    await expect(verifier.verifyIdToken(expired)).rejects.toMatchObject({ code: 'ERR_IDENTITY_TOKEN_EXPIRED' });
  });

  it('runs a full authorization code + PKCE login for alice, then forces re-login (prompt=login, max_age=0)', async () => {
    const jar = new CookieJar();
    const first = await authorizationCodeFlow(idp, jar, { user: 'alice', nonce: 'nonce-1' });
    expect(first.formShown).toBe(true);
    const alice = await verifier.verifyIdToken(first.idToken, { nonce: 'nonce-1' });
    expect(alice).toMatchObject({ iss: idp.issuer, sub: 'alice', acr: 'urn:rsp:acr:password', amr: ['pwd'], email: 'alice@example.test' });
    expect(alice.authTime).toEqual(expect.any(Number));
    await expect(verifier.verifyIdToken(first.idToken, { nonce: 'other' })).rejects.toMatchObject({ code: 'ERR_IDENTITY_NONCE_MISMATCH' });
    expect(() => requireStepUp(alice)).not.toThrow();

    // the session is remembered: no form the second time
    const sso = await authorizationCodeFlow(idp, jar, { user: 'alice', nonce: 'nonce-2' });
    expect(sso.formShown).toBe(false);
    expect((await verifier.verifyIdToken(sso.idToken, { nonce: 'nonce-2' })).authTime).toBe(alice.authTime);

    const forcedLogins: Array<Record<string, string>> = [{ prompt: 'login' }, { max_age: '0' }];
    for (const extra of forcedLogins) {
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const again = await authorizationCodeFlow(idp, jar, { user: 'alice', nonce: 'nonce-3', extra });
      expect(again.formShown).toBe(true);
      const fresh = await verifier.verifyIdToken(again.idToken, { nonce: 'nonce-3' });
      expect(fresh.sub).toBe('alice');
      expect(fresh.authTime).toBeGreaterThan(alice.authTime ?? Infinity);
    }
  });

  it('asserts the step-up acr when the client asks for it', async () => {
    const result = await authorizationCodeFlow(idp, new CookieJar(), {
      user: 'bob', nonce: 'n-b', extra: { acr_values: 'urn:rsp:acr:step-up' },
    });
    expect(await verifier.verifyIdToken(result.idToken, { nonce: 'n-b' })).toMatchObject({ sub: 'bob', acr: 'urn:rsp:acr:step-up' });
  });

  it('refuses a wrong password and a flow without PKCE', async () => {
    await expect(authorizationCodeFlow(idp, new CookieJar(), { user: 'mallory', nonce: 'x' })).rejects.toThrow(/unexpected page 401/);
    const auth = new URL(`${idp.issuer}/auth`);
    for (const [k, v] of Object.entries({ client_id: OWNER_PORTAL_CLIENT_ID, redirect_uri: `${idp.issuer}/callback`, response_type: 'code', scope: 'openid' })) {
      auth.searchParams.set(k, v);
    }
    const response = await fetch(auth, { redirect: 'manual' });
    expect(response.headers.get('location')).toMatch(/error=invalid_request/);
  });

  it('registers another client at run time', async () => {
    await idp.addClient({ clientId: 'second-portal', redirectUris: ['http://127.0.0.1:9/cb'] });
    const auth = new URL(`${idp.issuer}/auth`);
    const params = {
      client_id: 'second-portal', redirect_uri: 'http://127.0.0.1:9/cb', response_type: 'code', scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    };
    for (const [k, v] of Object.entries(params)) auth.searchParams.set(k, v);
    const response = await fetch(auth, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/^\/interaction\//);
  });
});
