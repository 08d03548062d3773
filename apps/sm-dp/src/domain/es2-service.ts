/**
 * ES2 (SGP.02 §5.3, MNO → SM-DP) as transport-free use cases. Every call goes: authenticate the MNO
 * (X-API-Key) → validate the body (libs/contracts) → requester = authenticated MNO → idempotency on
 * (MNO, functionCallIdentifier) → the function. Every outcome is a FunctionExecutionStatus; nothing
 * thrown reaches the caller.
 */
import {
  ContractFailure,
  StatusError,
  es2,
  executedSuccess,
  failed,
  parse,
  statusCodeFor,
  toExecutionStatus,
  type FunctionExecutionStatus,
  type FunctionResponse,
} from '@rsp/contracts';
import { requestFingerprint, type IdempotencyStore } from '@rsp/persistence';
import type { DownloadService, Logger } from './download-service';
import type { Es3Gateway } from './es3-gateway';
import type { Inventory } from './inventory';
import type { OwnerConsentCheck } from './owner-consent';
import { SMDP_STATUS } from './status-codes';

/** ES2 functions by their HTTP name (lowerCamelCase, docs/services.md "HTTP binding"). */
export const ES2_FUNCTIONS = {
  getEIS: 'GetEIS',
  downloadProfile: 'DownloadProfile',
  updatePolicyRules: 'UpdatePolicyRules',
  updateSubscriptionAddress: 'UpdateSubscriptionAddress',
  enableProfile: 'EnableProfile',
  disableProfile: 'DisableProfile',
  deleteProfile: 'DeleteProfile',
} as const;
export type Es2HttpName = keyof typeof ES2_FUNCTIONS;
export type Es2Function = (typeof ES2_FUNCTIONS)[Es2HttpName];

/** What the HTTP adapter sends back. */
export interface Es2Outcome {
  /** 200 for every processed call; 401 when no credential was sent at all. */
  httpStatus: 200 | 401;
  body: FunctionResponse<Record<string, unknown>>;
}

const respond = (status: FunctionExecutionStatus, httpStatus: 200 | 401 = 200): Es2Outcome => ({
  httpStatus,
  body: { header: { functionExecutionStatus: status } },
});

export interface Es2ServiceOptions {
  /** How long a repeat waits for the first call of the same id to finish. Default 120 s. */
  maxReplayWaitMs?: number;
  /** Owner consent / device suspension checks (docs/owner-registry.md); absent = none. */
  ownerConsent?: OwnerConsentCheck;
}

export class Es2Service {
  constructor(
    private readonly inventory: Inventory,
    private readonly idempotency: IdempotencyStore,
    private readonly downloads: DownloadService,
    private readonly es3: Es3Gateway,
    private readonly logger: Logger,
    private readonly options: Es2ServiceOptions = {},
  ) {}

  /** `ownerConsent`: the `X-Owner-Consent` header (docs/owner-registry.md "Consent tokens"), if sent. */
  async handle(httpName: string, apiKey: string | undefined, body: unknown, ownerConsent?: string): Promise<Es2Outcome> {
    if (!Object.prototype.hasOwnProperty.call(ES2_FUNCTIONS, httpName)) return respond(failed(SMDP_STATUS.FUNCTION_NOT_SUPPORTED, httpName));
    const fn = ES2_FUNCTIONS[httpName as Es2HttpName];
    // SGP.02 §5.1 / docs/services.md: no credential → 401, wrong credential → 200 Failed 1.1 / 1.1.
    if (!apiKey) return respond(failed(SMDP_STATUS.REQUESTER_UNKNOWN), 401);
    const mno = await this.inventory.authenticate(apiKey);
    if (!mno) return respond(failed(SMDP_STATUS.REQUESTER_UNKNOWN));
    let request: es2.GetEisRequest & Record<string, unknown>;
    try {
      request = parse(es2.ES2_REQUESTS[fn] as (value: unknown, path: string) => es2.GetEisRequest & Record<string, unknown>, body);
    } catch (error) {
      return respond(toExecutionStatus(error));
    }
    if (request.header.functionRequesterIdentifier !== mno.mnoId) {
      return respond(failed(SMDP_STATUS.REQUESTER_NOT_ALLOWED, request.header.functionRequesterIdentifier));
    }
    // Owner consent before anything else (no idempotency record, no ES3 / card traffic on refusal).
    const refusal = await this.options.ownerConsent?.refusal(fn, request.eid, mno.mnoId, ownerConsent);
    if (refusal) return respond(refusal);
    return { httpStatus: 200, body: await this.idempotent(mno.mnoId, fn, request) };
  }

