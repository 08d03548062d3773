/**
 * Anything that fails before the frame runs (unparsable JSON, unknown route, an unexpected throw) still
 * answers a FunctionExecutionStatus body, never Nest's default error or a stack trace, with the HTTP
 * binding's one rule for it (httpAnswerBeforeFrame of @rsp/contracts: an unreadable body is answered as
 * the frame answers a body it cannot validate, HTTP 200 Failed 1.6 / 2.1 `body`). Registered
 * globally on the hybrid app (the MQTT microservice inherits it): RPC contexts go to
 * RspRpcExceptionFilter, so RspError codes survive Nest on the ES3 transport.
 */
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { httpAnswerBeforeFrame } from '@rsp/contracts';
import { RspRpcExceptionFilter } from '@rsp/mqtt-transport';
import { wordedRefusal } from '@rsp/service-kit';
import { describe } from '../../domain/function-runner';
import type { SmSrLogger } from '../../domain/model';

/** The part of express's response used here. */
interface Response {
  status(code: number): { json(body: unknown): unknown };
}

@Catch()
export class SmSrExceptionFilter implements ExceptionFilter {
  private readonly rpc = new RspRpcExceptionFilter();

  constructor(private readonly logger: SmSrLogger) {}

  catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType() !== 'http') return this.rpc.catch(exception);
    const response = host.switchToHttp().getResponse<Response>();
    // Outside the SGP.02 routes (transactions, fleet), a refusal the controller worded keeps its status and body.
    const path = host.switchToHttp().getRequest<{ path?: string }>().path ?? '';
    const worded = path.startsWith('/gsma/') ? undefined : wordedRefusal(exception);
    if (worded) {
      response.status(worded.status).json(worded.body);
      return undefined;
    }
    const answer = httpAnswerBeforeFrame(exception instanceof HttpException ? exception.getStatus() : undefined);
    if (answer.httpStatus >= 500) this.logger.error(`HTTP handler failed: ${describe(exception)}`);
    response.status(answer.httpStatus).json(answer.response);
    return undefined;
  }
}
