/**
 * Anything that fails before a function runs (unparsable JSON, unknown route, an unexpected throw)
 * still answers a FunctionExecutionStatus body, never Nest's default error or a stack trace. Registered
 * globally on the hybrid app (the MQTT microservice inherits it): RPC contexts go to
 * RspRpcExceptionFilter, so RspError codes survive Nest on the ES3 transport.
 */
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { failed, STATUS_CODE } from '@rsp/contracts';
import { RspRpcExceptionFilter } from '@rsp/mqtt-transport';
import { SMSR_STATUS } from '../../domain/errors';
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
    const status = exception instanceof HttpException ? exception.getStatus() : 500;
    let body;
    if (status === 404) body = failed(SMSR_STATUS.FUNCTION_UNSUPPORTED);
    else if (status === 400 || status === 413 || status === 415) body = failed(STATUS_CODE.INVALID_PARAMETER, 'body');
    else {
      this.logger.error(`HTTP handler failed: ${describe(exception)}`);
      body = failed(STATUS_CODE.EXECUTION_ERROR);
    }
    response.status(status === 404 ? 404 : status >= 500 ? 500 : 200).json({ header: { functionExecutionStatus: body } });
    return undefined;
  }
}
