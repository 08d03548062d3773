/**
 * API keys of makers and MNOs (`X-API-Key`): a service stores only their SHA-256 and finds the caller by
 * it, so a database dump gives no access. One function for every service, so a key registered with one
 * is looked up the same way by the others.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Hex SHA-256 of an API key (UTF-8): what the database stores. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

/** Constant-time equality of two hex hashes (the lookup is by hash already: this documents the intent). */
export function sameApiKeyHash(stored: string, presented: string): boolean {
  const a = Buffer.from(stored, 'hex');
  const b = Buffer.from(presented, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
