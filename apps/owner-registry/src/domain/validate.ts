/** Body checks: each failure names the member (never echoes the value). */
import { OwnerError } from './errors';

export type Body = Record<string, unknown>;

export function bodyOf(value: unknown): Body {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new OwnerError.BadRequest('body: a JSON object');
  return value as Body;
}

export function text(body: Body, member: string, pattern: RegExp, expected: string): string {
  const value = body[member];
  if (typeof value !== 'string' || !pattern.test(value)) throw new OwnerError.BadRequest(`${member}: ${expected}`);
  return value;
}

export function optionalText(body: Body, member: string, pattern: RegExp, expected: string): string | undefined {
  return body[member] === undefined ? undefined : text(body, member, pattern, expected);
}

export function oneOf<T extends string>(body: Body, member: string, allowed: readonly T[]): T {
  const value = body[member];
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw new OwnerError.BadRequest(`${member}: one of ${allowed.join(' | ')}`);
  return value as T;
}

export const EID = /^[0-9]{32}$/;
export const ICCID = /^[0-9]{18,19}[0-9F]?$/;
export const DEVICE_ID = /^[A-Za-z0-9._-]{1,64}$/;
export const MODEL = /^[\x20-\x7E]{1,64}$/;
/** Claim codes, transfer codes, PACs: printable, bounded. */
export const CODE = /^[\x20-\x7E]{4,128}$/;
export const UUID = /^[0-9a-f-]{36}$/;