  /**
   * SGP.02 §5.1 functionCallIdentifier: the first call runs; a repeat with the same request gets the
   * stored response (no second download); the same identifier with another request is refused
   * (1.6 / 3.3, see SMDP_STATUS.CALL_ID_REUSED). The request fingerprint is stored and compared by the
   * shared IdempotencyStore, the same rule as the SM-SR's ES1 / ES3 / ES4 frame.
   */
  private async idempotent(mnoId: string, fn: Es2Function, request: es2.GetEisRequest): Promise<FunctionResponse<Record<string, unknown>>> {
    const requestHash = requestFingerprint(fn, request);
    const callId = request.header.functionCallIdentifier;
    const waitUntil = Date.now() + (this.options.maxReplayWaitMs ?? 120_000);
    for (;;) {
      const outcome = await this.idempotency.claimOrReplay(mnoId, callId, () => this.execute(mnoId, fn, request, requestHash), requestHash);
      if (outcome.status === 'succeeded') return outcome.response;
      if (outcome.status === 'conflict') {
        this.logger.warn(`ES2 ${fn} from ${mnoId}: functionCallIdentifier reused with another request, refused`);
        return { header: { functionExecutionStatus: failed(SMDP_STATUS.CALL_ID_REUSED, 'header.functionCallIdentifier') } };
      }
      if (outcome.status === 'failed') {
        return { header: { functionExecutionStatus: failed(statusCodeFor(outcome.errorCode) ?? SMDP_STATUS.EXECUTION_ERROR) } };
      }
      if (Date.now() >= waitUntil) return { header: { functionExecutionStatus: failed(SMDP_STATUS.PROVIDER_BUSY) } };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Crash recovery: the ES2 answer of a DownloadProfile flow resumed after a restart, stored under the
   * call's identifier (its first caller's process died, leaving the record `in-progress`). A repeat
   * waiting in {@link idempotent} (up to maxReplayWaitMs) or arriving later gets it.
   */
  async settleReplay(mnoId: string, replay: { callId: string; requestHash: string }, response: es2.DownloadProfileResponse): Promise<void> {
    await this.idempotency.settle(mnoId, replay.callId, response as FunctionResponse<Record<string, unknown>>, replay.requestHash);
  }

  /** Runs one function; every error becomes its FunctionExecutionStatus. */
  private async execute(mnoId: string, fn: Es2Function, request: es2.GetEisRequest, requestHash: string): Promise<FunctionResponse<Record<string, unknown>>> {
    try {
      return await this.run(mnoId, fn, request, requestHash);
    } catch (error) {
      if (!(error instanceof StatusError) && !(error instanceof ContractFailure)) {
        this.logger.warn(`ES2 ${fn} for ${mnoId} failed: ${(error as { code?: string }).code ?? 'unexpected error'}`);
      }
      const subject = 'iccid' in request && typeof request.iccid === 'string' ? request.iccid : request.eid;
      return { header: { functionExecutionStatus: toExecutionStatus(error, subject) } };
    }
  }

  private async run(mnoId: string, fn: Es2Function, request: es2.GetEisRequest, requestHash: string): Promise<FunctionResponse<Record<string, unknown>>> {
    const success = { header: { functionExecutionStatus: executedSuccess() } };
    const callId = `${mnoId}:${request.header.functionCallIdentifier}`.slice(0, 128);
    const deadline = request.header.validityPeriod === undefined ? null : new Date(Date.now() + request.header.validityPeriod * 1000);
    const call = { callId, deadline };
    switch (fn) {
      case 'DownloadProfile':
        // The call's identity travels with the flow: a flow resumed after a crash answers repeats of this call.
        return (await this.downloads.download(mnoId, request as es2.DownloadProfileRequest, {
          callId: request.header.functionCallIdentifier,
          requestHash,
        })) as FunctionResponse<Record<string, unknown>>;
      case 'GetEIS': {
        const { eis } = await this.es3.call('GetEIS', request.smsrId, { eid: request.eid }, call);
        // SGP.02 §5.3 GetEIS [U]: the MNO sees only the profiles it owns.
        return eis ? { ...success, eis: { ...eis, profiles: eis.profiles.filter((profile) => profile.mnoId === mnoId) } } : success;
      }
      case 'UpdatePolicyRules': {
        const { eid, iccid, smsrId, pol2 } = request as es2.UpdatePolicyRulesRequest;
        await this.inventory.ownedSubscription(mnoId, iccid);
        await this.es3.call('UpdatePolicyRules', smsrId, { eid, iccid, pol2 }, call);
        return success;
      }
      case 'UpdateSubscriptionAddress': {
        // ES3 has no UpdateSubscriptionAddress in this project's contract: checked, then refused.
        await this.inventory.ownedSubscription(mnoId, (request as es2.UpdateSubscriptionAddressRequest).iccid);
        throw new StatusError(SMDP_STATUS.FUNCTION_NOT_SUPPORTED, 'UpdateSubscriptionAddress');
      }
      case 'EnableProfile':
      case 'DisableProfile':
      case 'DeleteProfile': {
        const { eid, iccid, smsrId } = request as es2.ProfileRequest;
        await this.inventory.ownedSubscription(mnoId, iccid);
        const es3Function = fn === 'DeleteProfile' ? 'DeleteISDP' : fn; // SGP.02 §3.4: DeleteProfile → ES3.DeleteISDP
        const response = await this.es3.call(es3Function, smsrId, { eid, iccid }, call);
        if (fn === 'DeleteProfile') await this.inventory.markDeleted(iccid);
        return response.euiccResponseData ? { ...success, euiccResponseData: response.euiccResponseData } : success;
      }
    }
  }
}
