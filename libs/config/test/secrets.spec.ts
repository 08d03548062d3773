/**
 * Development secrets are generated ONCE into the data directory (mode 600) and reused; production never
 * generates; an existing file that is unreadable or invalid is an error naming it and stays untouched
 * (a new key would orphan everything sealed with the old one).
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBox } from '@rsp/persistence';
import { apiKeyFrom, ConfigError, persistedKeyFile, secretBoxKeysFrom, secretNotice, type SecretSource } from '@rsp/config';

let dataDir: string;
const development = (): SecretSource => ({ mode: 'development', dataDir });
const production = (): SecretSource => ({ mode: 'production', dataDir });

beforeEach(() => {
  dataDir = join(mkdtempSync(join(tmpdir(), 'rsp-config-')), 'data');
});
afterEach(() => rmSync(join(dataDir, '..'), { recursive: true, force: true }));

describe('development secrets', () => {
  it('are generated once (mode 600) and the same value is read on the next load', () => {
    const first = secretBoxKeysFrom(development(), undefined, 'box-keys');
    expect(first.origin).toBe('generated');
    expect(first.file).toBe(join(dataDir, 'box-keys'));
    expect(statSync(join(dataDir, 'box-keys')).mode & 0o777).toBe(0o600);
    expect(SecretBox.fromConfig(first.value).currentKeyId).toBe('k1');
    const second = secretBoxKeysFrom(development(), undefined, 'box-keys');
    expect(second).toEqual({ value: first.value, origin: 'file', file: first.file });
    // The start-up line names the file, never the value.
    const notice = secretNotice('RSP_SECRET_BOX_KEYS', first) ?? '';
    expect(notice).toContain(join(dataDir, 'box-keys'));
    expect(notice).not.toContain(first.value.slice(3, 20));
  });

  it('a configured value wins and nothing is written', () => {
    const key = `k9:${Buffer.alloc(32, 9).toString('base64')}`;
    expect(secretBoxKeysFrom(development(), key, 'box-keys')).toEqual({ value: key, origin: 'setting' });
    expect(() => statSync(join(dataDir, 'box-keys'))).toThrow();
    expect(secretNotice('RSP_SECRET_BOX_KEYS', { origin: 'setting' })).toBeUndefined();
  });

  it('a corrupt persisted key is an error naming setting and file; the file is left untouched', () => {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'box-keys');
    const corrupt = 'k1:not-base64-at-all-and-certainly-not-32-bytes\n';
    writeFileSync(file, corrupt, { mode: 0o600 });
    let error: unknown;
    try {
      secretBoxKeysFrom(development(), undefined, 'box-keys');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError.KeyFile);
    expect(error).toMatchObject({ code: 'ERR_CONFIG_KEY_FILE', setting: 'RSP_SECRET_BOX_KEYS', file });
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/never regenerated/);
    expect((error as Error).message).not.toContain('not-base64');
    expect(readFileSync(file, 'utf8')).toBe(corrupt);
  });

  it('an unreadable persisted key is an error naming the file, not a reason to make a new one', () => {
    // A directory where the key file should be: unreadable even for root (chmod 000 is not).
    mkdirSync(join(dataDir, 'demo-mno-api-key'), { recursive: true });
    expect(() => apiKeyFrom(development(), 'RSP_DEMO_MNO_API_KEY', undefined, 'demo-mno-api-key')).toThrow(
      new ConfigError.KeyFile('RSP_DEMO_MNO_API_KEY', join(dataDir, 'demo-mno-api-key'), 'cannot be read (EISDIR)'),
    );
    expect(statSync(join(dataDir, 'demo-mno-api-key')).isDirectory()).toBe(true);
  });

  it('an empty persisted file is invalid too (never silently refilled)', () => {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'demo-mno-api-key'), '');
    expect(() => apiKeyFrom(development(), 'RSP_DEMO_MNO_API_KEY', undefined, 'demo-mno-api-key')).toThrow(ConfigError.KeyFile);
    expect(readFileSync(join(dataDir, 'demo-mno-api-key'), 'utf8')).toBe('');
  });
});

describe('production (RSP_ENV=production)', () => {
  it('a missing key stops the start with the setting name, and nothing is generated', () => {
    expect(() => secretBoxKeysFrom(production(), undefined, 'box-keys')).toThrow(ConfigError.MissingSetting);
    expect(() => secretBoxKeysFrom(production(), undefined, 'box-keys')).toThrow(/^RSP_SECRET_BOX_KEYS is required in production/);
    expect(() => apiKeyFrom(production(), 'RSP_DEMO_MNO_API_KEY', undefined, 'demo-mno-api-key')).toThrow(/RSP_DEMO_MNO_API_KEY is required/);
    const spec = { setting: 'RSP_SIGNING_KEY_FILE', expected: 'a PEM file', file: 'signing.pem', generate: () => 'x' };
    expect(() => persistedKeyFile(production(), undefined, spec)).toThrow(/RSP_SIGNING_KEY_FILE is required in production/);
    expect(() => statSync(dataDir)).toThrow();
  });

  it('does not even read a development file left in the data directory', () => {
    secretBoxKeysFrom(development(), undefined, 'box-keys');
    expect(() => secretBoxKeysFrom(production(), undefined, 'box-keys')).toThrow(ConfigError.MissingSetting);
  });
});

describe('persistedKeyFile', () => {
  const spec = { setting: 'RSP_SIGNING_KEY_FILE', expected: 'a PEM file', file: 'signing.pem', generate: () => 'generated' };

  it('a configured path is used as is and never generated into', () => {
    const configured = join(dataDir, 'elsewhere.pem');
    expect(persistedKeyFile(development(), configured, spec)).toEqual({ file: configured, origin: 'setting' });
    expect(() => statSync(configured)).toThrow();
  });

  it('the development file is generated once', () => {
    expect(persistedKeyFile(development(), undefined, spec)).toEqual({ file: join(dataDir, 'signing.pem'), origin: 'generated' });
    writeFileSync(join(dataDir, 'signing.pem'), 'kept');
    expect(persistedKeyFile(development(), undefined, spec).origin).toBe('file');
    expect(readFileSync(join(dataDir, 'signing.pem'), 'utf8')).toBe('kept');
  });
});
