/** The SM-SR's configuration schema (apps/sm-sr/src/config.ts): defaults, development keys kept, refusals named. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTestPki, writeTestPki, type TestPki } from '@rsp/pki';
import { loadSmSrConfig } from '../src/config';

let root: string;
let pki: TestPki;
const SECRET_BOX = `k1:${Buffer.alloc(32, 3).toString('base64')}`;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rsp-sm-sr-config-'));
  pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  writeTestPki(pki, join(root, 'data', 'pki', 'nist'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadSmSrConfig', () => {
  it('development defaults: test PKI of the data directory, keys generated once and reused', () => {
    const env = { RSP_DATA_DIR: join(root, 'data') };
    const config = loadSmSrConfig(env);
    expect(config).toMatchObject({
      mode: 'development',
      smsrId: 'smsr.demo',
      http: { port: 8082, host: '127.0.0.1' },
      mqtt: { url: 'mqtts://127.0.0.1:8883', protocolVersion: 4, credentials: { principal: 'smsr.demo' } },
      database: { url: `sqlite://${join(root, 'data', 'sm-sr.db')}` },
      demoMno: { mnoId: 'mno.demo', apiKeyFile: join(root, 'data', 'demo-mno-api-key') },
    });
    expect(config.pki.ciCertificate).toEqual(pki.ci.der);
    expect(config.pki.isdRHandover?.certificate).toEqual(pki.smSr.cert);
    expect(statSync(join(root, 'data', 'sm-sr.secret-box-keys')).mode & 0o777).toBe(0o600);
    expect(config.notices.join('\n')).toMatch(/generated once into .*sm-sr\.secret-box-keys/);
    expect(config.notices.join('\n')).not.toContain(config.demoMno.apiKey);
    const again = loadSmSrConfig(env);
    expect(again.secretBoxKeys).toBe(config.secretBoxKeys);
    // The broker identity is issued once into {data}/mqtt and read back, never re-issued.
    expect(again.mqtt.credentials.cert).toBe(config.mqtt.credentials.cert);
    expect(statSync(join(root, 'data', 'mqtt', 'smsr.demo.key')).mode & 0o777).toBe(0o600);
    expect(again.demoMno.apiKey).toBe(config.demoMno.apiKey);
    expect(readFileSync(join(root, 'data', 'demo-mno-api-key'), 'utf8').trim()).toBe(config.demoMno.apiKey);
  });

  it('settings win; the handover off needs no SM-SR certificate; the owner registry JWKS defaults', () => {
    const config = loadSmSrConfig({
      RSP_DATA_DIR: join(root, 'data'),
      RSP_SMSR_ID: 'smsr.b',
      RSP_SMSR_HTTP_PORT: '0',
      RSP_MQTT_URL: 'mqtts://broker.example:8883',
      RSP_MQTT_PROTOCOL_VERSION: '5',
      RSP_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      RSP_DATABASE_SCHEMA: 'sm_sr_b',
      RSP_DATABASE_PREPARED_STATEMENTS: 'no',
      RSP_SECRET_BOX_KEYS: SECRET_BOX,
      RSP_DEMO_MNO_API_KEY: 'configured-mno-key-0123',
      RSP_SMSR_ISD_R_HANDOVER: '0',
      RSP_SMSR_CERTIFICATE_FILE: join(root, 'absent.bin'),
      RSP_OWNER_REGISTRY_URL: 'https://registry.example/',
    });
    expect(config).toMatchObject({
      smsrId: 'smsr.b',
      http: { port: 0 },
      mqtt: { url: 'mqtts://broker.example:8883', protocolVersion: 5 },
      database: { url: 'postgres://postgres@127.0.0.1:5432/test', schema: 'sm_sr_b', preparedStatements: false },
      secretBoxKeys: SECRET_BOX,
      demoMno: { apiKey: 'configured-mno-key-0123' },
      ownerRegistry: { issuer: 'https://registry.example', jwks: 'https://registry.example/.well-known/jwks.json' },
      notices: [expect.stringMatching(/^broker identity smsr\.b: .*smsr\.b\.crt$/)],
    });
    expect(config.demoMno.apiKeyFile).toBeUndefined();
    expect(config.pki.isdRHandover).toBeUndefined();
  });

  it.each([
    [{ RSP_SMSR_HTTP_PORT: '99999' }, 'RSP_SMSR_HTTP_PORT: expected a port number'],
    [{ RSP_MQTT_URL: 'http://127.0.0.1:1883' }, 'RSP_MQTT_URL: expected a URL (mqtt://'],
    [{ RSP_MQTT_PROTOCOL_VERSION: '3' }, 'RSP_MQTT_PROTOCOL_VERSION: expected one of 4 | 5'],
    [{ RSP_DATABASE_PREPARED_STATEMENTS: 'sometimes' }, 'RSP_DATABASE_PREPARED_STATEMENTS: expected 1 or 0'],
    [{ RSP_SECRET_BOX_KEYS: 'dev:c2hvcnQ=' }, 'RSP_SECRET_BOX_KEYS: expected id:base64key'],
    [{ RSP_SMSR_ID: 'smsr/+/#' }, 'RSP_SMSR_ID: expected an id'],
    [{ RSP_OWNER_REGISTRY_JWKS_URL: 'https://registry.example/jwks' }, 'RSP_OWNER_REGISTRY_URL: expected the registry URL'],
    [{ RSP_SMSR_PRIVATE_KEY_FILE: '/nonexistent/sk.pem' }, 'RSP_SMSR_PRIVATE_KEY_FILE: /nonexistent/sk.pem cannot be read (ENOENT)'],
  ])('%j is refused naming the setting', (env, expected) => {
    expect(() => loadSmSrConfig({ RSP_DATA_DIR: join(root, 'data'), ...env })).toThrow(expected);
  });

  it('production: each missing key or file stops the start with its setting, the test PKI is not used', () => {
    const base = { RSP_ENV: 'production', RSP_DATA_DIR: join(root, 'prod') };
    const files = {
      RSP_CI_CERTIFICATE_FILE: join(root, 'data', 'pki', 'nist', 'CERT_CI_ECDSA_NIST.der'),
      RSP_EUM_CERTIFICATE_FILE: join(root, 'data', 'pki', 'nist', 'CERT_EUM_ECDSA_NIST.der'),
      RSP_SMSR_CERTIFICATE_FILE: join(root, 'data', 'pki', 'nist', 'CERT_SR_ECDSA_NIST.bin'),
      RSP_SMSR_PRIVATE_KEY_FILE: join(root, 'data', 'pki', 'nist', 'SK_SR_ECDSA_NIST.pem'),
    };
    expect(() => loadSmSrConfig(base)).toThrow(/^RSP_SMSR_PRIVATE_KEY_FILE is required in production/);
    expect(() => loadSmSrConfig({ ...base, ...files })).toThrow(/^RSP_SECRET_BOX_KEYS is required in production/);
    expect(() => loadSmSrConfig({ ...base, ...files, RSP_SECRET_BOX_KEYS: SECRET_BOX })).toThrow(/^RSP_DEMO_MNO_API_KEY is required in production/);
    const keys = { ...base, ...files, RSP_SECRET_BOX_KEYS: SECRET_BOX, RSP_DEMO_MNO_API_KEY: 'production-mno-key-0123' };
    expect(() => loadSmSrConfig(keys)).toThrow(/^RSP_MQTT_CERT_FILE is required in production/);
    // The broker identity the first test issued in development, now given as files.
    const mqttDir = join(root, 'data', 'mqtt');
    const identity = { RSP_MQTT_CA_FILE: join(mqttDir, 'ca.pem'), RSP_MQTT_CERT_FILE: join(mqttDir, 'smsr.demo.crt'), RSP_MQTT_KEY_FILE: join(mqttDir, 'smsr.demo.key') };
    expect(() => loadSmSrConfig({ ...keys, RSP_MQTT_CERT_FILE: identity.RSP_MQTT_CERT_FILE })).toThrow(/RSP_MQTT_CA_FILE: expected a PEM file/);
    expect(() => loadSmSrConfig({ ...keys, ...identity, RSP_MQTT_KEY_FILE: files.RSP_SMSR_PRIVATE_KEY_FILE })).toThrow(/^RSP_MQTT_KEY_FILE: .* does not match RSP_MQTT_CERT_FILE/);
    const config = loadSmSrConfig({ ...keys, ...identity });
    expect(config).toMatchObject({ mode: 'production', notices: [], mqtt: { credentials: { principal: 'smsr.demo' } } });
    expect(() => statSync(join(root, 'prod'))).toThrow(); // nothing generated
  });
});
