/**
 * Notification callbacks shared by ES2 (SM-DP → MNO), ES3 (SM-SR → SM-DP) and ES4 (SM-SR → MNO):
 * SGP.02 §5.3.x / §5.4.x / §5.6.x Handle*Notification [U exact section numbers]. One-way: no response body.
 *
 * ```
 * HandleProfileEnabledNotification  ::= { header, eid, iccid, completionTimestamp }
 * HandleProfileDisabledNotification ::= { header, eid, iccid, completionTimestamp }
 * HandleProfileDeletedNotification  ::= { header, eid, iccid, completionTimestamp }
 * HandleSMSRChangeNotification      ::= { header, eid, smsrId, completionTimestamp }
 * ```
 */
import { dateTime, eid, iccid, identifier, type Check } from '../schema';
import { request, type FunctionRequest, type ProfileChangeNotification } from './common';

export type HandleProfileEnabledNotification = FunctionRequest<ProfileChangeNotification>;
export type HandleProfileDisabledNotification = FunctionRequest<ProfileChangeNotification>;
export type HandleProfileDeletedNotification = FunctionRequest<ProfileChangeNotification>;
export type HandleSmsrChangeNotification = FunctionRequest<{ eid: string; smsrId: string; completionTimestamp: string }>;

const profileChange: Check<FunctionRequest<ProfileChangeNotification>> = request({ eid, iccid, completionTimestamp: dateTime });

export const handleProfileEnabledNotification: Check<HandleProfileEnabledNotification> = profileChange;
export const handleProfileDisabledNotification: Check<HandleProfileDisabledNotification> = profileChange;
export const handleProfileDeletedNotification: Check<HandleProfileDeletedNotification> = profileChange;
export const handleSmsrChangeNotification: Check<HandleSmsrChangeNotification> = request({
  eid,
  smsrId: identifier,
  completionTimestamp: dateTime,
});

/** Validators of the notification callbacks, by SGP.02 function name. */
export const NOTIFICATIONS = {
  HandleProfileEnabledNotification: handleProfileEnabledNotification,
  HandleProfileDisabledNotification: handleProfileDisabledNotification,
  HandleProfileDeletedNotification: handleProfileDeletedNotification,
  HandleSMSRChangeNotification: handleSmsrChangeNotification,
} as const;
