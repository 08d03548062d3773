/**
 * Credentials of the HTTP interfaces (docs/services.md "Identities"):
 * - ES4: `X-API-Key` per MNO; only the SHA-256 of each key is kept.
 * - ES1: an EUM configured with an API key must send it; an EUM without one is authenticated by its
 *   signature on the EIS alone (the certificate chain to the CI and the signature are checked anyway).
 */
import { timingSafeEqual } from 'node:crypto';
import { hashApiKey } from '@rsp/identity';

export const SMSR_SERVICE = Symbol.for('rsp.smsr.service');
export const SMSR_HTTP_AUTH = Symbol.for('rsp.smsr.http-auth');
export const SMSR_TRANSACTION_LOG = Symbol.for('rsp.smsr.transaction-log');
export const SMSR_MNO_OF_API_KEY = Symbol.for('rsp.smsr.mno-of-api-key');

/** id → SHA-256 of its API key; lookups compare digests in constant time. */
export class ApiKeyDirectory {
  private readonly digests = new Map<string, Buffer>();

  constructor(entries: ReadonlyArray<{ id: string; apiKey?: string | undefined; apiKeySha256?: string | undefined }>) {
    for (const entry of entries) {
      const digest = entry.apiKeySha256 ?? (entry.apiKey !== undefined ? hashApiKey(entry.apiKey) : undefined);
      if (digest !== undefined) this.digests.set(entry.id, Buffer.from(digest, 'hex'));
    }
  }

  /** The id whose key this is, or undefined. */
  identify(apiKey: string): string | undefined {
    const digest = Buffer.from(hashApiKey(apiKey), 'hex');
    let found: string | undefined;
    for (const [id, expected] of this.digests) if (expected.length === digest.length && timingSafeEqual(expected, digest)) found = id;
    return found;
  }

  hasKey(id: string): boolean {
    return this.digests.has(id);
  }
}

export interface SmSrHttpAuth {
  mnos: ApiKeyDirectory;
  eums: ApiKeyDirectory;
}
