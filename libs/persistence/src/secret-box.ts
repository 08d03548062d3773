/**
 * Secrets encrypted at rest: AES-256-GCM with versioned keys from configuration.
 *
 * Sealed form (a string, so it fits JSON contexts): `sb1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url
 * parts; 96-bit random IV per NIST SP 800-38D §8.2.2; 128-bit tag). The key id and the optional
 * associated data (e.g. the owning row id) are authenticated, so a value moved to another row, or
 * opened with another key, is refused. Rotation: add a new key id and make it current; old values
 * still open with their own key id.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { PersistenceError } from './errors';

const PREFIX = 'sb1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Keys of a {@link SecretBox}: the current one seals, any listed one opens. */
export interface SecretBoxKeys {
  readonly currentKeyId: string;
  readonly keys: Readonly<Record<string, Uint8Array>>;
}

/** AES-256-GCM sealing of secrets stored in the database. Never logs keys or plaintexts. */
export class SecretBox {
  private readonly keys: ReadonlyMap<string, Buffer>;
  readonly currentKeyId: string;

  constructor(config: SecretBoxKeys) {
    const keys = new Map<string, Buffer>();
    for (const [id, key] of Object.entries(config.keys)) {
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new PersistenceError.SecretKey(`invalid secret key id "${id}"`);
      if (key.length !== KEY_BYTES) throw new PersistenceError.SecretKey(`secret key ${id} must be 32 bytes (AES-256)`);
      keys.set(id, Buffer.from(key));
    }
    if (!keys.has(config.currentKeyId)) {
      throw new PersistenceError.SecretKey(`current secret key id "${config.currentKeyId}" has no key`);
    }
    this.keys = keys;
    this.currentKeyId = config.currentKeyId;
  }

  /**
   * Parses a configuration value `id:base64key[,id:base64key…]` (e.g. from a setting such as
   * RSP_SECRET_BOX_KEYS); the first key is current. Errors never echo key material.
   */
  static fromConfig(value: string | undefined, settingName = 'RSP_SECRET_BOX_KEYS'): SecretBox {
    if (!value) throw new PersistenceError.SecretKey(`${settingName} is not set`);
    const keys: Record<string, Buffer> = {};
    let currentKeyId: string | undefined;
    for (const entry of value.split(',')) {
      const [id, encoded, ...rest] = entry.trim().split(':');
      if (!id || !encoded || rest.length > 0) {
        throw new PersistenceError.SecretKey(`${settingName}: each entry must be id:base64key`);
      }
      keys[id] = Buffer.from(encoded, 'base64');
      currentKeyId ??= id;
    }
    return new SecretBox({ currentKeyId: currentKeyId ?? '', keys });
  }

  /** A fresh random 256-bit key (for provisioning configuration). */
  static generateKey(): Buffer {
    return randomBytes(KEY_BYTES);
  }

  /** Encrypts `plaintext` with the current key; `aad` (if any) must be given again to open. */
  seal(plaintext: Uint8Array | string, aad: Uint8Array | string = ''): string {
    const keyId = this.currentKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key(keyId), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(keyId, aad));
    const ciphertext = Buffer.concat([cipher.update(toBuffer(plaintext)), cipher.final()]);
    const parts = [iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url'));
    return [PREFIX, keyId, ...parts].join('.');
  }

  /** Decrypts a sealed value; throws {@link PersistenceError.SecretOpen} if malformed, tampered or keyed differently. */
  open(sealed: string, aad: Uint8Array | string = ''): Buffer {
    const parts = sealed.split('.');
    const [prefix, keyId, ivText, ciphertextText, tagText] = parts;
    if (parts.length !== 5 || prefix !== PREFIX || !keyId || ivText === undefined || ciphertextText === undefined || !tagText) {
      throw new PersistenceError.SecretOpen('not a sealed secret');
    }
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new PersistenceError.SecretOpen('malformed sealed secret');
    if (!this.keys.has(keyId)) throw new PersistenceError.SecretOpen(`no key "${keyId}" to open this secret`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key(keyId), iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(associatedData(keyId, aad));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]);
    } catch (cause) {
      throw new PersistenceError.SecretOpen('sealed secret failed authentication (tampered or wrong key)', { cause });
    }
  }

  /** {@link open} decoded as UTF-8. */
  openString(sealed: string, aad: Uint8Array | string = ''): string {
    return this.open(sealed, aad).toString('utf8');
  }

  private key(id: string): Buffer {
    const key = this.keys.get(id);
    if (!key) throw new PersistenceError.SecretKey(`no secret key "${id}"`);
    return key;
  }
}

function toBuffer(value: Uint8Array | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
}

/** AAD = prefix ‖ keyId ‖ 0x00 ‖ caller AAD: binds the version and key id to the ciphertext. */
function associatedData(keyId: string, aad: Uint8Array | string): Buffer {
  return Buffer.concat([Buffer.from(`${PREFIX}.${keyId}`, 'utf8'), Buffer.from([0]), toBuffer(aad)]);
}
