import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, type JSONWebKeySet } from 'jose';
import { ERROR_STATUS_MAP, toExecutionStatus } from '@rsp/contracts';
import { generateEid } from '@rsp/pki';
import { CONSENT_AUDIENCE, ConsentVerifier, signConsent, type ConsentOperation, type DeviceStatus } from '../src';

const ISSUER = 'https://registry.test';
const eid = generateEid('89049032', 1);
const otherEid = generateEid('89049032', 2);
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const KID = 'consent-1';

async function jwksOf(key: KeyObject, kid: string): Promise<JSONWebKeySet> {
  return { keys: [{ ...(await exportJWK(key)), kid, alg: 'ES256', use: 'sig' }] };
}

const status = (over: Partial<DeviceStatus> = {}): DeviceStatus => ({
  eid,
  owned: true,
  status: 'Active',
  consentEpoch: 3,
  revokedConsents: [],
  updatedAt: new Date().toISOString(),
  ...over,
});

const sign = (over: Partial<Parameters<typeof signConsent>[0]> = {}, key: KeyObject = privateKey, kid = KID) =>
  signConsent({ issuer: ISSUER, eid, mnoId: 'mno.a', operations: ['DownloadProfile', 'EnableProfile'], epoch: 3, expiresInSeconds: 600, ...over }, { privateKey: key, kid });

async function verifier(options: { now?: () => Date } = {}): Promise<ConsentVerifier> {
  return new ConsentVerifier({ issuer: ISSUER, jwks: await jwksOf(publicKey, KID), ...options });
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'no error';
}

const expectation = (over: Partial<{ eid: string; mnoId: string; operation: ConsentOperation; status: DeviceStatus }> = {}) => ({
  eid,
  mnoId: 'mno.a',
  operation: 'DownloadProfile' as ConsentOperation,
  status: status(),
  ...over,
});

