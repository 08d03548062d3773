/**
 * The signed device status document (docs/owner-registry.md "Device status"): what the registry signs,
 * and every forgery the services must refuse, each with its code.
 */
import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { SignJWT, UnsecuredJWT, createLocalJWKSet, jwtVerify } from 'jose';
import { generateEid } from '@rsp/pki';
import { DEVICE_STATUS_TYPE, DeviceStatusVerifier, signConsent, signDeviceStatus } from '../src';
import { REGISTRY_ISSUER, registryKey, signStatus, statusOf, type RegistryKey } from './support/registry-keys';

const eid = generateEid('89049032', 301);
const otherEid = generateEid('89049032', 302);
const current = await registryKey('consent-2');
const previous = await registryKey('consent-1');
const foreign = await registryKey('consent-2'); // an attacker's key under the registry's kid

const verifier = (keys: RegistryKey[] = [current]) => new DeviceStatusVerifier({ issuer: REGISTRY_ISSUER, jwks: { keys: keys.map((key) => key.jwk) } });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'no error';
}

/** A JWS signed by `key` with any header and claims (what a forger with some key can make). */
async function forge(claims: Record<string, unknown>, key: RegistryKey = current, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: DEVICE_STATUS_TYPE, ...header }).sign(key.privateKey);
}
const claimsOf = (version: number, over: Record<string, unknown> = {}) => {
  const { eid: sub, ...status } = statusOf(eid, version);
  return { ...status, sub, iss: REGISTRY_ISSUER, iat: 1_900_000_000, ...over };
};

