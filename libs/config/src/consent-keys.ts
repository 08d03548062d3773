/**
 * The owner registry's consent-signing keys (docs/owner-registry.md "Consent tokens"): ES256 on P-256.
 *
 * Rotation: a current signing key plus older public keys still accepted. The registry signs with the
 * current one and publishes all of them in its JWKS, so a consent minted before a rotation verifies until
 * it expires; dropping an older key from the list revokes whatever it signed. The key id defaults to the
 * key's RFC 7638 thumbprint, so the same key file always yields the same `kid` across restarts.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from './errors';
import type { SettingsOf } from './load';
import { readPrivateKeyFile } from './pki-files';
import { parseKeyText, persistedKeyFile, type SecretOrigin, type SecretSource } from './secrets';
import { filePath, ID_PATTERN, identifier } from './settings';

/** The key the registry signs consents with. @secret */
export interface ConsentSigningKey {
  privateKey: KeyObject;
  kid: string;
}

/** A consent verification key as published in the registry's JWKS (a type, not an interface: it is also a plain JWK record). */
export type ConsentPublicJwk = {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: 'ES256';
  use: 'sig';
};

export interface ConsentKeys {
  signingKey: ConsentSigningKey;
  /** Older keys: no longer signing, still accepted (published in the JWKS). */
  previousPublicKeys: ConsentPublicJwk[];
}

/** The development key file in the data directory (shared by `npm start` and `npm run start:owner-registry`). */
export const CONSENT_KEY_FILE = 'owner-registry-consent-key.pem';
const SIGNING_KEY_EXPECTED = 'a PEM (PKCS#8) EC P-256 private key file';
const PREVIOUS_KEYS_EXPECTED = 'a JWKS JSON file { "keys": [{ "kty": "EC", "crv": "P-256", "x", "y", "kid" }] } of public keys only';

/** The consent key settings, shared by the owner registry's and the whole stack's schemas. */
export const consentKeySettings = {
  /** The current signing key (PEM). Unset: development generates {data}/owner-registry-consent-key.pem once. @secret */
  RSP_CONSENT_SIGNING_KEY_FILE: filePath().optional(),
  /** Its `kid` (default: `consent-` + the RFC 7638 thumbprint of its public key). */
  RSP_CONSENT_SIGNING_KEY_ID: identifier().optional(),
  /** Older public keys still accepted (JWKS JSON file). */
  RSP_CONSENT_PREVIOUS_KEYS_FILE: filePath().optional(),
};

export type ConsentKeySettings = SettingsOf<typeof consentKeySettings>;

export interface LoadedConsentKeys {
  keys: ConsentKeys;
  /** Where the signing key came from: the configured file, or the development one (read or generated). */
  origin: SecretOrigin;
  file: string;
}

/** The consent keys the settings name (development: the data directory's key file, generated once). */
export function loadConsentKeys(source: SecretSource, settings: ConsentKeySettings): LoadedConsentKeys {
  const setting = 'RSP_CONSENT_SIGNING_KEY_FILE';
  const { file, origin } = persistedKeyFile(source, settings.RSP_CONSENT_SIGNING_KEY_FILE, {
    setting,
    expected: SIGNING_KEY_EXPECTED,
    file: CONSENT_KEY_FILE,
    generate: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString().trim(),
  });
  const privateKey = readPrivateKeyFile(setting, file, { curve: 'prime256v1' });
  const signingKey = { privateKey, kid: settings.RSP_CONSENT_SIGNING_KEY_ID ?? consentKeyId(privateKey) };
  const previousPublicKeys = settings.RSP_CONSENT_PREVIOUS_KEYS_FILE ? readPreviousKeys(settings.RSP_CONSENT_PREVIOUS_KEYS_FILE) : [];
  const clash = previousPublicKeys.find((key) => key.kid === signingKey.kid);
  if (clash) {
    throw new ConfigError.InvalidSetting([{ setting: 'RSP_CONSENT_PREVIOUS_KEYS_FILE', expected: `older keys only: kid "${clash.kid}" is the current signing key's` }]);
  }
  return { keys: { signingKey, previousPublicKeys }, origin, file };
}

/** A fresh key pair (tests, and a stack started without configured keys); nothing is written. */
export function freshConsentKeys(): ConsentKeys {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { signingKey: { privateKey, kid: consentKeyId(privateKey) }, previousPublicKeys: [] };
}

/** The JWKS of `keys`: the current key's public half first, then the older ones. */
export function consentJwks(keys: ConsentKeys): { keys: ConsentPublicJwk[] } {
  return { keys: [consentPublicJwk(keys.signingKey), ...keys.previousPublicKeys] };
}

/** The public JWK of a signing key, as published. */
export function consentPublicJwk(signingKey: ConsentSigningKey): ConsentPublicJwk {
  const { x, y } = createPublicKey(signingKey.privateKey).export({ format: 'jwk' });
  return { kty: 'EC', crv: 'P-256', x: x ?? '', y: y ?? '', kid: signingKey.kid, alg: 'ES256', use: 'sig' };
}

/** `consent-` + the RFC 7638 §3 JWK thumbprint (SHA-256 over `{"crv","kty","x","y"}` in that order, no spaces). */
export function consentKeyId(key: KeyObject): string {
  const { crv, x, y } = createPublicKey(key).export({ format: 'jwk' });
  const canonical = JSON.stringify({ crv, kty: 'EC', x, y });
  return `consent-${createHash('sha256').update(canonical).digest('base64url')}`;
}

const base64url = z.string().regex(/^[A-Za-z0-9_-]{43}$/, { message: 'expected a 32-byte base64url coordinate' });
const previousKeysSchema = z.object({
  keys: z.array(
    z.looseObject({
      kty: z.literal('EC', { message: 'expected "EC"' }),
      crv: z.literal('P-256', { message: 'expected "P-256"' }),
      x: base64url,
      y: base64url,
      kid: z.string().regex(ID_PATTERN, { message: 'expected a kid of letters, digits, _ . : -' }),
      // A private key in a list that is published would leak it.
      d: z.undefined({ message: 'public keys only: remove "d"' }).optional(),
    }),
  ),
});

function readPreviousKeys(file: string): ConsentPublicJwk[] {
  const setting = 'RSP_CONSENT_PREVIOUS_KEYS_FILE';
  return parseKeyText(setting, file, PREVIOUS_KEYS_EXPECTED, (text) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return undefined;
    }
    const result = previousKeysSchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new ConfigError.KeyFile(setting, file, `is not valid at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? PREVIOUS_KEYS_EXPECTED}`);
    }
    const kids = new Set<string>();
    return result.data.keys.map((jwk): ConsentPublicJwk => {
      if (kids.has(jwk.kid)) throw new ConfigError.KeyFile(setting, file, `lists kid "${jwk.kid}" twice`);
      kids.add(jwk.kid);
      try {
        createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' }); // on the curve?
      } catch {
        throw new ConfigError.KeyFile(setting, file, `key "${jwk.kid}" is not a P-256 public key`);
      }
      return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid: jwk.kid, alg: 'ES256', use: 'sig' };
    });
  });
}