describe('signConsent / ConsentVerifier', () => {
  it('signs an ES256 rsp-consent+jwt that verifies against the registry JWKS', async () => {
    const { token, claims } = await sign({ jti: 'jti-1' });
    const [encodedHeader] = token.split('.');
    expect(JSON.parse(Buffer.from(encodedHeader as string, 'base64url').toString())).toEqual({ alg: 'ES256', kid: KID, typ: 'rsp-consent+jwt' });
    expect(claims).toMatchObject({ iss: ISSUER, aud: CONSENT_AUDIENCE, sub: eid, mno: 'mno.a', ops: ['DownloadProfile', 'EnableProfile'], epoch: 3, jti: 'jti-1' });
    expect(claims.exp - claims.iat).toBe(600);
    expect(await (await verifier()).verify(token, expectation())).toEqual(claims);
    expect(await (await verifier()).verify(token, expectation({ operation: 'EnableProfile' }))).toEqual(claims);
  });

  it('refuses bad input when signing', async () => {
    expect(await failure(sign({ eid: '1234' }))).toBe('ERR_CONTRACT_INVALID_PARAMETER');
    expect(await failure(sign({ operations: [] }))).toBe('ERR_CONTRACT_INVALID_PARAMETER');
    expect(await failure(sign({ operations: ['FormatCard' as ConsentOperation] }))).toBe('ERR_CONTRACT_INVALID_PARAMETER');
    expect(await failure(sign({ epoch: -1 }))).toBe('ERR_CONTRACT_INVALID_PARAMETER');
    expect(await failure(sign({ expiresInSeconds: 0 }))).toBe('ERR_CONTRACT_INVALID_PARAMETER');
  });

  it('ERR_CONSENT_MISSING for an empty token', async () => {
    expect(await failure((await verifier()).verify('', expectation()))).toBe('ERR_CONSENT_MISSING');
  });

  it('ERR_CONSENT_INVALID: another key, unknown kid, wrong typ / iss / aud, garbage, alg none', async () => {
    const v = await verifier();
    expect(await failure(v.verify((await sign({}, foreign.privateKey)).token, expectation()))).toBe('ERR_CONSENT_INVALID');
    expect(await failure(v.verify((await sign({}, privateKey, 'other-kid')).token, expectation()))).toBe('ERR_CONSENT_INVALID');
    expect(await failure(v.verify((await sign({ issuer: 'https://evil.test' })).token, expectation()))).toBe('ERR_CONSENT_INVALID');
    expect(await failure(v.verify('not.a.jwt', expectation()))).toBe('ERR_CONSENT_INVALID');
    const now = Math.floor(Date.now() / 1000);
    const claims = { mno: 'mno.a', ops: ['DownloadProfile'], epoch: 3 };
    const forge = (typ: string, aud = CONSENT_AUDIENCE, extra: Record<string, unknown> = claims) =>
      new SignJWT(extra)
        .setProtectedHeader({ alg: 'ES256', kid: KID, typ })
        .setIssuer(ISSUER)
        .setAudience(aud)
        .setSubject(eid)
        .setJti('x')
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(privateKey);
    expect(await failure(v.verify(await forge('JWT'), expectation()))).toBe('ERR_CONSENT_INVALID'); // an ID token is no consent
    expect(await failure(v.verify(await forge('rsp-consent+jwt', 'owner-portal'), expectation()))).toBe('ERR_CONSENT_INVALID');
    expect(await failure(v.verify(await forge('rsp-consent+jwt', CONSENT_AUDIENCE, { ...claims, ops: ['Everything'] }), expectation()))).toBe('ERR_CONSENT_INVALID');
    expect(await failure(v.verify(await forge('rsp-consent+jwt', CONSENT_AUDIENCE, { mno: 'mno.a', ops: ['DownloadProfile'] }), expectation()))).toBe('ERR_CONSENT_INVALID');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'rsp-consent+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: CONSENT_AUDIENCE, sub: eid, ...claims, jti: 'x', iat: now, exp: now + 60 })).toString('base64url')}.`;
    expect(await failure(v.verify(unsigned, expectation()))).toBe('ERR_CONSENT_INVALID');
  });

  it('ERR_CONSENT_EXPIRED past exp + 60 s tolerance (not before)', async () => {
    const issued = new Date('2030-01-01T00:00:00Z');
    const { token } = await sign({ now: issued, expiresInSeconds: 60 });
    const at = (seconds: number) => verifier({ now: () => new Date(issued.getTime() + seconds * 1000) });
    await expect((await at(100)).verify(token, expectation())).resolves.toMatchObject({ sub: eid });
    expect(await failure((await at(121)).verify(token, expectation()))).toBe('ERR_CONSENT_EXPIRED');
  });

  it('ERR_CONSENT_SCOPE: another EID, another MNO, an operation not listed', async () => {
    const { token } = await sign();
    const v = await verifier();
    expect(await failure(v.verify(token, expectation({ eid: otherEid, status: status({ eid: otherEid }) })))).toBe('ERR_CONSENT_SCOPE');
    expect(await failure(v.verify(token, expectation({ mnoId: 'mno.b' })))).toBe('ERR_CONSENT_SCOPE');
    expect(await failure(v.verify(token, expectation({ operation: 'DeleteProfile' })))).toBe('ERR_CONSENT_SCOPE');
  });

  it('ERR_CONSENT_REVOKED: an older epoch, a revoked jti; without a status neither is checked', async () => {
    const { token, claims } = await sign();
    const v = await verifier();
    expect(await failure(v.verify(token, expectation({ status: status({ consentEpoch: 4 }) })))).toBe('ERR_CONSENT_REVOKED');
    expect(await failure(v.verify(token, expectation({ status: status({ revokedConsents: ['other', claims.jti] }) })))).toBe('ERR_CONSENT_REVOKED');
    const { status: _omitted, ...withoutStatus } = expectation();
    await expect(v.verify(token, withoutStatus)).resolves.toMatchObject({ jti: claims.jti });
  });

  it('fetches the keys from a JWKS URL (unreachable → ERR_CONSENT_KEYS_UNAVAILABLE, provider error)', async () => {
    const v = new ConsentVerifier({ issuer: ISSUER, jwks: 'http://127.0.0.1:9/.well-known/jwks.json' });
    const code = await failure(v.verify((await sign()).token, expectation()));
    expect(code).toBe('ERR_CONSENT_KEYS_UNAVAILABLE');
    expect(ERROR_STATUS_MAP[code]).toMatchObject({ subjectCode: '1.2', reasonCode: '4.2' });
  });

  it('maps to the SGP.02 outcomes of docs/owner-registry.md', () => {
    const codes = (code: string) => ({ subjectCode: ERROR_STATUS_MAP[code]?.subjectCode, reasonCode: ERROR_STATUS_MAP[code]?.reasonCode });
    expect(codes('ERR_CONSENT_MISSING')).toEqual({ subjectCode: '8.1.1', reasonCode: '1.2' });
    for (const code of ['ERR_CONSENT_INVALID', 'ERR_CONSENT_EXPIRED', 'ERR_CONSENT_SCOPE', 'ERR_CONSENT_REVOKED']) {
      expect(codes(code)).toEqual({ subjectCode: '8.1.1', reasonCode: '6.1' });
    }
    expect(codes('ERR_DEVICE_SUSPENDED')).toEqual({ subjectCode: '8.1', reasonCode: '3.8' });
  });

  it('never reports jose or token details to the caller', async () => {
    let thrown: unknown;
    try {
      await (await verifier()).verify((await sign({}, foreign.privateKey)).token, expectation());
    } catch (error) {
      thrown = error;
    }
    expect(toExecutionStatus(thrown, eid)).toEqual({
      status: 'Failed',
      statusCodeData: { subjectCode: '8.1.1', reasonCode: '6.1', subjectIdentifier: eid, message: 'Owner consent verification failed' },
    });
  });
});
