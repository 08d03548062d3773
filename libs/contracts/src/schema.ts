/**
 * A tiny runtime schema helper (no dependency): each {@link Check} turns an `unknown` into a typed value
 * or throws a {@link ContractError} naming the parameter path. Objects are rebuilt from their known
 * keys only, so unknown fields never travel further than the edge.
 */
import { isValidEid, isValidIccid } from '@rsp/pki';
import { ContractError } from './errors';

/** A JSON Schema (draft 2020-12 / OpenAPI 3.1) fragment. */
export type JsonSchema = Record<string, unknown>;

/**
 * Parses `value` found at `path`; throws ContractError on a contract breach. A check made by the combinators
 * below also carries the JSON Schema of what it accepts (`schema`), so the OpenAPI documents come from the
 * very checks the services run and cannot drift from them.
 */
export type Check<T> = ((value: unknown, path: string) => T) & { readonly optional?: boolean; readonly schema?: JsonSchema };

/** Attaches the JSON Schema of what `check` accepts (for checks written by hand). */
export function withSchema<C extends Check<unknown>>(check: C, schema: JsonSchema): C {
  return Object.assign(check, { schema });
}

/** The JSON Schema of a check (`{}`: anything, for a check that declares none). */
export function jsonSchemaOf(check: Check<unknown>): JsonSchema {
  return check.schema ?? {};
}
/** A check that also accepts an absent (undefined) value. */
export type OptionalCheck<T> = Check<T | undefined> & { readonly optional: true };

type Shape = Record<string, Check<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Out<C> = C extends Check<infer T> ? T : never;
/** The object type a shape produces (optional checks become optional properties). */
export type Infer<S extends Shape> = { [K in RequiredKeys<S>]: Out<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Out<S[K]>, undefined> };

const invalid = (path: string, expected: string): never => {
  throw new ContractError.InvalidParameter(path, expected);
};

/** Marks a check optional: undefined passes (and the key is left out); null is refused like any bad value. */
export function optional<T>(check: Check<T>): OptionalCheck<T> {
  const wrapped = (value: unknown, path: string) => (value === undefined ? undefined : check(value, path));
  return Object.assign(wrapped, { optional: true as const, ...(check.schema ? { schema: check.schema } : {}) });
}

/** An object with the given fields; missing mandatory fields raise MandatoryElementMissing. */
export function object<S extends Shape>(shape: S): Check<Infer<S>> {
  const schema: JsonSchema = {
    type: 'object',
    properties: Object.fromEntries(Object.entries(shape).map(([key, check]) => [key, jsonSchemaOf(check)])),
  };
  const required = Object.entries(shape).filter(([, check]) => !check.optional).map(([key]) => key);
  if (required.length > 0) schema.required = required; // OpenAPI 3.0 refuses an empty list
  const fields = Object.entries(shape); // once: every message of the type goes through this check
  return withSchema((value: unknown, path: string): Infer<S> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid(path || 'body', 'an object');
    const source = value as Record<string, unknown>;
    const result: Record<string, unknown> = {};
    for (const [key, check] of fields) {
      const childPath = path ? `${path}.${key}` : key;
      const child = Object.prototype.hasOwnProperty.call(source, key) ? source[key] : undefined;
      if (child === undefined && !check.optional) throw new ContractError.MandatoryElementMissing(childPath);
      const parsed = check(child, childPath);
      if (parsed !== undefined) result[key] = parsed;
    }
    return result as Infer<S>;
  }, schema);
}

/** An array whose items all pass `item`, with optional bounds on its length. */
export function arrayOf<T>(item: Check<T>, bounds: { min?: number; max?: number } = {}): Check<T[]> {
  const { min = 0, max = 1024 } = bounds;
  return withSchema((value: unknown, path: string): T[] => {
    if (!Array.isArray(value)) return invalid(path, 'an array');
    if (value.length < min || value.length > max) return invalid(path, `between ${min} and ${max} items`);
    const items: T[] = [];
    for (let index = 0; index < value.length; index += 1) items.push(item(value[index], `${path}[${index}]`));
    return items;
  }, { type: 'array', items: jsonSchemaOf(item), minItems: min, maxItems: max });
}

