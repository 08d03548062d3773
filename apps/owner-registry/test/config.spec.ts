/**
 * The owner registry's configuration (apps/owner-registry/src/config.ts), and what it is for: a consent
 * minted before a restart still verifies after it, because the signing key comes from configuration
 * (development: generated once into the data directory) instead of being made at every start.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSENT_KEY_FILE, freshConsentKeys } from '@rsp/config';
import { ConsentVerifier, signConsent } from '@rsp/identity';
import { generateTestPki, writeTestPki } from '@rsp/pki';
import type { OwnerRegistryOptions } from '../src/app';
import { loadOwnerRegistryConfig, type OwnerRegistryConfig } from '../src/config';
import { call, registerOven, startFixture, tokenFor } from './support';

const REGISTRY_URL = 'https://registry.test';
let root: string;
let env: Record<string, string>;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rsp-registry-config-'));
  env = { RSP_DATA_DIR: join(root, 'data'), RSP_OWNER_REGISTRY_URL: REGISTRY_URL };
  // The data directories' test PKI (npm start makes it): development issues the registry's broker identity from it.
  const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  for (const dir of ['data', 'demo']) writeTestPki(pki, join(root, dir, 'pki', 'nist'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The test fixture (dev IdP, broker, stub ES2 servers) with what the configuration decides: database and consent keys. */
const fromConfig = (config: OwnerRegistryConfig): Partial<OwnerRegistryOptions> => ({
  registryUrl: config.registryUrl ?? REGISTRY_URL,
  databaseUrl: config.database.url,
  consentSigningKey: config.consentKeys.signingKey,
  consentPreviousPublicKeys: config.consentKeys.previousPublicKeys,
});

describe('owner registry restart on the same data directory', () => {
  it('a consent minted before the restart verifies after it; a forged one under the same kid does not', async () => {
    const config = loadOwnerRegistryConfig(env);
    expect(statSync(join(root, 'data', CONSENT_KEY_FILE)).mode & 0o777).toBe(0o600);
    let fixture = await startFixture(fromConfig(config));
    let consent: string;
    let eid: string;
    try {
      const oven = await registerOven(fixture.registry);
      eid = oven.eid;
      const alice = await tokenFor(fixture.idp, 'alice');
      expect((await call(fixture.registry, 'POST', '/devices/claim', { token: alice, body: { deviceUrl: oven.deviceUrl, claimCode: oven.claimCode } })).status).toBe(201);
      const minted = await call(fixture.registry, 'POST', `/devices/${eid}/consents`, { token: alice, body: { mnoId: 'mno.a', operations: ['EnableProfile'], expiresInSeconds: 600 } });
      expect(minted.status).toBe(201);
      consent = minted.body.consent as string;
    } finally {
      await fixture.close();
    }

    // Restart: the configuration is loaded again from the same environment and data directory.
    const reloaded = loadOwnerRegistryConfig(env);
    expect(reloaded.consentKeys.signingKey.kid).toBe(config.consentKeys.signingKey.kid);
    fixture = await startFixture(fromConfig(reloaded));
    try {
      const verifier = new ConsentVerifier({ issuer: REGISTRY_URL, jwks: fixture.registry.jwksUrl });
      const expected = { eid, mnoId: 'mno.a', operation: 'EnableProfile' } as const;
      await expect(verifier.verify(consent, expected)).resolves.toMatchObject({ sub: eid, mno: 'mno.a', ops: ['EnableProfile'] });
      // The attacker signs with a key of their own under the registry's kid: refused.
      const attacker = freshConsentKeys().signingKey;
      const forged = await signConsent(
        { issuer: REGISTRY_URL, eid, mnoId: 'mno.a', operations: ['EnableProfile'], epoch: 0, expiresInSeconds: 600 },
        { privateKey: attacker.privateKey, kid: config.consentKeys.signingKey.kid },
      );
      await expect(verifier.verify(forged.token, expected)).rejects.toMatchObject({ code: 'ERR_CONSENT_INVALID' });
    } finally {
      await fixture.close();
    }
  });
});

