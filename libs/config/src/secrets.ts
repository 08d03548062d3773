/**
 * Keys and secrets from configuration, or in development generated ONCE into the data directory.
 *
 * The rule (docs/configuration.md): a setting wins; production (RSP_ENV=production) without it stops the
 * start naming the setting; development reads the file it generated on the first start, and only when
 * that file does not exist at all makes a new one (mode 600, exclusive create). An existing file that
 * cannot be read or does not parse is an error naming it: a fresh key would silently orphan every secret
 * sealed, and every consent signed, with the old one.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './errors';
import type { Mode } from './settings';

/** Where development secrets live and whether they may be generated. */
export interface SecretSource {
  mode: Mode;
  /** Absolute data directory. */
  dataDir: string;
}

/** How a secret was obtained (for a start-up line that names a file, never the value). */
export type SecretOrigin = 'setting' | 'file' | 'generated';

export interface ResolvedSecret<T> {
  value: T;
  origin: SecretOrigin;
  /** The file it was read from or generated into (not for `setting`). */
  file?: string;
}

export interface PersistedSecretSpec<T> {
  /** The environment variable that supplies the value (named in every error). */
  setting: string;
  /** What the setting must hold, for the production error. */
  expected: string;
  /** The development file's name inside the data directory. */
  file: string;
  /** The file's content for a first start. */
  generate: () => string;
  /** The value of the file's (trimmed) text; undefined when it is not valid. Never echoes the text. */
  parse: (text: string) => T | undefined;
}

/**
 * A secret given as text in `configured` (already validated), else in production an error, else the
 * development file in the data directory, generated once.
 */
export function persistedSecret<T>(source: SecretSource, configured: T | undefined, spec: PersistedSecretSpec<T>): ResolvedSecret<T> {
  if (configured !== undefined) return { value: configured, origin: 'setting' };
  if (source.mode === 'production') throw new ConfigError.MissingSetting(spec.setting, spec.expected);
  const file = join(source.dataDir, spec.file);
  const generated = createOnce(source.dataDir, file, spec.generate);
  const value = spec.parse(readSecretFile(spec.setting, file));
  if (value === undefined) {
    throw new ConfigError.KeyFile(spec.setting, file, `(the development value used while ${spec.setting} is unset) is not valid: ${spec.expected}. Restore it or set ${spec.setting}; it is never regenerated`);
  }
  return { value, origin: generated ? 'generated' : 'file', file };
}

export interface PersistedKeyFileSpec {
  /** The environment variable naming the file (named in every error). */
  setting: string;
  expected: string;
  /** The development file's name inside the data directory, used while the setting is unset. */
  file: string;
  generate: () => string;
}

/**
 * The file holding a key: the one the setting names (never generated: a configured file that is missing
 * is an error when it is read), else in production an error, else the development file, generated once.
 * The caller reads and checks it with its typed reader (e.g. {@link readPrivateKeyFile}).
 */
export function persistedKeyFile(source: SecretSource, configuredPath: string | undefined, spec: PersistedKeyFileSpec): { file: string; origin: SecretOrigin } {
  if (configuredPath !== undefined) return { file: configuredPath, origin: 'setting' };
  if (source.mode === 'production') throw new ConfigError.MissingSetting(spec.setting, spec.expected);
  const file = join(source.dataDir, spec.file);
  return { file, origin: createOnce(source.dataDir, file, spec.generate) ? 'generated' : 'file' };
}

/** Reads `file` (named with its setting when it cannot be). */
export function readSecretFile(setting: string, file: string): string {
  return readFileSetting(setting, file).toString('utf8').trim();
}

/** The bytes of `file`; an unreadable file is a {@link ConfigError.KeyFile} naming setting, file and errno. */
export function readFileSetting(setting: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError.KeyFile(setting, file, `cannot be read (${code})`);
  }
}

/** `parse` applied to the file's text; a throw or undefined becomes {@link ConfigError.KeyFile} (the parser's message is kept only if it is ours). */
export function parseKeyText<T>(setting: string, file: string, expected: string, parse: (text: string) => T | undefined): T {
  const text = readSecretFile(setting, file);
  let value: T | undefined;
  try {
    value = parse(text);
  } catch (error) {
    if (error instanceof ConfigError.KeyFile) throw error;
    // node:crypto's messages never quote key material, but the cause is dropped anyway: nothing from the file leaves.
    throw new ConfigError.KeyFile(setting, file, `is not valid: ${expected}`);
  }
  if (value === undefined) throw new ConfigError.KeyFile(setting, file, `is not valid: ${expected}`);
  return value;
}

/**
 * Creates `file` with `generate()` (mode 600) when it does not exist; true when this call created it.
 * `wx` makes creation exclusive: two processes starting together keep the first one's key.
 */
function createOnce(dataDir: string, file: string, generate: () => string): boolean {
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, `${generate()}\n`, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new ConfigError.KeyFile('RSP_DATA_DIR', file, `cannot be created (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
