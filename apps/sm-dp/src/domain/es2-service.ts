/**
 * ES2 (SGP.02 §5.3, MNO → SM-DP) as a table of rows on the common SGP.02 frame of @rsp/contracts
 * (`FunctionFrame`: validation, requester = the MNO its API key proves, owner-consent guard, validityPeriod,
 * idempotency on (MNO, functionCallIdentifier), the in-progress answer, errors → status). Transport-free:
 * the HTTP adapter proves the MNO ({@link Es2Service.identify}), calls {@link Es2Service.frame} and writes
 * the answer.
 */
import {
  FunctionFrame,
  es2,
  functionRow,
  type CallContext,
  type FunctionResult,
  type FunctionRow,
  type ProvenRequester,
  type RequestHeader,
} from '@rsp/contracts';
import { requestFingerprint, type IdempotencyStore } from '@rsp/persistence';
import type { DownloadService, Logger } from './download-service';
import type { Es3CallContext, Es3Gateway } from './es3-gateway';
import type { Inventory } from './inventory';
import type { OwnerConsentCheck } from './owner-consent';

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

export interface Es2ServiceOptions {
  /** How long a repeat waits for the first call of the same id to finish (the frame's step 8). Default 120 s. */
  maxReplayWaitMs?: number;
  /** Owner consent / device suspension checks (docs/owner-registry.md); absent = none. */
  ownerConsent?: OwnerConsentCheck;
}

const SUCCESS = {} as const;

export class Es2Service {
  /** The ES2 table on the common frame. */
  readonly frame: FunctionFrame;

  constructor(
    private readonly inventory: Inventory,
    private readonly idempotency: IdempotencyStore,
    private readonly downloads: DownloadService,
    private readonly es3: Es3Gateway,
    logger: Logger,
    options: Es2ServiceOptions = {},
  ) {
    const consent = options.ownerConsent;
    // Owner consent before anything runs: no idempotency record, no ES3 / card traffic on a refusal.
    const guard = (fn: Es2Function) =>
      consent ? { guard: (request: { eid: string }, call: CallContext) => consent.refusal(fn, request.eid, call.requester, call.ownerConsent) } : {};
    const row = <R extends { header: RequestHeader; eid: string }>(fn: Es2Function, spec: string, validator: FunctionRow<R>['validator'], handler: FunctionRow<R>['handler']) =>
      functionRow<R>({ name: fn, spec, validator, handler, ...guard(fn) });
    this.frame = new FunctionFrame({
      fingerprint: requestFingerprint,
      logger,
      ...(options.maxReplayWaitMs !== undefined ? { replayWaitMs: options.maxReplayWaitMs } : {}),
      tables: [
        {
          iface: 'ES2',
          idempotency,
          // Kept from before the frame: records and fingerprints of download flows in flight (crash recovery) still match.
          claimKey: (mnoId) => mnoId,
          fingerprintName: (name) => name,
          rows: [
            row<es2.GetEisRequest>('GetEIS', 'SGP.02 §5.3 [U numbering]', es2.getEisRequest, (request, call) => this.getEis(request, call)),
            row<es2.DownloadProfileRequest>('DownloadProfile', 'SGP.02 §3.1, §5.3', es2.downloadProfileRequest, (request, call) => this.downloadProfile(request, call)),
            row<es2.UpdatePolicyRulesRequest>('UpdatePolicyRules', 'SGP.02 §3.11, §5.3 [U numbering]', es2.updatePolicyRulesRequest, (request, call) => this.updatePolicyRules(request, call)),
            row<es2.UpdateSubscriptionAddressRequest>('UpdateSubscriptionAddress', 'SGP.02 §5.3 [U numbering]', es2.updateSubscriptionAddressRequest, (request, call) =>
              this.updateSubscriptionAddress(request, call),
            ),
            row<es2.EnableProfileRequest>('EnableProfile', 'SGP.02 §3.2, §5.3', es2.enableProfileRequest, (request, call) => this.profileFunction('EnableProfile', request, call)),
            row<es2.DisableProfileRequest>('DisableProfile', 'SGP.02 §3.3, §5.3 [U numbering]', es2.disableProfileRequest, (request, call) => this.profileFunction('DisableProfile', request, call)),
            row<es2.DeleteProfileRequest>('DeleteProfile', 'SGP.02 §3.4, §5.3', es2.deleteProfileRequest, (request, call) => this.profileFunction('DeleteProfile', request, call)),
          ],
        },
      ],
    });
  }

