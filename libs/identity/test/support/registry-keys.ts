/**
 * A stand-in for the owner registry's consent key in tests: a P-256 key with its kid, its JWKS, and a
 * signer of status documents with a per-test version counter.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { exportJWK, type JSONWebKeySet, type JWK } from 'jose';
import { signDeviceStatus, type DeviceStatus, type VersionedDeviceStatus } from '../../src';

export const REGISTRY_ISSUER = 'https://registry.test';

export interface RegistryKey {
  kid: string;
  privateKey: KeyObject;
  jwk: JWK;
  jwks: JSONWebKeySet;
}

export async function registryKey(kid: string): Promise<RegistryKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { kid, privateKey, jwk, jwks: { keys: [jwk] } };
}

/** A status document of `eid`: owned, Active, epoch 1, unless overridden. */
export const statusOf = (eid: string, version: number, over: Partial<DeviceStatus> = {}): VersionedDeviceStatus => ({
  eid,
  owned: true,
  status: 'Active',
  consentEpoch: 1,
  revokedConsents: [],
  updatedAt: '2030-01-01T00:00:00.000Z',
  version,
  ...over,
});

export const signStatus = (status: VersionedDeviceStatus, key: RegistryKey, issuer = REGISTRY_ISSUER): Promise<string> =>
  signDeviceStatus(status, { issuer, key: { privateKey: key.privateKey, kid: key.kid } });
