/**
 * No dependency is declared but unused, and none is used undeclared (issue 10: "Declared but never
 * imported"). Every package of package.json is imported by a tracked source, test, script or config file,
 * or is a tool named below with the reason it is declared.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';

/** Packages used without an import statement, and why. */
const TOOLS: Readonly<Record<string, string>> = {
  typescript: 'tsc, `npm run typecheck`',
  '@swc/core': 'the compiler of @swc/jest',
  '@swc/jest': "jest.config.js's transform",
  '@types/node': 'types of node:*',
  '@types/better-sqlite3': 'types of better-sqlite3',
  '@types/pg': 'types of pg',
};

const IMPORT = /(?:from\s+|import\s*\(\s*|require\(\s*|import\s+)['"]([^'"./][^'"]*)['"]/g;
const TRANSFORM = /\[\s*['"](@swc\/jest)['"]/g;

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

function importedPackages(): Set<string> {
  const files = execFileSync('git', ['ls-files', '*.ts', '*.js', '*.mjs', '*.cjs'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const untracked = execFileSync('git', ['ls-files', '--others', '--exclude-standard', '*.ts', '*.js', '*.mjs'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const used = new Set<string>();
  for (const file of [...files, ...untracked]) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] as string;
      if (specifier.startsWith('node:') || specifier.startsWith('@rsp/') || builtinModules.includes(specifier)) continue;
      used.add(packageOf(specifier));
    }
    for (const match of text.matchAll(TRANSFORM)) used.add(match[1] as string);
  }
  return used;
}

describe('package.json', () => {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies)]);
  const used = importedPackages();

  it('declares nothing the tree does not import (tools aside, each with its reason)', () => {
    expect([...declared].filter((name) => !used.has(name) && TOOLS[name] === undefined)).toEqual([]);
  });

  it('imports nothing it does not declare', () => {
    expect([...used].filter((name) => !declared.has(name))).toEqual([]);
  });

  it('lists no tool that is not declared', () => {
    expect(Object.keys(TOOLS).filter((name) => !declared.has(name))).toEqual([]);
  });

  it('keeps test-only packages out of the runtime dependencies', () => {
    for (const name of ['@peculiar/webcrypto', 'playwright-core', 'fast-check', 'jest']) expect(manifest.dependencies[name]).toBeUndefined();
  });
});
