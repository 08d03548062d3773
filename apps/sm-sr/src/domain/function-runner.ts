/**
 * The SM-SR's side of the common SGP.02 frame: ES1, ES3 and ES4 run through `FunctionFrame` of
 * @rsp/contracts (libs/contracts/src/function-frame.ts: validation, requester, owner guard, validityPeriod,
 * idempotency, the in-progress answer, errors → status). This module keeps the names the SM-SR's use cases
 * and adapters import.
 */
import { CALL_ID_REUSED as FRAME_CALL_ID_REUSED, describeError, statusOnly, type CallContext as FrameCallContext, type FrameInterface, type FunctionExecutionStatus, type FunctionResult as FrameResult } from '@rsp/contracts';

export type SmSrInterface = Exclude<FrameInterface, 'ES2'>;

/** What a use case receives besides its request (requester, deadline, functionCallIdentifier, …). */
export type CallContext = FrameCallContext;

/** A processed call's response: the header plus the function's output. */
export type FunctionResult = FrameResult;

/** SGP.02 §5.1: a functionCallIdentifier reused with another request (1.6 / 3.3), as on ES2. */
export const CALL_ID_REUSED = FRAME_CALL_ID_REUSED;

export function failedResult(status: FunctionExecutionStatus): FunctionResult {
  return statusOnly(status);
}

/** Code and message of an error for the service log (no stack, no request data). */
export const describe = describeError;
