/** The secrets every app reads the same way: SecretBox keys and API keys (settings, else development files). */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SecretBox } from '@rsp/persistence';
import { persistedSecret, type ResolvedSecret, type SecretOrigin, type SecretSource } from './secrets';
import { isSecretBoxKeys, SECRET_BOX_KEYS_EXPECTED } from './settings';

const API_KEY_EXPECTED = 'an API key of 16 to 256 visible ASCII characters';

/** RSP_SECRET_BOX_KEYS, else (development) `file` in the data directory with one fresh AES-256 key. @secret */
export function secretBoxKeysFrom(source: SecretSource, configured: string | undefined, file: string): ResolvedSecret<string> {
  return persistedSecret(source, configured, {
    setting: 'RSP_SECRET_BOX_KEYS',
    expected: SECRET_BOX_KEYS_EXPECTED.replace(/^expected /, ''),
    file,
    generate: () => `k1:${SecretBox.generateKey().toString('base64')}`,
    parse: (text) => (isSecretBoxKeys(text) ? text : undefined),
  });
}

/** An API key from `setting`, else (development) `file` in the data directory with a fresh 192-bit key. @secret */
export function apiKeyFrom(source: SecretSource, setting: string, configured: string | undefined, file: string): ResolvedSecret<string> {
  return persistedSecret(source, configured, {
    setting,
    expected: API_KEY_EXPECTED,
    file,
    generate: () => randomBytes(24).toString('base64url'),
    parse: (text) => (/^[\x21-\x7e]{16,256}$/.test(text) ? text : undefined),
  });
}

/** A start-up line saying where a development secret is (its path, never its value); none for a configured one. */
export function secretNotice(setting: string, resolved: { origin: SecretOrigin; file?: string }): string | undefined {
  if (resolved.origin === 'setting' || !resolved.file) return undefined;
  return resolved.origin === 'generated'
    ? `${setting} unset: generated once into ${resolved.file} (mode 600, development only)`
    : `${setting} unset: using ${resolved.file} (development only)`;
}

/** `sqlite://{dataDir}/{name}`: the default database of an app run alone. */
export const sqliteFileUrl = (dataDir: string, name: string): string => `sqlite://${join(dataDir, name)}`;
