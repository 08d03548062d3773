/**
 * Building blocks of the per-app configuration schemas: one zod schema per kind of setting. Every input
 * is an environment variable's text (or undefined when unset); every refusal says what is expected and
 * never quotes the value (it may be a secret put in the wrong variable).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { ID_PATTERN } from '@rsp/contracts';
import { parseDatabaseUrl } from '@rsp/persistence';

/** `development` (the default: may generate keys once into the data directory) or `production` (generates nothing). */
export type Mode = 'development' | 'production';

/** Letters, digits, `_ . : -` (1..128): the ids of services, MNOs, EUMs and keys (the one pattern of @rsp/contracts). */
export { ID_PATTERN };
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^[0-9A-Fa-f:.]{2,45}$/;
const SECRET_BOX_ID = /^[A-Za-z0-9_-]{1,32}$/;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Visible ASCII, no spaces: what an X-API-Key header can carry unchanged. */
const API_KEY = /^[\x21-\x7e]{16,256}$/;

/** Refuses with `expected` as the message (the input is never part of it). */
function refuse(ctx: z.RefinementCtx, expected: string): never {
  ctx.addIssue({ code: 'custom', message: expected });
  return z.NEVER as never;
}

/** A text setting checked and converted by `convert`, which returns undefined to refuse. */
function textSetting<T>(expected: string, convert: (raw: string) => T | undefined) {
  return z.string().transform((raw, ctx): T => {
    const value = convert(raw);
    return value === undefined ? refuse(ctx, expected) : value;
  });
}

/** An optional setting whose absence means `fallback`. */
export function withDefault<T>(schema: z.ZodType<T, string>, fallback: T) {
  return schema.optional().transform((value): T => value ?? fallback);
}

/** A TCP port, 0..65535 (0 = any free port). */
export function port(fallback: number) {
  return withDefault(
    textSetting('expected a port number 0..65535 (0 = any free port)', (raw) => (/^\d{1,5}$/.test(raw) && Number(raw) <= 65535 ? Number(raw) : undefined)),
    fallback,
  );
}

/** A host name or IP address to bind to. */
export function host(fallback: string) {
  return withDefault(textSetting('expected a host name or IP address', (raw) => (HOST.test(raw) ? raw : undefined)), fallback);
}

/** An absolute URL with one of `protocols` (e.g. `['http:', 'https:']`); kept as written. */
export function url(protocols: readonly string[]) {
  const expected = `expected a URL (${protocols.map((protocol) => `${protocol}//…`).join(' | ')})`;
  return textSetting(expected, (raw) => {
    if (!URL.canParse(raw)) return undefined;
    const parsed = new URL(raw);
    return protocols.includes(parsed.protocol) && parsed.host !== '' ? raw : undefined;
  });
}

/** An id: letters, digits, `_ . : -` (1..128). */
export function identifier() {
  return textSetting('expected an id of letters, digits, _ . : - (1 to 128)', (raw) => (ID_PATTERN.test(raw) ? raw : undefined));
}

/** 1 / true / yes or 0 / false / no. */
export function flag(fallback: boolean) {
  const values: Record<string, boolean> = { '1': true, true: true, yes: true, '0': false, false: false, no: false };
  return withDefault(
    textSetting('expected 1 or 0 (true / false)', (raw) => values[raw.toLowerCase()]),
    fallback,
  );
}

/** One of `values`. */
export function choice<const T extends string>(values: readonly T[], fallback: T) {
  return withDefault(
    textSetting(`expected one of ${values.join(' | ')}`, (raw) => values.find((value) => value === raw)),
    fallback,
  );
}

/** RSP_ENV: development (default) or production. */
export const mode = () => choice<Mode>(['development', 'production'], 'development');

/** A file path, resolved against the working directory (existence is checked when it is read). */
export function filePath() {
  return textSetting('expected a file path', (raw) => (raw.includes('\0') ? undefined : resolve(raw)));
}

/** The data directory (default ./data), absolute. */
export function directory(fallback: string) {
  return withDefault(filePath(), resolve(fallback));
}

/** JSON text checked against `schema`; issues inside name their JSON path (RSP_MAKERS[0].apiKey). */
export function json<T>(schema: z.ZodType<T>, expected: string) {
  // JSON.parse's own message may quote the text: it is never used.
  return textSetting(`expected JSON: ${expected}`, (raw): unknown => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return undefined;
    }
  }).pipe(schema);
}

/** An API key (sent as X-API-Key): 16 to 256 visible ASCII characters. @secret */
export function apiKey() {
  return textSetting('expected an API key of 16 to 256 visible ASCII characters (no spaces)', (raw) => (API_KEY.test(raw) ? raw : undefined));
}

/** The zod schema of one API key inside a JSON setting. */
export const apiKeyField = () => z.string().regex(API_KEY, { message: 'expected an API key of 16 to 256 visible ASCII characters (no spaces)' });

export const SECRET_BOX_KEYS_EXPECTED = 'expected id:base64key[,id:base64key…] (first = current), ids of letters, digits, _ - (1 to 32), each key 32 bytes (AES-256) in base64, ids unique';

/**
 * True when `value` is a SecretBox configuration (libs/persistence/src/secret-box.ts): `id:base64key`
 * entries, comma separated, the first current. Stricter than SecretBox.fromConfig on base64, so a typo
 * is refused here rather than decoded into a different key.
 */
export function isSecretBoxKeys(value: string): boolean {
  const ids = new Set<string>();
  for (const entry of value.split(',')) {
    const [id, key, ...rest] = entry.trim().split(':');
    if (id === undefined || key === undefined || rest.length > 0 || !SECRET_BOX_ID.test(id) || ids.has(id)) return false;
    if (!STRICT_BASE64.test(key) || Buffer.from(key, 'base64').length !== 32) return false;
    ids.add(id);
  }
  return ids.size > 0;
}

/** RSP_SECRET_BOX_KEYS: the SecretBox key configuration. @secret */
export function secretBoxKeys() {
  return textSetting(SECRET_BOX_KEYS_EXPECTED, (raw) => (isSecretBoxKeys(raw) ? raw : undefined));
}

/** RSP_DATABASE_URL: what @rsp/persistence opens (sqlite:///abs.db, sqlite::memory:, postgres://host/db). */
export function databaseUrl() {
  return textSetting('expected sqlite:///absolute/path.db, sqlite::memory: or postgres://user@host:port/database', (raw) => {
    try {
      parseDatabaseUrl(raw);
      return raw;
    } catch {
      return undefined;
    }
  });
}

/** A PostgreSQL schema name. */
export function sqlIdentifier() {
  return textSetting('expected a schema name of letters, digits and _ (1 to 63, not starting with a digit)', (raw) => (/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(raw) ? raw : undefined));
}
