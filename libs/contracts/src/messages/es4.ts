/**
 * ES4: MNO → SM-SR (SGP.02 §5.6 [U exact numbering]; parameter names from njiwa's ES4 WSDL bindings
 * `sr/ws/interfaces/ES4.java`: Eid, Iccid, pol2). The SM-SR change functions (PrepareSMSRChange,
 * SMSRChange) are out of scope here.
 *
 * ```
 * GetEIS            ::= { eid }               → { eis }     -- filtered to the MNO's own profiles
 * AuditEIS          ::= { eid, iccids? }      → { eis }
 * EnableProfile / DisableProfile / DeleteProfile ::= { eid, iccid } → { euiccResponseData? }
 * UpdatePolicyRules ::= { eid, iccid, pol2 }  → {}
 * UpdateSubscriptionAddress ::= { eid, iccid, newSubscriptionAddress } → {}
 * ```
 * Callbacks to the MNO: {@link NOTIFICATIONS}.
 */
import { policyRules, type PolicyRule } from '../policy';
import { eid, iccid, type Check } from '../schema';
import { request, type FunctionRequest } from './common';
import { emptyResponse, euiccDataResponse, newSubscriptionAddress, type SubscriptionAddress } from './es2';
import { auditEisRequest, eisResponse, getEisRequest, type AuditEisRequest, type EisResponse, type GetEisRequest, type ProfileRequest } from './es3';

export { NOTIFICATIONS } from './notifications';
export type { AuditEisRequest, EisResponse, GetEisRequest, ProfileRequest };
export type EnableProfileRequest = ProfileRequest;
export type DisableProfileRequest = ProfileRequest;
export type DeleteProfileRequest = ProfileRequest;
export type UpdatePolicyRulesRequest = FunctionRequest<{ eid: string; iccid: string; pol2: PolicyRule[] }>;
export type UpdateSubscriptionAddressRequest = FunctionRequest<{ eid: string; iccid: string; newSubscriptionAddress: SubscriptionAddress }>;

const profileRequest: Check<ProfileRequest> = request({ eid, iccid });
export const enableProfileRequest: Check<EnableProfileRequest> = profileRequest;
export const disableProfileRequest: Check<DisableProfileRequest> = profileRequest;
export const deleteProfileRequest: Check<DeleteProfileRequest> = profileRequest;
export const updatePolicyRulesRequest: Check<UpdatePolicyRulesRequest> = request({ eid, iccid, pol2: policyRules });
export const updateSubscriptionAddressRequest: Check<UpdateSubscriptionAddressRequest> = request({ eid, iccid, newSubscriptionAddress });
export { auditEisRequest, eisResponse, getEisRequest };

/** ES4 request validators by SGP.02 function name. */
export const ES4_REQUESTS = {
  GetEIS: getEisRequest,
  AuditEIS: auditEisRequest,
  EnableProfile: enableProfileRequest,
  DisableProfile: disableProfileRequest,
  DeleteProfile: deleteProfileRequest,
  UpdatePolicyRules: updatePolicyRulesRequest,
  UpdateSubscriptionAddress: updateSubscriptionAddressRequest,
} as const;

/** ES4 response validators by SGP.02 function name. */
export const ES4_RESPONSES = {
  GetEIS: eisResponse,
  AuditEIS: eisResponse,
  EnableProfile: euiccDataResponse,
  DisableProfile: euiccDataResponse,
  DeleteProfile: euiccDataResponse,
  UpdatePolicyRules: emptyResponse,
  UpdateSubscriptionAddress: emptyResponse,
} as const;
