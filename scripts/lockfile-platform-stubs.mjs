#!/usr/bin/env node
// Keeps `npm ci` working with this workplace's npm registry mirror.
//
// npm 11 records only the optional platform binaries it can resolve. The mirror serves the
// linux-x64 builds of @swc/core and unrs-resolver (jest) but 404s their other platforms, so
// those never reach package-lock.json, and `npm ci` then refuses the lock as "out of sync"
// ("Missing: @swc/core-darwin-arm64@ from lock file"). This adds a version-only optional entry
// for each such binary: `npm ci` accepts the lock and, the entry being optional, installs the
// platform build that exists. Run it after every `npm install` that changes dependencies:
//   npm run lockfile:fix
// test/smoke/lockfile.spec.ts fails when it is needed and was forgotten.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const missing = missingOptionalEntries(packages);
for (const { key, version, dev } of missing) packages[key] = { version, dev, optional: true };
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lockfile: ${missing.length} optional platform entr${missing.length === 1 ? 'y' : 'ies'} added`);

/** Optional dependencies declared by locked packages that have no lock entry of their own. */
export function missingOptionalEntries(pkgs) {
  const found = [];
  for (const [key, entry] of Object.entries(pkgs)) {
    for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
      const nested = `${key === '' ? '' : `${key}/`}node_modules/${name}`;
      const hoisted = `node_modules/${name}`;
      if (pkgs[nested] || pkgs[hoisted] || found.some((f) => f.key === hoisted)) continue;
      found.push({ key: hoisted, version, dev: entry.dev === true ? true : undefined });
    }
  }
  return found;
}
