/**
 * The HTTP binding's answers for requests the function frame never sees (docs/services.md "HTTP binding"):
 * the body parser or the router refused them first. The same FunctionExecutionStatus body as a frame
 * answer; a body that cannot be read is answered like one the validators refuse (HTTP 200, Failed 1.6 / 2.1,
 * subjectIdentifier `body`), so a malformed body gets one answer on ES1, ES2, ES4 (and ES3, where the frame
 * refuses it).
 */
import { FUNCTION_UNSUPPORTED, statusOnly, type FunctionResult } from './function-frame';
import { STATUS_CODE, failed } from './status';

export interface HttpBindingAnswer {
  readonly httpStatus: number;
  readonly response: FunctionResult;
}

/**
 * `rejectedWith`: the HTTP status the framework chose (404 no route, 400 unparsable JSON, 413 too large,
 * 415 not JSON; undefined for an unexpected throw).
 */
export function httpAnswerBeforeFrame(rejectedWith: number | undefined): HttpBindingAnswer {
  if (rejectedWith === 404) return { httpStatus: 404, response: statusOnly(failed(FUNCTION_UNSUPPORTED)) };
  if (rejectedWith !== undefined && rejectedWith >= 400 && rejectedWith < 500) {
    return { httpStatus: 200, response: statusOnly(failed(STATUS_CODE.INVALID_PARAMETER, 'body')) };
  }
  return { httpStatus: 500, response: statusOnly(failed(STATUS_CODE.EXECUTION_ERROR)) };
}
