/**
 * What to do next after a common refusal: one plain line per hint, printed on stderr after the status line
 * (stdout keeps the SGP.02 result for scripts). Keyed by the SGP.02 subject/reason codes (SGP.02 §5.1.6)
 * and the function, never by message text.
 */
import type { FunctionExecutionStatus } from '@rsp/contracts';

interface HintRow {
  readonly subject: string;
  readonly reason: string;
  /** Function names the row applies to (lower camel case, as sent); all when absent. */
  readonly functions?: readonly string[];
  readonly hint: (context: HintContext) => string | undefined;
}

export interface HintContext {
  /** Whether an owner consent went with the call. */
  readonly consentSent: boolean;
}

const PROFILE_CHANGES = ['downloadProfile', 'enableProfile', 'disableProfile', 'deleteProfile', 'updatePolicyRules', 'updateSubscriptionAddress'];

const HINTS: readonly HintRow[] = [
  {
    subject: '1.1',
    reason: '1.2',
    hint: () => '--requester must be the MNO the API key belongs to (the demo key is mno.demo)',
  },
  {
    subject: '8.1.1',
    reason: '1.2',
    functions: PROFILE_CHANGES,
    hint: ({ consentSent }) =>
      consentSent
        ? undefined
        : 'the device has an owner: ask the owner for a consent (owner portal, "Consents") and pass it with --consent or RSP_OWNER_CONSENT',
  },
  {
    subject: '8.1.1',
    reason: '6.1',
    functions: PROFILE_CHANGES,
    hint: () => 'the owner consent was refused (expired, revoked, for another device, operator or operation): ask the owner for a new one',
  },
  {
    subject: '8.2.1',
    reason: '1.2',
    functions: ['deleteProfile'],
    hint: () => 'an enabled profile cannot be deleted: enable another profile (or disable this one) first, then delete it',
  },
  {
    subject: '8.2.1',
    reason: '3.7',
    functions: ['downloadProfile'],
    hint: () => 'no subscription of this profile type is left: stock more (POST /mno/subscriptions on the SM-DP) or pass another --profile-type',
  },
  {
    subject: '1.6',
    reason: '3.3',
    hint: () => 'this functionCallIdentifier was used for another request: drop --call-id (a fresh one is made) or reuse it with the same request',
  },
];

/** The hints for a Failed status; none otherwise. */
export function hintsFor(functionName: string, status: FunctionExecutionStatus, context: HintContext): string[] {
  // Only refusals with a next step the caller can take; unknown EIDs, keys and expiries say enough already.
  if (status.status !== 'Failed') return [];
  const code = status.statusCodeData;
  if (code === undefined) return [];
  return HINTS.filter((row) => row.subject === code.subjectCode && row.reason === code.reasonCode)
    .filter((row) => row.functions === undefined || row.functions.includes(functionName))
    .map((row) => row.hint(context))
    .filter((hint): hint is string => hint !== undefined);
}