/** A string of 1..maxLength characters, optionally matching `pattern` (described by `expected`). */
export function string(options: { maxLength?: number; pattern?: RegExp; expected?: string } = {}): Check<string> {
  const { maxLength = 256, pattern, expected = 'a non-empty string' } = options;
  return withSchema((value: unknown, path: string): string => {
    if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) return invalid(path, expected);
    if (pattern !== undefined && !pattern.test(value)) return invalid(path, expected);
    return value;
  }, { type: 'string', minLength: 1, maxLength, ...(pattern ? { pattern: pattern.source } : {}), description: expected });
}

/** One of a fixed set of string literals. */
export function oneOf<const T extends readonly string[]>(values: T): Check<T[number]> {
  return withSchema(
    (value: unknown, path: string): T[number] =>
      typeof value === 'string' && (values as readonly string[]).includes(value) ? (value as T[number]) : invalid(path, `one of ${values.join(', ')}`),
    { type: 'string', enum: [...values] },
  );
}

export const boolean: Check<boolean> = withSchema((value: unknown, path: string): boolean => (typeof value === 'boolean' ? value : invalid(path, 'a boolean')), { type: 'boolean' });

/** A safe integer within [min, max]. */
export function integer(min = 0, max = Number.MAX_SAFE_INTEGER): Check<number> {
  return withSchema(
    (value: unknown, path: string): number =>
      typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max ? value : invalid(path, `an integer in [${min}, ${max}]`),
    { type: 'integer', minimum: min, maximum: max },
  );
}

/** Even-length hexadecimal (upper or lower case), 1..maxBytes bytes. */
export function hex(maxBytes = 65536): Check<string> {
  return string({ maxLength: maxBytes * 2, pattern: /^(?:[0-9A-Fa-f]{2})+$/, expected: 'even-length hex' });
}

/** SGP.02 §2.2.2 / Annex J: 32 digits, 89 prefix, MOD 97-10 check digits (delegated to @rsp/pki). */
export const eid: Check<string> = withSchema(
  (value: unknown, path: string): string => (typeof value === 'string' && isValidEid(value) ? value : invalid(path, 'a 32-digit EID with valid check digits')),
  { type: 'string', pattern: '^89[0-9]{30}$', description: 'EID: 32 digits, MOD 97-10 check digits (SGP.02 §2.2.2)', example: '89049032123451234512345678901235' },
);

/** ITU-T E.118 ICCID: 19–20 digits with a Luhn check digit (delegated to @rsp/pki). */
export const iccid: Check<string> = withSchema(
  (value: unknown, path: string): string => (typeof value === 'string' && isValidIccid(value) ? value : invalid(path, 'an ICCID with a valid Luhn digit')),
  { type: 'string', pattern: '^89[0-9]{17,18}$', description: 'ICCID: 19 or 20 digits with a Luhn check digit (ITU-T E.118)', example: '89882119900000000012' },
);

/** ISO/IEC 7816-5 AID: 5..16 bytes as hex. */
export const aid: Check<string> = string({ maxLength: 32, pattern: /^(?:[0-9A-Fa-f]{2}){5,16}$/, expected: 'a 5..16-byte AID in hex' });

/** An identifier of an entity (requester, SM-SR, SM-DP, MNO, EUM): printable, no whitespace, ≤ 128 chars. */
export const identifier: Check<string> = string({ maxLength: 128, pattern: /^[\x21-\x7E]+$/, expected: 'a printable identifier' });

/** ISO 8601 / XML dateTime or date, e.g. `2026-11-22` or `2026-11-22T05:00:00Z`. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))?$/;
export const dateTime: Check<string> = withSchema(
  (value: unknown, path: string): string =>
    typeof value === 'string' && DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)) ? value : invalid(path, 'an ISO 8601 date or dateTime'),
  { type: 'string', pattern: DATE_TIME.source, description: 'ISO 8601 date or dateTime' },
);

/**
 * Runs `check` on a whole message. The single entry point services use: `parse(es2.downloadProfileRequest, body)`.
 */
export function parse<T>(check: Check<T>, value: unknown): T {
  return check(value, '');
}
