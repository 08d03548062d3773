/**
 * `npm ci` (the first step of the README's test line and of CI) refuses a lock in which an optional
 * platform binary has no entry. See scripts/lockfile-platform-stubs.mjs; `npm run lockfile:fix` repairs it.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

interface LockEntry {
  version?: string;
  optionalDependencies?: Record<string, string>;
}

describe('package-lock.json', () => {
  it('has an entry for every optional platform dependency (else run `npm run lockfile:fix`)', () => {
    const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
      packages: Record<string, LockEntry>;
    };
    const missing: string[] = [];
    for (const [key, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        const nested = `${key === '' ? '' : `${key}/`}node_modules/${name}`;
        if (!lock.packages[nested] && !lock.packages[`node_modules/${name}`]) missing.push(`${name} (needed by ${key || 'root'})`);
      }
    }
    expect(missing).toEqual([]);
  });
});
