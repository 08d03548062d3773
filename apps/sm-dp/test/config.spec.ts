/** The SM-DP's configuration schema (apps/sm-dp/src/config.ts): defaults, development keys kept, refusals named. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTestPki, writeTestPki, type TestPki } from '@rsp/pki';
import { loadSmDpConfig, testPauseAtStep } from '../src/config';

let root: string;
let pkiDir: string;
let pki: TestPki;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rsp-sm-dp-config-'));
  pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  pkiDir = join(root, 'pki');
  writeTestPki(pki, pkiDir);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadSmDpConfig', () => {
  it('development: RSP_PKI_DIR for the certificates, SecretBox and MNO keys generated once and reused', () => {
    const env = { RSP_DATA_DIR: join(root, 'data'), RSP_PKI_DIR: pkiDir };
    const config = loadSmDpConfig(env);
    expect(config).toMatchObject({ smdpId: 'smdp.demo', http: { port: 8081, host: '127.0.0.1' }, database: { url: `sqlite://${join(root, 'data', 'sm-dp.db')}` } });
    expect(config.pki.certificate).toEqual(pki.smDp.cert);
    expect(config.pki.eumCertificates).toEqual([pki.eum.der]);
    expect(statSync(join(root, 'data', 'sm-dp-secret-box.key')).mode & 0o777).toBe(0o600);
    expect(loadSmDpConfig(env).secretBoxKeys).toBe(config.secretBoxKeys);
    expect(loadSmDpConfig(env).demoMno.apiKey).toBe(config.demoMno.apiKey);
  });

  it('attacker: an SM-DP key file swapped for another key is refused against CERT.DP.ECDSA', () => {
    const swapped = join(root, 'swapped.pem');
    copyFileSync(join(pkiDir, 'SK_SR_ECDSA_NIST.pem'), swapped);
    expect(() => loadSmDpConfig({ RSP_DATA_DIR: join(root, 'data'), RSP_PKI_DIR: pkiDir, RSP_SMDP_PRIVATE_KEY_FILE: swapped })).toThrow(
      /^RSP_SMDP_CERTIFICATE_FILE: .*CERT_DP_ECDSA_NIST\.bin does not certify the key of RSP_SMDP_PRIVATE_KEY_FILE$/,
    );
  });

  it.each([
    [{ RSP_SMDP_HTTP_PORT: 'http' }, /^RSP_SMDP_HTTP_PORT: expected a port number/],
    [{ RSP_DATABASE_URL: 'postgres://user:hunter2@' }, /^RSP_DATABASE_URL: expected sqlite:/],
    [{ RSP_OWNER_REGISTRY_URL: 'ftp://registry' }, /^RSP_OWNER_REGISTRY_URL: expected a URL \(http:/],
    [{ RSP_DEMO_MNO_API_KEY: 'short' }, /^RSP_DEMO_MNO_API_KEY: expected an API key of 16/],
  ])('%j is refused naming the setting, without its value', (env, expected) => {
    let message = '';
    try {
      loadSmDpConfig({ RSP_DATA_DIR: join(root, 'data'), RSP_PKI_DIR: pkiDir, ...env });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(expected);
    for (const value of Object.values(env)) expect(message).not.toContain(value);
  });

  it('a corrupt development SecretBox file stops the start naming it (and is not replaced)', () => {
    const dataDir = join(root, 'corrupt');
    loadSmDpConfig({ RSP_DATA_DIR: dataDir, RSP_PKI_DIR: pkiDir });
    writeFileSync(join(dataDir, 'sm-dp-secret-box.key'), 'k1:truncated');
    expect(() => loadSmDpConfig({ RSP_DATA_DIR: dataDir, RSP_PKI_DIR: pkiDir })).toThrow(`RSP_SECRET_BOX_KEYS: ${join(dataDir, 'sm-dp-secret-box.key')} (the development value`);
  });

  it('production: the SM-DP private key must be configured', () => {
    expect(() => loadSmDpConfig({ RSP_ENV: 'production', RSP_DATA_DIR: join(root, 'prod'), RSP_PKI_DIR: pkiDir })).toThrow(/^RSP_SMDP_PRIVATE_KEY_FILE is required in production/);
  });
});

describe('testPauseAtStep (the crash-recovery test hook)', () => {
  it('is off unless set, on in development, and refused in production with the setting named', () => {
    expect(testPauseAtStep({})).toBeUndefined();
    expect(testPauseAtStep({ RSP_TEST_PAUSE_AT_STEP: 'download' })).toBe('download');
    expect(testPauseAtStep({ RSP_ENV: 'production' })).toBeUndefined();
    expect(() => testPauseAtStep({ RSP_ENV: 'production', RSP_TEST_PAUSE_AT_STEP: 'download' })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID_SETTING', setting: 'RSP_TEST_PAUSE_AT_STEP' }),
    );
  });
});