describe('signDeviceStatus', () => {
  it('signs an ES256 rsp-device-status+jwt with the current kid: iss, sub = EID, iat, version and the status members', async () => {
    const token = await signDeviceStatus(statusOf(eid, 7, { revokedConsents: ['jti-1'], recentlyTransferredAt: '2030-01-01T00:00:00.000Z' }), {
      issuer: REGISTRY_ISSUER,
      key: { privateKey: current.privateKey, kid: current.kid },
      now: new Date('2030-01-02T00:00:00Z'),
    });
    const [header, payload] = token.split('.') as [string, string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'ES256', kid: 'consent-2', typ: 'rsp-device-status+jwt' });
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toEqual({
      iss: REGISTRY_ISSUER,
      sub: eid,
      iat: Date.parse('2030-01-02T00:00:00Z') / 1000,
      version: 7,
      owned: true,
      status: 'Active',
      consentEpoch: 1,
      revokedConsents: ['jti-1'],
      recentlyTransferredAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2030-01-01T00:00:00.000Z',
    });
    expect(await verifier().verify(token, eid)).toEqual(statusOf(eid, 7, { revokedConsents: ['jti-1'], recentlyTransferredAt: '2030-01-01T00:00:00.000Z' }));
    expect(await verifier().verify(Buffer.from(token), eid)).toMatchObject({ version: 7 }); // MQTT payload bytes
  });

  it('is an RFC 7515 compact JWS jose verifies as it is (ES256, R || S), from a KeyObject or a CryptoKey; a key other than P-256 is refused', async () => {
    const status = statusOf(eid, 3);
    const fromCryptoKey = await signDeviceStatus(status, {
      issuer: REGISTRY_ISSUER,
      key: {
        privateKey: await webcrypto.subtle.importKey('pkcs8', current.privateKey.export({ format: 'der', type: 'pkcs8' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']),
        kid: current.kid,
      },
    });
    for (const token of [await signStatus(status, current), fromCryptoKey]) {
      expect(Buffer.from(token.split('.')[2] as string, 'base64url')).toHaveLength(64);
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(current.jwks), { algorithms: ['ES256'], typ: DEVICE_STATUS_TYPE, issuer: REGISTRY_ISSUER });
      expect(protectedHeader).toEqual({ alg: 'ES256', kid: current.kid, typ: DEVICE_STATUS_TYPE });
      expect(payload).toMatchObject({ sub: eid, version: 3 });
    }
    for (const privateKey of [generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey, generateKeyPairSync('ed25519').privateKey, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey]) {
      await expect(signDeviceStatus(status, { issuer: REGISTRY_ISSUER, key: { privateKey, kid: current.kid } })).rejects.toThrow('P-256 private key');
    }
  });

  it('refuses to sign a malformed status', async () => {
    expect(await failure(signStatus(statusOf('89', 1), current))).toBe('ERR_DEVICE_STATUS_INVALID');
    expect(await failure(signStatus(statusOf(eid, -1), current))).toBe('ERR_DEVICE_STATUS_INVALID');
    expect(await failure(signStatus(statusOf(eid, 1.5), current))).toBe('ERR_DEVICE_STATUS_INVALID');
  });
});

describe('DeviceStatusVerifier: the forger’s documents', () => {
  it('an empty payload (a cleared retained message) → ERR_DEVICE_STATUS_EMPTY', async () => {
    expect(await failure(verifier().verify('', eid))).toBe('ERR_DEVICE_STATUS_EMPTY');
    expect(await failure(verifier().verify(Buffer.alloc(0), eid))).toBe('ERR_DEVICE_STATUS_EMPTY');
  });

  it('unsigned: the plain JSON status of the old format (owned false, updatedAt 2099), alg none, garbage → ERR_DEVICE_STATUS_UNSIGNED', async () => {
    const forged = JSON.stringify({ eid, owned: false, status: 'Active', consentEpoch: 0, revokedConsents: [], updatedAt: '2099-01-01T00:00:00Z' });
    expect(await failure(verifier().verify(forged, eid))).toBe('ERR_DEVICE_STATUS_UNSIGNED');
    const none = new UnsecuredJWT(claimsOf(99, { owned: false })).encode(); // `header.payload.` (empty signature)
    expect(await failure(verifier().verify(none, eid))).toBe('ERR_DEVICE_STATUS_UNSIGNED');
    expect(await failure(verifier().verify('a.b', eid))).toBe('ERR_DEVICE_STATUS_UNSIGNED');
    expect(await failure(verifier().verify(`${'A'.repeat(4 * 1024 * 1024)}.b.c`, eid))).toBe('ERR_DEVICE_STATUS_UNSIGNED');
  });

  it('signed with another key (same kid), an unknown kid, alg none / HS256 headers → ERR_DEVICE_STATUS_SIGNATURE_INVALID', async () => {
    expect(await failure(verifier().verify(await signStatus(statusOf(eid, 99, { owned: false }), foreign), eid))).toBe('ERR_DEVICE_STATUS_SIGNATURE_INVALID');
    const stranger = await registryKey('consent-9');
    expect(await failure(verifier().verify(await signStatus(statusOf(eid, 99, { owned: false }), stranger), eid))).toBe('ERR_DEVICE_STATUS_SIGNATURE_INVALID');
    const genuine = await signStatus(statusOf(eid, 1), current);
    const [, payload, signature] = genuine.split('.') as [string, string, string];
    for (const alg of ['none', 'HS256', 'ES384']) {
      expect(await failure(verifier().verify(`${b64({ alg, kid: current.kid, typ: DEVICE_STATUS_TYPE })}.${payload}.${signature}`, eid))).toBe('ERR_DEVICE_STATUS_SIGNATURE_INVALID');
    }
    // One payload bit flipped under the genuine signature (owned true → false).
    const flipped = b64({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), owned: false });
    expect(await failure(verifier().verify(`${genuine.split('.')[0]}.${flipped}.${signature}`, eid))).toBe('ERR_DEVICE_STATUS_SIGNATURE_INVALID');
  });

  it('made with the registry key but not a status: a consent (typ rsp-consent+jwt), no typ, another iss → ERR_DEVICE_STATUS_SIGNATURE_INVALID', async () => {
    const consent = await signConsent({ issuer: REGISTRY_ISSUER, eid, mnoId: 'mno.a', operations: ['DownloadProfile'], epoch: 1, expiresInSeconds: 60 }, current);
    expect(await failure(verifier().verify(consent.token, eid))).toBe('ERR_DEVICE_STATUS_SIGNATURE_INVALID');
    expect(await failure(verifier().verify(await forge(claimsOf(2), current, { typ: undefined }), eid))).toBe('ERR_DEVICE_STATUS_SIGNATURE_INVALID');
    expect(await failure(verifier().verify(await signStatus(statusOf(eid, 2), current, 'https://evil.test'), eid))).toBe('ERR_DEVICE_STATUS_SIGNATURE_INVALID');
  });

  it('genuine, but about another EID than the topic / the request → ERR_DEVICE_STATUS_EID_MISMATCH', async () => {
    const unownedNeighbour = await signStatus(statusOf(otherEid, 50, { owned: false }), current);
    expect(await failure(verifier().verify(unownedNeighbour, eid))).toBe('ERR_DEVICE_STATUS_EID_MISMATCH');
  });

  it('genuine signature over malformed members → ERR_DEVICE_STATUS_INVALID', async () => {
    expect(await failure(verifier().verify(await forge(claimsOf(2, { version: undefined })), eid))).toBe('ERR_DEVICE_STATUS_INVALID');
    expect(await failure(verifier().verify(await forge(claimsOf(2, { version: '3' })), eid))).toBe('ERR_DEVICE_STATUS_INVALID');
    expect(await failure(verifier().verify(await forge(claimsOf(2, { owned: 'no' })), eid))).toBe('ERR_DEVICE_STATUS_INVALID');
    expect(await failure(verifier().verify(await forge(claimsOf(2, { sub: '1234' })), eid))).toBe('ERR_DEVICE_STATUS_INVALID');
  });
});

describe('DeviceStatusVerifier: keys', () => {
  it('rotation: with two keys in the JWKS, a status signed with the new kid (and one with the old) verifies', async () => {
    const both = verifier([previous, current]);
    expect(await both.verify(await signStatus(statusOf(eid, 3), current), eid)).toMatchObject({ version: 3 });
    expect(await both.verify(await signStatus(statusOf(eid, 2), previous), eid)).toMatchObject({ version: 2 });
    // The old key alone does not know the new kid.
    expect(await failure(verifier([previous]).verify(await signStatus(statusOf(eid, 3), current), eid))).toBe('ERR_DEVICE_STATUS_SIGNATURE_INVALID');
  });

  it('a JWKS URL that cannot be fetched → ERR_DEVICE_STATUS_KEYS_UNAVAILABLE', async () => {
    const remote = new DeviceStatusVerifier({ issuer: REGISTRY_ISSUER, jwks: 'http://127.0.0.1:9/.well-known/jwks.json' });
    expect(await failure(remote.verify(await signStatus(statusOf(eid, 1), current), eid))).toBe('ERR_DEVICE_STATUS_KEYS_UNAVAILABLE');
  });
});
