/**
 * Whatever escapes a controller (malformed JSON, unknown route, a bug) is answered as a
 * FunctionExecutionStatus body, never Nest's default body or a stack trace (SGP.02 §5.1).
 */
import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { HttpResponse as Response } from './http-response';
import { STATUS_CODE, failed } from '@rsp/contracts';

@Catch()
export class FunctionStatusExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('SmDpHttp');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    let httpStatus = 500;
    let status = failed(STATUS_CODE.EXECUTION_ERROR);
    if (exception instanceof HttpException) {
      httpStatus = exception.getStatus();
      if (httpStatus === 404) status = failed({ subjectCode: '1.6', reasonCode: '3.1', message: 'Function not supported' });
      else if (httpStatus < 500) status = failed(STATUS_CODE.INVALID_PARAMETER, 'body');
    } else {
      this.logger.error(`unhandled ${(exception as { code?: string })?.code ?? (exception as Error)?.name ?? 'error'}`);
    }
    response.status(httpStatus).json({ header: { functionExecutionStatus: status } });
  }
}
