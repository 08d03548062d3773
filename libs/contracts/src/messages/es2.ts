/**
 * ES2: MNO → SM-DP (SGP.02 §5.3 [U exact numbering]; function and parameter names from njiwa's ES2 WSDL
 * bindings `dp/ws/ES2Impl.java`: Eid, Smsr-id, Iccid, ProfileType, EnableProfile, pol2, EuiccResponseData).
 *
 * ```
 * GetEIS                    ::= { eid, smsrId }                                   → { eis }
 * DownloadProfile           ::= { eid, smsrId, iccid | profileType, enableProfile } → { iccid, euiccResponseData? }
 * UpdatePolicyRules         ::= { eid, iccid, smsrId, pol2 }                      → {}
 * UpdateSubscriptionAddress ::= { eid, iccid, smsrId, newSubscriptionAddress }    → {}
 * EnableProfile / DisableProfile / DeleteProfile ::= { eid, iccid, smsrId }       → { euiccResponseData? }
 * ```
 * Callbacks to the MNO: {@link NOTIFICATIONS}.
 */
import { ContractError } from '../errors';
import type { Eis } from '../eis';
import { eis } from '../eis';
import { policyRules, type PolicyRule } from '../policy';
import { boolean, eid, hex, iccid, identifier, jsonSchemaOf, object, optional, string, withSchema, type Check } from '../schema';
import { request, response, type FunctionRequest, type FunctionResponse } from './common';

export { NOTIFICATIONS } from './notifications';

/** SGP.02 SubscriptionAddress: the IMSI / MSISDN the network knows the profile by. */
export interface SubscriptionAddress {
  imsi?: string;
  msisdn?: string;
}

export const subscriptionAddress: Check<SubscriptionAddress> = object({
  imsi: optional(string({ maxLength: 15, pattern: /^\d{6,15}$/, expected: 'an IMSI of 6..15 digits' })),
  msisdn: optional(string({ maxLength: 15, pattern: /^\d{1,15}$/, expected: 'an MSISDN of up to 15 digits' })),
});

/**
 * The `newSubscriptionAddress` of UpdateSubscriptionAddress (ES2, ES3, ES4): a subscription address that
 * names at least one of IMSI / MSISDN — an empty one would change nothing (1.6 / 2.3 conditional element).
 */
export const newSubscriptionAddress: Check<SubscriptionAddress> = withSchema(
  (value: unknown, path: string): SubscriptionAddress => {
    const address = subscriptionAddress(value, path);
    if (address.imsi === undefined && address.msisdn === undefined) throw new ContractError.ConditionalElementMissing(`${path}.imsi`);
    return address;
  },
  { ...jsonSchemaOf(subscriptionAddress), minProperties: 1 },
);

export type GetEisRequest = FunctionRequest<{ eid: string; smsrId: string }>;
export type GetEisResponse = FunctionResponse<{ eis?: Eis }>;

/** Exactly one of iccid / profileType names the profile to download. */
export type DownloadProfileRequest = FunctionRequest<{
  eid: string;
  smsrId: string;
  iccid?: string;
  profileType?: string;
  enableProfile: boolean;
}>;
export type DownloadProfileResponse = FunctionResponse<{ iccid?: string; euiccResponseData?: string }>;

export type UpdatePolicyRulesRequest = FunctionRequest<{ eid: string; iccid: string; smsrId: string; pol2: PolicyRule[] }>;
export type UpdateSubscriptionAddressRequest = FunctionRequest<{
  eid: string;
  iccid: string;
  smsrId: string;
  newSubscriptionAddress: SubscriptionAddress;
}>;
export type ProfileRequest = FunctionRequest<{ eid: string; iccid: string; smsrId: string }>;
export type EnableProfileRequest = ProfileRequest;
export type DisableProfileRequest = ProfileRequest;
export type DeleteProfileRequest = ProfileRequest;
/** Response of the functions that return no output. */
export type EmptyResponse = FunctionResponse;
/** Response of the functions that may relay the eUICC's response data (hex). */
export type EuiccDataResponse = FunctionResponse<{ euiccResponseData?: string }>;

const profileType = string({ maxLength: 64, pattern: /^[\x20-\x7E]+$/, expected: 'a printable profile type' });

export const getEisRequest: Check<GetEisRequest> = request({ eid, smsrId: identifier });
export const getEisResponse: Check<GetEisResponse> = response({ eis });

const downloadProfileShape = request({
  eid,
  smsrId: identifier,
  iccid: optional(iccid),
  profileType: optional(profileType),
  enableProfile: boolean,
});

/** DownloadProfile: iccid and profileType are alternatives; none → 2.3, both → 2.1 (ambiguous). */
export const downloadProfileRequest: Check<DownloadProfileRequest> = withSchema((value: unknown, path: string): DownloadProfileRequest => {
  const parsed = downloadProfileShape(value, path);
  if (parsed.iccid === undefined && parsed.profileType === undefined) throw new ContractError.ConditionalElementMissing('iccid|profileType');
  if (parsed.iccid !== undefined && parsed.profileType !== undefined) {
    throw new ContractError.InvalidParameter('profileType', 'either iccid or profileType, not both');
  }
  return parsed;
}, { ...jsonSchemaOf(downloadProfileShape), description: 'Either iccid or profileType (not both)' });
export const downloadProfileResponse: Check<DownloadProfileResponse> = response({ iccid, euiccResponseData: optional(hex()) });

export const updatePolicyRulesRequest: Check<UpdatePolicyRulesRequest> = request({ eid, iccid, smsrId: identifier, pol2: policyRules });
export const updateSubscriptionAddressRequest: Check<UpdateSubscriptionAddressRequest> = request({
  eid,
  iccid,
  smsrId: identifier,
  newSubscriptionAddress,
});
const profileRequest: Check<ProfileRequest> = request({ eid, iccid, smsrId: identifier });
export const enableProfileRequest: Check<EnableProfileRequest> = profileRequest;
export const disableProfileRequest: Check<DisableProfileRequest> = profileRequest;
export const deleteProfileRequest: Check<DeleteProfileRequest> = profileRequest;

export const emptyResponse: Check<EmptyResponse> = response({});
export const euiccDataResponse: Check<EuiccDataResponse> = response({ euiccResponseData: optional(hex()) });

/** ES2 request validators by SGP.02 function name. */
export const ES2_REQUESTS = {
  GetEIS: getEisRequest,
  DownloadProfile: downloadProfileRequest,
  UpdatePolicyRules: updatePolicyRulesRequest,
  UpdateSubscriptionAddress: updateSubscriptionAddressRequest,
  EnableProfile: enableProfileRequest,
  DisableProfile: disableProfileRequest,
  DeleteProfile: deleteProfileRequest,
} as const;

/** ES2 response validators by SGP.02 function name. */
export const ES2_RESPONSES = {
  GetEIS: getEisResponse,
  DownloadProfile: downloadProfileResponse,
  UpdatePolicyRules: emptyResponse,
  UpdateSubscriptionAddress: emptyResponse,
  EnableProfile: euiccDataResponse,
  DisableProfile: euiccDataResponse,
  DeleteProfile: euiccDataResponse,
} as const;