  /** The requester an `X-API-Key` proves (docs/services.md "Identities"): none sent → missing, a key of nobody → unknown. */
  async identify(apiKey: string | undefined): Promise<ProvenRequester> {
    if (!apiKey) return { kind: 'missing' };
    const mno = await this.inventory.authenticate(apiKey);
    return mno ? { kind: 'proven', id: mno.mnoId } : { kind: 'unknown' };
  }

  /**
   * Crash recovery: the ES2 answer of a DownloadProfile flow resumed after a restart, stored under the
   * call's identifier (its first caller's process died, leaving the record `in-progress`). A repeat
   * waiting in the frame (step 8, up to maxReplayWaitMs) or arriving later gets it.
   */
  async settleReplay(mnoId: string, replay: { callId: string; requestHash: string }, response: es2.DownloadProfileResponse): Promise<void> {
    await this.idempotency.settle(mnoId, replay.callId, response as FunctionResult, replay.requestHash);
  }

  /** The persisted flow decides its own outcome (Failed / Expired with the reserved iccid): its whole response is the answer. */
  private async downloadProfile(request: es2.DownloadProfileRequest, call: CallContext): Promise<FunctionResult> {
    // The call's identity travels with the flow: a flow resumed after a crash answers repeats of this call.
    return (await this.downloads.download(call.requester, request, { callId: call.functionCallIdentifier, requestHash: call.fingerprint })) as FunctionResult;
  }

  private async getEis(request: es2.GetEisRequest, call: CallContext): Promise<Record<string, unknown>> {
    const { eis } = await this.es3.call('GetEIS', request.smsrId, { eid: request.eid }, es3Call(call));
    // SGP.02 §5.3 GetEIS [U]: the MNO sees only the profiles it owns.
    return eis ? { eis: { ...eis, profiles: eis.profiles.filter((profile) => profile.mnoId === call.requester) } } : SUCCESS;
  }

  private async updatePolicyRules(request: es2.UpdatePolicyRulesRequest, call: CallContext): Promise<Record<string, unknown>> {
    const { eid, iccid, smsrId, pol2 } = request;
    await this.inventory.ownedSubscription(call.requester, iccid);
    await this.es3.call('UpdatePolicyRules', smsrId, { eid, iccid, pol2 }, es3Call(call));
    return SUCCESS;
  }

  /** SGP.02 §5.3 ES2.UpdateSubscriptionAddress [U numbering]: the MNO's own profile; the SM-SR updates the EIS (ES3). */
  private async updateSubscriptionAddress(request: es2.UpdateSubscriptionAddressRequest, call: CallContext): Promise<Record<string, unknown>> {
    const { eid, iccid, smsrId, newSubscriptionAddress } = request;
    await this.inventory.ownedSubscription(call.requester, iccid);
    await this.es3.call('UpdateSubscriptionAddress', smsrId, { eid, iccid, newSubscriptionAddress }, es3Call(call));
    return SUCCESS;
  }

  private async profileFunction(fn: 'EnableProfile' | 'DisableProfile' | 'DeleteProfile', request: es2.ProfileRequest, call: CallContext): Promise<Record<string, unknown>> {
    const { eid, iccid, smsrId } = request;
    await this.inventory.ownedSubscription(call.requester, iccid);
    const es3Function = fn === 'DeleteProfile' ? 'DeleteISDP' : fn; // SGP.02 §3.4: DeleteProfile → ES3.DeleteISDP
    const response = await this.es3.call(es3Function, smsrId, { eid, iccid }, es3Call(call));
    if (fn === 'DeleteProfile') await this.inventory.markDeleted(iccid);
    return response.euiccResponseData ? { euiccResponseData: response.euiccResponseData } : SUCCESS;
  }
}

/** The ES3 call of an ES2 call: its own functionCallIdentifier (the MNO's, scoped by MNO) and the ES2 deadline. */
function es3Call(call: CallContext): Es3CallContext {
  return { callId: `${call.requester}:${call.functionCallIdentifier}`.slice(0, 128), deadline: call.deadline === undefined ? null : new Date(call.deadline) };
}
