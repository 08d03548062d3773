import { readFileSync } from 'node:fs';
import { fromHex } from '@rsp/tlv';

/** Loads a JSON vector file from test/vectors. */
export function loadVectors<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
}

/** Strict hex (odd length or non-hex characters throw), so a typo in a vector cannot truncate silently. */
export const h = (hex: string): Buffer => fromHex(hex);

/** The `code` of the typed error `fn` throws (fails the test if it does not throw one). */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    throw new Error(`expected a typed error, got ${String(e)}`);
  }
  throw new Error('expected an error, nothing was thrown');
}
