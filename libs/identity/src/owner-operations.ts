/**
 * Which owner-policy operation each SGP.02 function is (docs/owner-registry.md "SGP.02 outcomes"): the
 * one table the SM-DP (ES2), the SM-SR (ES3, ES4) and the registry's own ES2 calls on an owner's behalf
 * read, so a function cannot be a consent operation on one interface and a free change on another.
 *
 * ES3 CreateISDP, SendData and ProfileDownloadCompleted are steps of a download the SM-DP was allowed on
 * ES2, so they are `DownloadProfile`; DeleteISDP is the ES3 name of DeleteProfile. ES1 (the EUM's
 * registration) is not an owner matter and has no row.
 */
import type { OwnerPolicyOperation } from './device-status';

export const OWNER_OPERATIONS = {
  ES2: {
    GetEIS: 'Read',
    DownloadProfile: 'DownloadProfile',
    EnableProfile: 'EnableProfile',
    DisableProfile: 'DisableProfile',
    DeleteProfile: 'DeleteProfile',
    UpdatePolicyRules: 'OtherProfileChange',
    UpdateSubscriptionAddress: 'OtherProfileChange',
  },
  ES3: {
    GetEIS: 'Read',
    AuditEIS: 'Read',
    CreateISDP: 'DownloadProfile',
    SendData: 'DownloadProfile',
    ProfileDownloadCompleted: 'DownloadProfile',
    UpdatePolicyRules: 'OtherProfileChange',
    UpdateSubscriptionAddress: 'OtherProfileChange',
    EnableProfile: 'EnableProfile',
    DisableProfile: 'DisableProfile',
    DeleteISDP: 'DeleteProfile',
  },
  ES4: {
    GetEIS: 'Read',
    AuditEIS: 'Read',
    EnableProfile: 'EnableProfile',
    DisableProfile: 'DisableProfile',
    DeleteProfile: 'DeleteProfile',
    UpdatePolicyRules: 'OtherProfileChange',
    UpdateSubscriptionAddress: 'OtherProfileChange',
  },
} as const satisfies Readonly<Record<string, Readonly<Record<string, OwnerPolicyOperation>>>>;

/** An interface whose functions the owner policy covers. */
export type OwnerCheckedInterface = keyof typeof OWNER_OPERATIONS;

/** The operation `fn` (its SGP.02 name) is on `iface`, or undefined when the owner policy does not cover it. */
export function ownerOperationOf(iface: string, fn: string): OwnerPolicyOperation | undefined {
  if (!Object.hasOwn(OWNER_OPERATIONS, iface)) return undefined;
  const table: Readonly<Record<string, OwnerPolicyOperation>> = OWNER_OPERATIONS[iface as OwnerCheckedInterface];
  return Object.hasOwn(table, fn) ? table[fn] : undefined;
}