describe('loadOwnerRegistryConfig', () => {
  it('development: the demo maker and MNO keys are generated once into files (the keys are never in a notice)', () => {
    const dataDir = join(root, 'demo');
    const config = loadOwnerRegistryConfig({ RSP_DATA_DIR: dataDir });
    expect(config.identity).toEqual({ kind: 'dev-idp', port: 8085 });
    expect(config.apiKeyFiles).toEqual([
      { clientId: 'oven-maker', file: join(dataDir, 'demo-maker-api-key') },
      { clientId: 'mno.demo', file: join(dataDir, 'demo-mno-api-key') },
    ]);
    expect(readFileSync(join(dataDir, 'demo-maker-api-key'), 'utf8').trim()).toBe(config.makers[0]?.apiKey);
    const notices = config.notices.join('\n');
    for (const key of [config.makers[0]?.apiKey, config.mnos[0]?.apiKey]) expect(notices).not.toContain(key);
    expect(loadOwnerRegistryConfig({ RSP_DATA_DIR: dataDir }).mnos[0]?.apiKey).toBe(config.mnos[0]?.apiKey);
  });

  it('production: no development IdP, no generated key', () => {
    const base = { RSP_ENV: 'production', RSP_DATA_DIR: join(root, 'prod') };
    expect(() => loadOwnerRegistryConfig(base)).toThrow(/^RSP_OIDC_ISSUERS is required in production/);
    const issuers = { RSP_OIDC_ISSUERS: JSON.stringify([{ issuer: 'https://idp.example', audience: 'portal' }]) };
    expect(() => loadOwnerRegistryConfig({ ...base, ...issuers })).toThrow(/^RSP_DEMO_MAKER_API_KEY is required in production/);
    const clients = {
      RSP_MAKERS: JSON.stringify([{ makerId: 'acme', makerDomain: 'acme.example', apiKey: 'acme-maker-key-0123456' }]),
      RSP_MNOS: JSON.stringify([{ mnoId: 'mno.x', apiKey: 'mno-x-api-key-0123456' }]),
    };
    expect(() => loadOwnerRegistryConfig({ ...base, ...issuers, ...clients })).toThrow(/^RSP_CONSENT_SIGNING_KEY_FILE is required in production/);
    expect(() => statSync(join(root, 'prod'))).toThrow();
  });

  it.each([
    [{ RSP_OWNER_REGISTRY_HTTP_PORT: '8o84' }, 'RSP_OWNER_REGISTRY_HTTP_PORT: expected a port number'],
    [{ RSP_OWNER_REGISTRY_URL: 'registry.example' }, 'RSP_OWNER_REGISTRY_URL: expected a URL'],
    [{ RSP_OIDC_ISSUERS: '[{"issuer":"not a url","audience":"portal"}]' }, 'RSP_OIDC_ISSUERS[0].issuer: expected an http(s) URL'],
    [{ RSP_MAKERS: '[{"makerId":"acme","makerDomain":"acme.example","apiKey":"sk-secret"}]' }, 'RSP_MAKERS[0].apiKey: expected an API key'],
    [{ RSP_MNOS: '{"mnoId":"mno.x","apiKey":"sk-secret-0123456789"' }, 'RSP_MNOS: expected JSON'],
    [{ RSP_CONSENT_SIGNING_KEY_FILE: '/nonexistent/consent.pem' }, 'RSP_CONSENT_SIGNING_KEY_FILE: /nonexistent/consent.pem cannot be read (ENOENT)'],
  ])('%j is refused naming the setting, never quoting a key', (settings, expected) => {
    let message = '';
    try {
      loadOwnerRegistryConfig({ RSP_DATA_DIR: join(root, 'refused'), ...settings });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(expected);
    expect(message).not.toContain('sk-secret');
  });
});
