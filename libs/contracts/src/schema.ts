/**
 * A tiny runtime schema helper (no dependency): each {@link Check} turns an `unknown` into a typed value
 * or throws a {@link ContractError} naming the parameter path. Objects are rebuilt from their known
 * keys only, so unknown fields never travel further than the edge.
 */
import { isValidEid, isValidIccid } from '@rsp/pki';
import { ContractError } from './errors';

/** Parses `value` found at `path`; throws ContractError on a contract breach. */
export type Check<T> = ((value: unknown, path: string) => T) & { readonly optional?: boolean };
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
  return Object.assign(wrapped, { optional: true as const });
}

/** An object with the given fields; missing mandatory fields raise MandatoryElementMissing. */
export function object<S extends Shape>(shape: S): Check<Infer<S>> {
  return (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid(path || 'body', 'an object');
    const source = value as Record<string, unknown>;
    const result: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      const childPath = path ? `${path}.${key}` : key;
      const child = Object.prototype.hasOwnProperty.call(source, key) ? source[key] : undefined;
      if (child === undefined && !check.optional) throw new ContractError.MandatoryElementMissing(childPath);
      const parsed = check(child, childPath);
      if (parsed !== undefined) result[key] = parsed;
    }
    return result as Infer<S>;
  };
}

/** An array whose items all pass `item`, with optional bounds on its length. */
export function arrayOf<T>(item: Check<T>, bounds: { min?: number; max?: number } = {}): Check<T[]> {
  const { min = 0, max = 1024 } = bounds;
  return (value, path) => {
    if (!Array.isArray(value)) return invalid(path, 'an array');
    if (value.length < min || value.length > max) return invalid(path, `between ${min} and ${max} items`);
    return value.map((entry, index) => item(entry, `${path}[${index}]`));
  };
}

/** A string of 1..maxLength characters, optionally matching `pattern` (described by `expected`). */
export function string(options: { maxLength?: number; pattern?: RegExp; expected?: string } = {}): Check<string> {
  const { maxLength = 256, pattern, expected = 'a non-empty string' } = options;
  return (value, path) => {
    if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) return invalid(path, expected);
    if (pattern !== undefined && !pattern.test(value)) return invalid(path, expected);
    return value;
  };
}

/** One of a fixed set of string literals. */
export function oneOf<const T extends readonly string[]>(values: T): Check<T[number]> {
  return (value, path) =>
    typeof value === 'string' && (values as readonly string[]).includes(value)
      ? (value as T[number])
      : invalid(path, `one of ${values.join(', ')}`);
}

export const boolean: Check<boolean> = (value, path) => (typeof value === 'boolean' ? value : invalid(path, 'a boolean'));

/** A safe integer within [min, max]. */
export function integer(min = 0, max = Number.MAX_SAFE_INTEGER): Check<number> {
  return (value, path) =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
      ? value
      : invalid(path, `an integer in [${min}, ${max}]`);
}

/** Even-length hexadecimal (upper or lower case), 1..maxBytes bytes. */
export function hex(maxBytes = 65536): Check<string> {
  return string({ maxLength: maxBytes * 2, pattern: /^(?:[0-9A-Fa-f]{2})+$/, expected: 'even-length hex' });
}

/** SGP.02 §2.2.2 / Annex J: 32 digits, 89 prefix, MOD 97-10 check digits (delegated to @rsp/pki). */
export const eid: Check<string> = (value, path) =>
  typeof value === 'string' && isValidEid(value) ? value : invalid(path, 'a 32-digit EID with valid check digits');

/** ITU-T E.118 ICCID: 19–20 digits with a Luhn check digit (delegated to @rsp/pki). */
export const iccid: Check<string> = (value, path) =>
  typeof value === 'string' && isValidIccid(value) ? value : invalid(path, 'an ICCID with a valid Luhn digit');

/** ISO/IEC 7816-5 AID: 5..16 bytes as hex. */
export const aid: Check<string> = string({ maxLength: 32, pattern: /^(?:[0-9A-Fa-f]{2}){5,16}$/, expected: 'a 5..16-byte AID in hex' });

/** An identifier of an entity (requester, SM-SR, SM-DP, MNO, EUM): printable, no whitespace, ≤ 128 chars. */
export const identifier: Check<string> = string({ maxLength: 128, pattern: /^[\x21-\x7E]+$/, expected: 'a printable identifier' });

/** ISO 8601 / XML dateTime or date, e.g. `2026-11-22` or `2026-11-22T05:00:00Z`. */
export const dateTime: Check<string> = (value, path) =>
  typeof value === 'string' &&
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))?$/.test(value) &&
  !Number.isNaN(Date.parse(value))
    ? value
    : invalid(path, 'an ISO 8601 date or dateTime');

/**
 * Runs `check` on a whole message. The single entry point services use: `parse(es2.downloadProfileRequest, body)`.
 */
export function parse<T>(check: Check<T>, value: unknown): T {
  return check(value, '');
}
