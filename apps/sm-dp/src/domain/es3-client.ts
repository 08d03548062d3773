/**
 * The SM-DP's view of ES3 (SGP.02 §5.4, SM-DP → SM-SR): one typed call per function. The production
 * implementation runs over MQTT service requests (adapters/mqtt-es3-client.ts, pattern
 * `smsr/{smsrId}/es3/{FunctionName}`, docs/services.md); tests swap in an in-process fake.
 *
 * A Failed / Expired reply is a normal reply (returned, not thrown); transport problems are RspErrors.
 */
import type { es3 } from '@rsp/contracts';

export interface Es3RequestMap {
  GetEIS: es3.GetEisRequest;
  AuditEIS: es3.AuditEisRequest;
  CreateISDP: es3.CreateIsdpRequest;
  SendData: es3.SendDataRequest;
  ProfileDownloadCompleted: es3.ProfileDownloadCompletedRequest;
  UpdatePolicyRules: es3.UpdatePolicyRulesRequest;
  UpdateSubscriptionAddress: es3.UpdateSubscriptionAddressRequest;
  EnableProfile: es3.ProfileRequest;
  DisableProfile: es3.ProfileRequest;
  DeleteISDP: es3.ProfileRequest;
}

export interface Es3ResponseMap {
  GetEIS: es3.EisResponse;
  AuditEIS: es3.EisResponse;
  CreateISDP: es3.CreateIsdpResponse;
  SendData: es3.EuiccDataResponse;
  ProfileDownloadCompleted: es3.EmptyResponse;
  UpdatePolicyRules: es3.EmptyResponse;
  UpdateSubscriptionAddress: es3.EmptyResponse;
  EnableProfile: es3.EuiccDataResponse;
  DisableProfile: es3.EuiccDataResponse;
  DeleteISDP: es3.EuiccDataResponse;
}

export type Es3Function = keyof Es3RequestMap;

export interface Es3CallOptions {
  /** How long to wait for the SM-SR's reply (ms). */
  timeoutMs?: number;
}

/** ES3 client: `call('CreateISDP', smsrId, request)` → the SM-SR's response (status included). */
export interface Es3Client {
  call<F extends Es3Function>(fn: F, smsrId: string, request: Es3RequestMap[F], options?: Es3CallOptions): Promise<Es3ResponseMap[F]>;
  close?(): Promise<void>;
}
