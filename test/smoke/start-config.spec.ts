/**
 * `npm start`'s configuration (scripts/start-config.ts), composed from the apps' schemas, and what it is
 * for: the whole stack restarted on the same data directory keeps its consent-signing key, so a consent
 * minted before the restart is still accepted after it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSENT_KEY_FILE } from '@rsp/config';
import { ConsentVerifier } from '@rsp/identity';
import { generateEid, generateTestPki, type TestPki } from '@rsp/pki';
import { OWNER_PORTAL_CLIENT_ID } from '../../apps/owner-registry/src/dev-idp/dev-idp';
import { loadStackConfig, type StackConfig } from '../../scripts/start-config';
import { startStack, type Stack } from '../../scripts/stack';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rsp-stack-config-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const refusal = (env: Record<string, string>): string => {
  try {
    loadStackConfig({ RSP_DATA_DIR: join(root, 'refused'), ...env });
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
};

describe('loadStackConfig', () => {
  it("uses the apps' settings and checks: the same names, defaults and refusals", () => {
    const config = loadStackConfig({ RSP_DATA_DIR: join(root, 'defaults') });
    expect(config).toMatchObject({
      mode: 'development',
      mqtt: { url: undefined, protocolVersion: 4, embedded: { port: 8883, host: '127.0.0.1' } },
      database: { kind: 'sqlite', dir: join(root, 'defaults') },
      ids: { smsrId: 'smsr.demo', smdpId: 'smdp.demo' },
      ports: { smdp: 8081, smsr: 8082, simApi: 8083, registry: 8084, devIdp: 8085 },
      registryUrl: 'http://127.0.0.1:8084',
    });
    for (const file of ['secret-box-keys', 'demo-mno-api-key', 'demo-maker-api-key', CONSENT_KEY_FILE]) {
      expect(statSync(join(root, 'defaults', file)).mode & 0o777).toBe(0o600);
    }
    const again = loadStackConfig({ RSP_DATA_DIR: join(root, 'defaults') });
    expect(again.secretBoxKeys).toBe(config.secretBoxKeys);
    expect(again.consentKeys.signingKey.kid).toBe(config.consentKeys.signingKey.kid);
    expect(refusal({ RSP_SMSR_HTTP_PORT: '80800' })).toMatch(/^RSP_SMSR_HTTP_PORT: expected a port number/);
    expect(refusal({ RSP_SIM_API_PORT: 'abc' })).toMatch(/^RSP_SIM_API_PORT: expected a port number/);
    expect(refusal({ RSP_MQTT_URL: 'localhost:1883' })).toMatch(/^RSP_MQTT_URL: expected a URL \(mqtt:/);
    expect(refusal({ RSP_DATABASE_URL: 'sqlite:///tmp/x.db' })).toMatch(/^RSP_DATABASE_URL: expected a URL \(postgres:/);
    expect(refusal({ RSP_DATABASE_PREPARED_STATEMENTS: 'maybe' })).toMatch(/^RSP_DATABASE_PREPARED_STATEMENTS: expected 1 or 0/);
    const postgres = { RSP_DATA_DIR: join(root, 'defaults'), RSP_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' };
    expect(loadStackConfig(postgres).database).toEqual({ kind: 'postgres', url: postgres.RSP_DATABASE_URL });
    expect(loadStackConfig({ ...postgres, RSP_DATABASE_PREPARED_STATEMENTS: '0' }).database).toEqual({ kind: 'postgres', url: postgres.RSP_DATABASE_URL, preparedStatements: false });
    expect(refusal({ RSP_SECRET_BOX_KEYS: 'k1:AAAA' })).toMatch(/^RSP_SECRET_BOX_KEYS: expected id:base64key/);
  });

  it('production: a missing key stops the start with its setting; nothing is generated', () => {
    const prod = { RSP_ENV: 'production', RSP_DATA_DIR: join(root, 'prod') };
    expect(refusal(prod)).toMatch(/^RSP_SECRET_BOX_KEYS is required in production/);
    const keys = { RSP_SECRET_BOX_KEYS: `k1:${Buffer.alloc(32, 5).toString('base64')}`, RSP_DEMO_MNO_API_KEY: 'prod-mno-key-0123456', RSP_DEMO_MAKER_API_KEY: 'prod-maker-key-0123456' };
    expect(refusal({ ...prod, ...keys })).toMatch(/^RSP_CONSENT_SIGNING_KEY_FILE is required in production/);
    expect(() => statSync(join(root, 'prod'))).toThrow();
  });

  it('a corrupt persisted consent key stops the start naming the file (never a new key)', () => {
    const dataDir = join(root, 'corrupt');
    loadStackConfig({ RSP_DATA_DIR: dataDir });
    writeFileSync(join(dataDir, CONSENT_KEY_FILE), 'not a key\n');
    expect(refusal({ RSP_DATA_DIR: dataDir })).toBe(`RSP_CONSENT_SIGNING_KEY_FILE: ${join(dataDir, CONSENT_KEY_FILE)} is not a PEM private key`);
  });
});

describe('startStack restarted on the same data directory', () => {
  let pki: TestPki;

  beforeAll(() => {
    pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  });

  const start = (config: StackConfig): Promise<Stack> =>
    startStack({
      pki,
      ids: { smsrId: 'smsr.restart', smdpId: 'smdp.restart' },
      mqttPort: 0,
      database: config.database,
      mnos: [{ mnoId: 'mno.demo', apiKey: config.demoMno.apiKey }],
      secretBoxKeys: config.secretBoxKeys,
      owners: {
        registryUrl: config.registryUrl,
        registryHttpPort: 0,
        idpPort: 0,
        makers: [{ makerId: 'oven-maker', makerDomain: 'oven-maker.example', apiKey: config.demoMaker.apiKey }],
        consentKeys: config.consentKeys,
      },
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
    });

  it('a consent minted by the registry before the restart still verifies after it', async () => {
    const env = { RSP_DATA_DIR: join(root, 'stack'), RSP_OWNER_REGISTRY_HTTP_PORT: '0' };
    const eid = generateEid('89049032', 777_000_001);
    let stack = await start(loadStackConfig(env));
    let consent = '';
    try {
      const registry = stack.registry?.httpUrl ?? '';
      const maker = { 'content-type': 'application/json', 'x-api-key': loadStackConfig(env).demoMaker.apiKey };
      const registered = await fetch(`${registry}/makers/devices`, { method: 'POST', headers: maker, body: JSON.stringify({ eid, deviceId: `oven-${eid.slice(-8)}`, model: 'oven', claimCode: 'CLAIM-STACK-1' }) });
      expect(registered.status).toBe(201);
      const { deviceUrl } = (await registered.json()) as { deviceUrl: string };
      const token = await stack.idp?.issueIdToken({ sub: 'alice', aud: OWNER_PORTAL_CLIENT_ID, authTime: Math.floor(Date.now() / 1000), amr: ['pwd'] });
      const owner = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
      expect((await fetch(`${registry}/devices/claim`, { method: 'POST', headers: owner, body: JSON.stringify({ deviceUrl, claimCode: 'CLAIM-STACK-1' }) })).status).toBe(201);
      const minted = await fetch(`${registry}/devices/${eid}/consents`, { method: 'POST', headers: owner, body: JSON.stringify({ mnoId: 'mno.demo', operations: ['EnableProfile'] }) });
      expect(minted.status).toBe(201);
      consent = ((await minted.json()) as { consent: string }).consent;
    } finally {
      await stack.close();
    }

    stack = await start(loadStackConfig(env));
    try {
      const verifier = new ConsentVerifier({ issuer: 'https://owner-registry.rsp.invalid', jwks: `${stack.registry?.httpUrl}/.well-known/jwks.json` });
      await expect(verifier.verify(consent, { eid, mnoId: 'mno.demo', operation: 'EnableProfile' })).resolves.toMatchObject({ sub: eid, mno: 'mno.demo' });
    } finally {
      await stack.close();
    }
  }, 60_000);
});
