/**
 * Consent-signing keys from configuration: the same file gives the same key and kid at every load (so a
 * consent survives a restart), rotation keeps older public keys accepted, and the attacker's consents —
 * signed with another key under the current kid, or with a dropped key — are refused.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { ConsentVerifier, signConsent, type ConsentExpectation } from '@rsp/identity';
import { CONSENT_KEY_FILE, ConfigError, consentJwks, consentKeyId, freshConsentKeys, loadConsentKeys, type ConsentKeys, type SecretSource } from '@rsp/config';

const ISSUER = 'https://registry.test';
const EID = '89049032123451234512345678901235';
const expectation: ConsentExpectation = { eid: EID, mnoId: 'mno.a', operation: 'EnableProfile' };

let root: string;
let dataDir: string;
const development = (): SecretSource => ({ mode: 'development', dataDir });

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'rsp-consent-keys-'));
  dataDir = join(root, 'data');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const mint = (keys: ConsentKeys) =>
  signConsent({ issuer: ISSUER, eid: EID, mnoId: 'mno.a', operations: ['EnableProfile'], epoch: 0, expiresInSeconds: 600 }, keys.signingKey).then((signed) => signed.token);
const verifierFor = (keys: ConsentKeys) => new ConsentVerifier({ issuer: ISSUER, jwks: consentJwks(keys) });
const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('loadConsentKeys', () => {
  it('development: generated once (mode 600); a consent minted before a reload verifies after it', async () => {
    const first = loadConsentKeys(development(), {});
    expect(first).toMatchObject({ origin: 'generated', file: join(dataDir, CONSENT_KEY_FILE) });
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    const consent = await mint(first.keys);
    const second = loadConsentKeys(development(), {});
    expect(second.origin).toBe('file');
    expect(second.keys.signingKey.kid).toBe(first.keys.signingKey.kid);
    await expect(verifierFor(second.keys).verify(consent, expectation)).resolves.toMatchObject({ sub: EID, mno: 'mno.a' });
  });

  it('the kid is consent- + the RFC 7638 thumbprint (as jose computes it), unless configured', async () => {
    const keys = freshConsentKeys();
    const thumbprint = await calculateJwkThumbprint(await exportJWK(keys.signingKey.privateKey), 'sha256');
    expect(keys.signingKey.kid).toBe(`consent-${thumbprint}`);
    expect(consentKeyId(keys.signingKey.privateKey)).toBe(keys.signingKey.kid);
    const file = join(root, 'signing.pem');
    writeFileSync(file, pem());
    expect(loadConsentKeys(development(), { RSP_CONSENT_SIGNING_KEY_FILE: file, RSP_CONSENT_SIGNING_KEY_ID: 'consent-2026-01' }).keys.signingKey.kid).toBe('consent-2026-01');
  });

  it('production: no key file configured stops the start naming RSP_CONSENT_SIGNING_KEY_FILE', () => {
    expect(() => loadConsentKeys({ mode: 'production', dataDir }, {})).toThrow(ConfigError.MissingSetting);
    expect(() => loadConsentKeys({ mode: 'production', dataDir }, {})).toThrow(/^RSP_CONSENT_SIGNING_KEY_FILE is required in production/);
  });

  it('an unreadable, corrupt or wrong-curve key file is an error naming it, and is left as it is', () => {
    const missing = join(root, 'missing.pem');
    expect(() => loadConsentKeys(development(), { RSP_CONSENT_SIGNING_KEY_FILE: missing })).toThrow(`RSP_CONSENT_SIGNING_KEY_FILE: ${missing} cannot be read (ENOENT)`);
    mkdirSync(dataDir, { recursive: true });
    const corrupt = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';
    writeFileSync(join(dataDir, CONSENT_KEY_FILE), corrupt);
    expect(() => loadConsentKeys(development(), {})).toThrow(`RSP_CONSENT_SIGNING_KEY_FILE: ${join(dataDir, CONSENT_KEY_FILE)} is not a PEM private key`);
    expect(readFileSync(join(dataDir, CONSENT_KEY_FILE), 'utf8')).toBe(corrupt);
    const rsa = join(root, 'rsa.pem');
    writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    expect(() => loadConsentKeys(development(), { RSP_CONSENT_SIGNING_KEY_FILE: rsa })).toThrow(/is not an EC private key/);
    const p384 = join(root, 'p384.pem');
    writeFileSync(p384, generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    expect(() => loadConsentKeys(development(), { RSP_CONSENT_SIGNING_KEY_FILE: p384 })).toThrow(/is not a key on P-256/);
  });
});

describe('rotation', () => {
  it('older public keys stay accepted; a consent of a dropped key is refused', async () => {
    const oldFile = join(root, 'old.pem');
    const newFile = join(root, 'new.pem');
    writeFileSync(oldFile, pem());
    writeFileSync(newFile, pem());
    const before = loadConsentKeys(development(), { RSP_CONSENT_SIGNING_KEY_FILE: oldFile }).keys;
    const oldConsent = await mint(before);
    // Rotate: the new key signs, the old public key is kept in the previous-keys file.
    const previous = join(root, 'previous.json');
    writeFileSync(previous, JSON.stringify({ keys: consentJwks(before).keys }));
    const after = loadConsentKeys(development(), { RSP_CONSENT_SIGNING_KEY_FILE: newFile, RSP_CONSENT_PREVIOUS_KEYS_FILE: previous }).keys;
    expect(consentJwks(after).keys.map((key) => key.kid)).toEqual([after.signingKey.kid, before.signingKey.kid]);
    await expect(verifierFor(after).verify(oldConsent, expectation)).resolves.toMatchObject({ sub: EID });
    await expect(verifierFor(after).verify(await mint(after), expectation)).resolves.toMatchObject({ sub: EID });
    // The old key dropped from the list: what it signed is refused.
    const dropped = loadConsentKeys(development(), { RSP_CONSENT_SIGNING_KEY_FILE: newFile }).keys;
    await expect(verifierFor(dropped).verify(oldConsent, expectation)).rejects.toMatchObject({ code: 'ERR_CONSENT_INVALID' });
  });

  it("attacker: a consent signed with another key under the registry's current kid is refused", async () => {
    const registry = freshConsentKeys();
    const attacker = freshConsentKeys();
    const forged = await mint({ ...attacker, signingKey: { ...attacker.signingKey, kid: registry.signingKey.kid } });
    await expect(verifierFor(registry).verify(forged, expectation)).rejects.toMatchObject({ code: 'ERR_CONSENT_INVALID' });
  });

  it.each([
    ['a private key ("d")', (jwk: Record<string, unknown>) => ({ ...jwk, d: 'AAAA' }), /keys\.0\.d: public keys only/],
    ['another curve', (jwk: Record<string, unknown>) => ({ ...jwk, crv: 'P-384' }), /keys\.0\.crv: expected "P-256"/],
    ['a point off the curve', (jwk: Record<string, unknown>) => ({ ...jwk, y: jwk.x }), /is not a P-256 public key/],
    ['no kid', ({ kid: _kid, ...jwk }: Record<string, unknown>) => jwk, /keys\.0\.kid/],
  ])('the previous-keys file with %s is refused naming it', (_case, mutate, expected) => {
    const file = join(root, 'previous.json');
    const [jwk] = consentJwks(freshConsentKeys()).keys;
    writeFileSync(file, JSON.stringify({ keys: [mutate(jwk as unknown as Record<string, unknown>)] }));
    expect(() => loadConsentKeys(development(), { RSP_CONSENT_PREVIOUS_KEYS_FILE: file })).toThrow(expected);
    expect(() => loadConsentKeys(development(), { RSP_CONSENT_PREVIOUS_KEYS_FILE: file })).toThrow(/^RSP_CONSENT_PREVIOUS_KEYS_FILE: /);
  });

  it("the current key's kid among the previous keys is refused", () => {
    const current = loadConsentKeys(development(), {}).keys;
    const file = join(root, 'previous.json');
    writeFileSync(file, JSON.stringify(consentJwks(current)));
    expect(() => loadConsentKeys(development(), { RSP_CONSENT_PREVIOUS_KEYS_FILE: file })).toThrow(/RSP_CONSENT_PREVIOUS_KEYS_FILE: older keys only/);
  });
});
