/**
 * Whatever escapes a controller (malformed JSON, unknown route, a bug) is answered as a
 * FunctionExecutionStatus body, never Nest's default body or a stack trace (SGP.02 §5.1). On the SGP.02
 * routes (`/gsma/…`) with the HTTP binding's one rule (httpAnswerBeforeFrame of @rsp/contracts, as the
 * SM-SR): an unreadable body is answered as the frame answers a body it cannot validate, HTTP 200 Failed
 * 1.6 / 2.1 `body`. The inventory API keeps HTTP error statuses.
 */
import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { HttpResponse as Response } from './http-response';
import { FUNCTION_UNSUPPORTED, STATUS_CODE, failed, httpAnswerBeforeFrame, statusOnly } from '@rsp/contracts';
import { wordedRefusal } from '@rsp/service-kit';

@Catch()
export class FunctionStatusExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('SmDpHttp');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const rejectedWith = exception instanceof HttpException ? exception.getStatus() : undefined;
    if (rejectedWith === undefined || rejectedWith >= 500) {
      this.logger.error(`unhandled ${(exception as { code?: string })?.code ?? (exception as Error)?.name ?? 'error'}`);
    }
    const path = http.getRequest<{ path?: string }>().path ?? '';
    if (path.startsWith('/gsma/')) {
      const answer = httpAnswerBeforeFrame(rejectedWith);
      response.status(answer.httpStatus).json(answer.response);
      return;
    }
    // A refusal the controller worded (transactions: `{ error: { code, message } }`) keeps its body.
    const worded = wordedRefusal(exception);
    if (worded) {
      response.status(worded.status).json(worded.body);
      return;
    }
    let status = failed(STATUS_CODE.EXECUTION_ERROR);
    if (rejectedWith === 404) status = failed(FUNCTION_UNSUPPORTED);
    else if (rejectedWith !== undefined && rejectedWith < 500) status = failed(STATUS_CODE.INVALID_PARAMETER, 'body');
    response.status(rejectedWith ?? 500).json(statusOnly(status));
  }
}
