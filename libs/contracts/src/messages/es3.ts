/**
 * ES3: SM-DP → SM-SR (SGP.02 §5.4 [U exact numbering]). Carried over MQTT service requests in this
 * project (topic {@link serviceTopic}); parameter names from njiwa's ES3 WSDL bindings
 * `sr/ws/interfaces/ES3.java`: Eid, Iccid, Mno-id, RequiredMemory, moreToDo, sd-aid, Data, ProfileType,
 * SubscriptionAddress, pol2, Isd-p-aid, EuiccResponseData.
 *
 * ```
 * GetEIS                       ::= { eid }                                          → { eis }
 * AuditEIS                     ::= { eid, iccids? }                                 → { eis }
 * CreateISDP                   ::= { eid, iccid, mnoId, requiredMemory, moreToDo? } → { isdpAid, euiccResponseData? }
 * SendData                     ::= { eid, sdAid, data, moreToDo? }                  → { euiccResponseData? }
 * ProfileDownloadCompleted     ::= { eid, iccid, profileType?, subscriptionAddress?, pol2? } → {}
 * UpdatePolicyRules            ::= { eid, iccid, pol2 }                             → {}
 * UpdateSubscriptionAddress    ::= { eid, iccid, newSubscriptionAddress }           → {}
 * UpdateConnectivityParameters ::= { eid, iccid, connectivityParameters }           → { euiccResponseData? }
 * EnableProfile / DisableProfile / DeleteISDP ::= { eid, iccid }                    → { euiccResponseData? }
 * ```
 * Callbacks to the SM-DP: {@link NOTIFICATIONS}.
 */
import { eis } from '../eis';
import type { Eis } from '../eis';
import { policyRules, type PolicyRule } from '../policy';
import { aid, arrayOf, boolean, eid, hex, iccid, identifier, integer, optional, string, type Check } from '../schema';
import { request, response, type FunctionRequest, type FunctionResponse } from './common';
import { emptyResponse, euiccDataResponse, newSubscriptionAddress, subscriptionAddress, type EmptyResponse, type EuiccDataResponse, type SubscriptionAddress } from './es2';

export { NOTIFICATIONS } from './notifications';

export type GetEisRequest = FunctionRequest<{ eid: string }>;
export type AuditEisRequest = FunctionRequest<{ eid: string; iccids?: string[] }>;
export type EisResponse = FunctionResponse<{ eis?: Eis }>;
export type CreateIsdpRequest = FunctionRequest<{
  eid: string;
  iccid: string;
  mnoId: string;
  /** Bytes of non-volatile memory to reserve for the ISD-P. */
  requiredMemory: number;
  /** More functions of the same download follow (SGP.02 moreToDo): keep the session open. */
  moreToDo?: boolean;
}>;
export type CreateIsdpResponse = FunctionResponse<{ isdpAid?: string; euiccResponseData?: string }>;
export type SendDataRequest = FunctionRequest<{
  eid: string;
  /** Target security domain (the ISD-P for ES8 scripts). */
  sdAid: string;
  /** The command script for the security domain, hex. */
  data: string;
  moreToDo?: boolean;
}>;
export type ProfileDownloadCompletedRequest = FunctionRequest<{
  eid: string;
  iccid: string;
  profileType?: string;
  subscriptionAddress?: SubscriptionAddress;
  pol2?: PolicyRule[];
}>;
export type UpdatePolicyRulesRequest = FunctionRequest<{ eid: string; iccid: string; pol2: PolicyRule[] }>;
export type UpdateSubscriptionAddressRequest = FunctionRequest<{ eid: string; iccid: string; newSubscriptionAddress: SubscriptionAddress }>;
export type UpdateConnectivityParametersRequest = FunctionRequest<{ eid: string; iccid: string; connectivityParameters: string }>;
export type ProfileRequest = FunctionRequest<{ eid: string; iccid: string }>;
export type { EmptyResponse, EuiccDataResponse };

export const getEisRequest: Check<GetEisRequest> = request({ eid });
export const auditEisRequest: Check<AuditEisRequest> = request({ eid, iccids: optional(arrayOf(iccid, { max: 255 })) });
export const eisResponse: Check<EisResponse> = response({ eis });
export const createIsdpRequest: Check<CreateIsdpRequest> = request({
  eid,
  iccid,
  mnoId: identifier,
  requiredMemory: integer(1, 0x7fffffff),
  moreToDo: optional(boolean),
});
export const createIsdpResponse: Check<CreateIsdpResponse> = response({ isdpAid: aid, euiccResponseData: optional(hex()) });
export const sendDataRequest: Check<SendDataRequest> = request({ eid, sdAid: aid, data: hex(), moreToDo: optional(boolean) });
export const profileDownloadCompletedRequest: Check<ProfileDownloadCompletedRequest> = request({
  eid,
  iccid,
  profileType: optional(string({ maxLength: 64 })),
  subscriptionAddress: optional(subscriptionAddress),
  pol2: optional(policyRules),
});
export const updatePolicyRulesRequest: Check<UpdatePolicyRulesRequest> = request({ eid, iccid, pol2: policyRules });
export const updateSubscriptionAddressRequest: Check<UpdateSubscriptionAddressRequest> = request({ eid, iccid, newSubscriptionAddress });
export const updateConnectivityParametersRequest: Check<UpdateConnectivityParametersRequest> = request({
  eid,
  iccid,
  connectivityParameters: hex(4096),
});
const profileRequest: Check<ProfileRequest> = request({ eid, iccid });
export const enableProfileRequest = profileRequest;
export const disableProfileRequest = profileRequest;
export const deleteIsdpRequest = profileRequest;

/** ES3 request validators by SGP.02 function name. */
export const ES3_REQUESTS = {
  GetEIS: getEisRequest,
  AuditEIS: auditEisRequest,
  CreateISDP: createIsdpRequest,
  SendData: sendDataRequest,
  ProfileDownloadCompleted: profileDownloadCompletedRequest,
  UpdatePolicyRules: updatePolicyRulesRequest,
  UpdateSubscriptionAddress: updateSubscriptionAddressRequest,
  UpdateConnectivityParameters: updateConnectivityParametersRequest,
  EnableProfile: enableProfileRequest,
  DisableProfile: disableProfileRequest,
  DeleteISDP: deleteIsdpRequest,
} as const;

/** ES3 response validators by SGP.02 function name. */
export const ES3_RESPONSES = {
  GetEIS: eisResponse,
  AuditEIS: eisResponse,
  CreateISDP: createIsdpResponse,
  SendData: euiccDataResponse,
  ProfileDownloadCompleted: emptyResponse,
  UpdatePolicyRules: emptyResponse,
  UpdateSubscriptionAddress: emptyResponse,
  UpdateConnectivityParameters: euiccDataResponse,
  EnableProfile: euiccDataResponse,
  DisableProfile: euiccDataResponse,
  DeleteISDP: euiccDataResponse,
} as const;
