import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, generateKeyPair } from 'jose';
import { IdentityError, OidcVerifier } from '../src';
import { startTestIssuer, type TestIssuer } from './support/test-issuer';

const AUD = 'owner-portal';

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

describe('OidcVerifier', () => {
  let idpA: TestIssuer;
  let idpB: TestIssuer;

  beforeAll(async () => {
    idpA = await startTestIssuer();
    idpB = await startTestIssuer();
  });
  afterAll(async () => {
    await idpA.close();
    await idpB.close();
  });

  it('accepts a valid ID token and returns the owner (iss, sub) with its auth context', async () => {
    const verifier = new OidcVerifier([{ issuer: idpA.issuer, audience: AUD }]);
    const now = Math.floor(Date.now() / 1000);
    const token = await idpA.sign({
      sub: 'alice', aud: AUD, auth_time: now - 10, acr: 'urn:rsp:acr:password', amr: ['pwd'],
      jti: 'jti-1', email: 'alice@example.test', name: 'Alice',
    });
    const identity = await verifier.verifyIdToken(token);
    expect(identity).toEqual({
      iss: idpA.issuer, sub: 'alice', authTime: now - 10, acr: 'urn:rsp:acr:password', amr: ['pwd'],
      jti: 'jti-1', email: 'alice@example.test', name: 'Alice', issuedAt: expect.any(Number), expiresAt: expect.any(Number),
    });
    // discovery + JWKS are fetched once, then cached
    const before = idpA.requests.length;
    await verifier.verifyIdToken(await idpA.sign({ sub: 'bob', aud: [AUD, 'other'] }));
    expect(idpA.requests.length).toBe(before);
    expect(idpA.requests.filter((url) => url === '/.well-known/openid-configuration')).toHaveLength(1);
  });

  it('refuses an expired token, but tolerates 60 s of clock skew', async () => {
    const verifier = new OidcVerifier([{ issuer: idpA.issuer, audience: AUD }]);
    const now = Math.floor(Date.now() / 1000);
    const expired = await idpA.sign({ sub: 'alice', aud: AUD, iat: now - 3600, exp: now - 120 });
    expect((await rejection(verifier.verifyIdToken(expired))).code).toBe(IdentityError.TokenExpired.code);
    const justExpired = await idpA.sign({ sub: 'alice', aud: AUD, iat: now - 3600, exp: now - 30 });
    await expect(verifier.verifyIdToken(justExpired)).resolves.toMatchObject({ sub: 'alice' });
    // the injected clock is used
    const later = new OidcVerifier([{ issuer: idpA.issuer, audience: AUD }], { now: () => new Date((now + 7200) * 1000) });
    expect((await rejection(later.verifyIdToken(await idpA.sign({ sub: 'alice', aud: AUD })))).code).toBe('ERR_IDENTITY_TOKEN_EXPIRED');
  });

  it('refuses a token issued to another audience', async () => {
    const verifier = new OidcVerifier([{ issuer: idpA.issuer, audience: AUD }]);
    const token = await idpA.sign({ sub: 'alice', aud: 'someone-else' });
    expect((await rejection(verifier.verifyIdToken(token))).code).toBe('ERR_IDENTITY_AUDIENCE_MISMATCH');
  });

  it('refuses an untrusted issuer before any network call', async () => {
    const calls: string[] = [];
    const spyFetch: typeof fetch = async (input, init) => {
      calls.push(String(input));
      return fetch(input, init);
    };
    const verifier = new OidcVerifier([{ issuer: idpA.issuer, audience: AUD }], { fetch: spyFetch });
    const token = await idpB.sign({ sub: 'alice', aud: AUD });
    expect((await rejection(verifier.verifyIdToken(token))).code).toBe('ERR_IDENTITY_UNTRUSTED_ISSUER');
    const evil = await idpA.sign({ iss: 'https://evil.example', sub: 'alice', aud: AUD });
    expect((await rejection(verifier.verifyIdToken(evil))).code).toBe('ERR_IDENTITY_UNTRUSTED_ISSUER');
    expect(calls).toEqual([]);
    // the injected fetch is the one used for a trusted issuer
    await verifier.verifyIdToken(await idpA.sign({ sub: 'alice', aud: AUD }));
    expect(calls).toEqual([`${idpA.issuer}/.well-known/openid-configuration`, `${idpA.issuer}/jwks`]);
  });

  it('refuses a token signed by another key (same kid or unknown kid) and symmetric algorithms', async () => {
    const verifier = new OidcVerifier([{ issuer: idpA.issuer, audience: AUD }]);
    const { privateKey: otherKey } = await generateKeyPair('ES256');
    const sameKid = await idpA.sign({ sub: 'alice', aud: AUD }, { key: otherKey });
    expect((await rejection(verifier.verifyIdToken(sameKid))).code).toBe('ERR_IDENTITY_SIGNATURE_INVALID');
    const unknownKid = await idpA.sign({ sub: 'alice', aud: AUD }, { key: otherKey, kid: 'attacker' });
    expect((await rejection(verifier.verifyIdToken(unknownKid))).code).toBe('ERR_IDENTITY_SIGNATURE_INVALID');
    const now = Math.floor(Date.now() / 1000);
    const hmac = await new SignJWT({ iss: idpA.issuer, sub: 'alice', aud: AUD, iat: now, exp: now + 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('a shared secret of at least 32 bytes!!'));
    expect((await rejection(verifier.verifyIdToken(hmac))).code).toBe('ERR_IDENTITY_SIGNATURE_INVALID');
  });

  it('checks the nonce when the caller expects one', async () => {
    const verifier = new OidcVerifier([{ issuer: idpA.issuer, audience: AUD }]);
    const token = await idpA.sign({ sub: 'alice', aud: AUD, nonce: 'n-0S6_WzA2Mj' });
    await expect(verifier.verifyIdToken(token, { nonce: 'n-0S6_WzA2Mj' })).resolves.toMatchObject({ sub: 'alice' });
    expect((await rejection(verifier.verifyIdToken(token, { nonce: 'another' }))).code).toBe('ERR_IDENTITY_NONCE_MISMATCH');
    const noNonce = await idpA.sign({ sub: 'alice', aud: AUD });
    expect((await rejection(verifier.verifyIdToken(noNonce, { nonce: 'n' }))).code).toBe('ERR_IDENTITY_NONCE_MISMATCH');
  });

  it('trusts two issuers at once (federation): same sub, two different owners', async () => {
    const verifier = new OidcVerifier([
      { issuer: idpA.issuer, audience: AUD },
      { issuer: idpB.issuer, audience: ['registry-at-b', AUD] },
    ]);
    const fromA = await verifier.verifyIdToken(await idpA.sign({ sub: 'alice', aud: AUD }));
    const fromB = await verifier.verifyIdToken(await idpB.sign({ sub: 'alice', aud: 'registry-at-b' }));
    expect([fromA.iss, fromA.sub]).toEqual([idpA.issuer, 'alice']);
    expect([fromB.iss, fromB.sub]).toEqual([idpB.issuer, 'alice']);
    // issuer A cannot speak for issuer B: B's keys are used for iss = B
    const forged = await idpA.sign({ iss: idpB.issuer, sub: 'alice', aud: AUD });
    expect((await rejection(verifier.verifyIdToken(forged))).code).toBe('ERR_IDENTITY_SIGNATURE_INVALID');
  });

  it('refuses missing, malformed and incomplete tokens, and other JWT types', async () => {
    const verifier = new OidcVerifier([{ issuer: idpA.issuer, audience: AUD }]);
    expect((await rejection(verifier.verifyIdToken(''))).code).toBe('ERR_IDENTITY_MISSING_TOKEN');
    expect((await rejection(verifier.verifyIdToken('not.a.jwt'))).code).toBe('ERR_IDENTITY_MALFORMED_TOKEN');
    const noSub = await idpA.sign({ aud: AUD });
    expect((await rejection(verifier.verifyIdToken(noSub))).code).toBe('ERR_IDENTITY_MALFORMED_TOKEN');
    const consent = await idpA.sign({ sub: 'alice', aud: AUD }, { typ: 'rsp-consent+jwt' });
    expect((await rejection(verifier.verifyIdToken(consent))).code).toBe('ERR_IDENTITY_MALFORMED_TOKEN');
  });

  it('refuses an issuer whose discovery names another issuer, or that cannot be reached', async () => {
    const liar = await startTestIssuer({ discoveryIssuer: 'https://someone-else.example' });
    try {
      const verifier = new OidcVerifier([{ issuer: liar.issuer, audience: AUD }]);
      const token = await liar.sign({ sub: 'alice', aud: AUD });
      expect((await rejection(verifier.verifyIdToken(token))).code).toBe('ERR_IDENTITY_DISCOVERY_FAILED');
    } finally {
      await liar.close();
    }
    const gone = await startTestIssuer();
    const token = await gone.sign({ sub: 'alice', aud: AUD });
    await gone.close();
    const verifier = new OidcVerifier([{ issuer: gone.issuer, audience: AUD }]);
    const error = await rejection(verifier.verifyIdToken(token));
    expect(error.code).toBe('ERR_IDENTITY_DISCOVERY_FAILED');
    expect(error.message).not.toContain(token);
  });
});
