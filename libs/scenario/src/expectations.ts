/**
 * Checking a step's answer against its `expect`: each difference is one line saying what was expected and
 * what came, so a failure in a report points at the exact field, status code or status word.
 */
import type { Matcher, StepExpectation } from './schema';
import { valueAt } from './values';

/** What a step produced, in the shape every check reads. */
export interface StepOutcome {
  /** The answer body (function response, device state, registry answer). */
  body: unknown;
  http?: number;
  /** Device steps: the enabled ICCID and ICCID → lifecycle name. */
  enabled?: string;
  profiles?: Record<string, string>;
  sw?: string;
  /** Device steps: the events the device published since the scenario started, oldest first. */
  events?: ReadonlyArray<Record<string, unknown>>;
}

/** The differences between `expected` and `outcome` (empty when it matches). */
export function differences(expected: StepExpectation | undefined, outcome: StepOutcome): string[] {
  if (!expected) return [];
  const out: string[] = [];
  if (expected.status !== undefined) out.push(...statusDifferences(expected.status, valueAt(outcome.body, 'header.functionExecutionStatus')));
  if (expected.http !== undefined && expected.http !== outcome.http) out.push(`HTTP status: expected ${expected.http}, got ${outcome.http ?? 'none'}`);
  for (const [path, matcher] of Object.entries(expected.fields ?? {})) {
    const problem = mismatch(matcher, valueAt(outcome.body, path));
    if (problem) out.push(`${path}: ${problem}`);
  }
  if (expected.enabled !== undefined) {
    const actual = outcome.enabled ?? 'none';
    if (actual !== expected.enabled) out.push(`enabled profile: expected ${expected.enabled}, got ${actual}`);
  }
  for (const [iccid, state] of Object.entries(expected.profiles ?? {})) {
    const actual = outcome.profiles?.[iccid] ?? 'absent';
    if (actual !== state) out.push(`profile ${iccid}: expected ${state}, got ${actual}`);
  }
  if (expected.sw !== undefined && expected.sw.toUpperCase() !== outcome.sw) out.push(`status word: expected ${expected.sw.toUpperCase()}, got ${outcome.sw ?? 'none'}`);
  if (expected.events !== undefined) out.push(...eventDifferences(expected.events, outcome.events ?? []));
  return out;
}

/** The expected events as an ordered subsequence of what the device published; the first one missing is named. */
function eventDifferences(expected: ReadonlyArray<Record<string, Matcher>>, actual: ReadonlyArray<Record<string, unknown>>): string[] {
  let from = 0;
  for (const [index, wanted] of expected.entries()) {
    const at = actual.findIndex((event, position) => position >= from && Object.entries(wanted).every(([key, matcher]) => mismatch(matcher, valueAt(event, key)) === undefined));
    if (at < 0) {
      const seen = actual.slice(from).map((event) => String(event['type'])).join(', ') || 'none';
      return [`event ${index + 1} ${JSON.stringify(wanted)}: not published after the previous one (then: ${seen})`];
    }
    from = at + 1;
  }
  return [];
}

function statusDifferences(expected: NonNullable<StepExpectation['status']>, actual: unknown): string[] {
  const want = typeof expected === 'string' ? { status: expected } : expected;
  const got = (actual ?? {}) as { status?: string; statusCodeData?: { subjectCode?: string; reasonCode?: string; message?: string } };
  const codes = got.statusCodeData ? ` ${got.statusCodeData.subjectCode}/${got.statusCodeData.reasonCode}${got.statusCodeData.message ? ` (${got.statusCodeData.message})` : ''}` : '';
  const describe = `${got.status ?? 'no functionExecutionStatus'}${codes}`;
  const wanted = `${want.status}${want.subject || want.reason ? ` ${want.subject ?? '*'}/${want.reason ?? '*'}` : ''}`;
  const same =
    got.status === want.status &&
    (want.subject === undefined || got.statusCodeData?.subjectCode === want.subject) &&
    (want.reason === undefined || got.statusCodeData?.reasonCode === want.reason);
  return same ? [] : [`functionExecutionStatus: expected ${wanted}, got ${describe}`];
}

function mismatch(matcher: Matcher, actual: unknown): string | undefined {
  const shown = JSON.stringify(actual) ?? 'undefined';
  if (matcher === null || typeof matcher !== 'object') return actual === matcher ? undefined : `expected ${JSON.stringify(matcher)}, got ${shown}`;
  if ('exists' in matcher) return (actual !== undefined) === matcher.exists ? undefined : `expected ${matcher.exists ? 'a value' : 'no value'}, got ${shown}`;
  if ('regex' in matcher) return typeof actual === 'string' && new RegExp(matcher.regex).test(actual) ? undefined : `expected to match /${matcher.regex}/, got ${shown}`;
  if ('oneOf' in matcher) return matcher.oneOf.includes(actual as never) ? undefined : `expected one of ${JSON.stringify(matcher.oneOf)}, got ${shown}`;
  const length = Array.isArray(actual) || typeof actual === 'string' ? actual.length : undefined;
  return length === matcher.length ? undefined : `expected length ${matcher.length}, got ${length ?? shown}`;
}
