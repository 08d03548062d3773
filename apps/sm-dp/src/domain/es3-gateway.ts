/**
 * ES3 calls as the SM-DP's use cases make them: the request header filled in (SGP.02 §5.1: requester =
 * this SM-DP, a functionCallIdentifier the SM-SR can de-duplicate on, the remaining validity period),
 * the wait bounded by the flow's deadline, and a Failed / Expired reply of the SM-SR turned into a
 * StatusError carrying the SM-SR's own codes, so the MNO sees why.
 */
import { STATUS_CODE, StatusError, isExecuted, isId } from '@rsp/contracts';
import { isRspError } from '@rsp/errors';
import type { Es3Client, Es3Function, Es3RequestMap, Es3ResponseMap } from './es3-client';
import { SMDP_STATUS } from './status-codes';

export interface Es3CallContext {
  /** functionCallIdentifier of the ES3 request (unique per call; repeated only to replay). */
  callId: string;
  /** The flow deadline (validityPeriod), if any. */
  deadline?: Date | null;
  /** Overrides the default timeout (e.g. compensation, which ignores the expired deadline). */
  timeoutMs?: number;
}

/** Thrown when the deadline passed while waiting: reported `Expired` (SGP.02 §5.1, 1.6 / 5.3). */
export function expiredError(cause?: unknown): StatusError {
  return new StatusError(STATUS_CODE.TTL_EXPIRED, undefined, { status: 'Expired', ...(cause === undefined ? {} : { cause }) });
}

export class Es3Gateway {
  constructor(
    private readonly client: Es3Client,
    private readonly smdpId: string,
    private readonly defaultTimeoutMs = 30_000,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async call<F extends Es3Function>(
    fn: F,
    smsrId: string,
    input: Omit<Es3RequestMap[F], 'header'>,
    context: Es3CallContext,
  ): Promise<Es3ResponseMap[F]> {
    if (!isId(smsrId)) throw new StatusError(SMDP_STATUS.SMSR_UNKNOWN, smsrId); // it becomes a topic level (smsr/{smsrId}/es3/…)
    const remainingMs = context.deadline ? context.deadline.getTime() - this.now().getTime() : undefined;
    if (remainingMs !== undefined && remainingMs <= 0) throw expiredError();
    const timeoutMs = Math.max(1, Math.min(context.timeoutMs ?? this.defaultTimeoutMs, remainingMs ?? Number.MAX_SAFE_INTEGER));
    const header = {
      functionRequesterIdentifier: this.smdpId,
      functionCallIdentifier: context.callId,
      ...(remainingMs !== undefined ? { validityPeriod: Math.max(1, Math.ceil(remainingMs / 1000)) } : {}),
    };
    let response: Es3ResponseMap[F];
    try {
      response = await this.client.call(fn, smsrId, { header, ...input } as Es3RequestMap[F], { timeoutMs });
    } catch (error) {
      // The wait was cut by the deadline (or the SM-SR refused an expired request): the function expired.
      const boundByDeadline = remainingMs !== undefined && timeoutMs >= remainingMs;
      const deadlinePassed = context.deadline !== undefined && context.deadline !== null && this.now() >= context.deadline;
      if ((boundByDeadline || deadlinePassed) && isRspError(error) && /TIMEOUT|EXPIRED/.test(error.code)) throw expiredError(error);
      throw error;
    }
    const status = response.header.functionExecutionStatus;
    if (!isExecuted(status)) {
      throw new StatusError(status.statusCodeData ?? SMDP_STATUS.EXECUTION_ERROR, undefined, {
        status: status.status === 'Expired' ? 'Expired' : 'Failed',
      });
    }
    return response;
  }
}
