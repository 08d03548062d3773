/**
 * Variables and captures: `${name}` and `${devices.oven.eid}` in any string of a step are replaced by the
 * scenario's values before the step runs; a step's `capture` reads dotted paths of its answer into new
 * values. An unknown name is an error naming it (never an empty string sent by mistake).
 */
import { RspError } from '@rsp/errors';

export class ScenarioValueError extends RspError {
  static override readonly code = 'ERR_SCENARIO_VALUE';
}

export type Values = Record<string, unknown>;

/** The value at a dotted path (`header.functionExecutionStatus.status`, `profiles.0.iccid`), or undefined. */
export function valueAt(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;

/** `input` with every `${name}` replaced; a string that is exactly one reference keeps the value's type. */
export function interpolate<T>(input: T, values: Values): T {
  if (typeof input === 'string') {
    const whole = /^\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}$/.exec(input);
    if (whole) return lookup(values, whole[1] as string) as T;
    return input.replace(REFERENCE, (_match, name: string) => String(lookup(values, name))) as T;
  }
  if (Array.isArray(input)) return input.map((item) => interpolate(item, values)) as T;
  if (input !== null && typeof input === 'object') {
    // Keys too: `profiles: { "${iccid}": ENABLED }` names a captured profile.
    return Object.fromEntries(Object.entries(input).map(([key, value]) => [key.includes('${') ? String(interpolate(key, values)) : key, interpolate(value, values)])) as T;
  }
  return input;
}

function lookup(values: Values, name: string): unknown {
  const value = valueAt(values, name);
  if (value === undefined) throw new ScenarioValueError(`\${${name}} is not defined (vars, devices.<name>.eid, or a capture of an earlier step)`);
  return value;
}
