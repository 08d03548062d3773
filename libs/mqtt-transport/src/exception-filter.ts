/**
 * Nest's default RPC exception filter turns every non-RpcException into `{ status: 'error', message:
 * 'Internal server error' }`, which would erase the RspError code before the transport sees it. Register
 * this filter (`app.useGlobalFilters(new RspRpcExceptionFilter())`) so RspErrors reach the client with
 * their code and message; anything else is logged here and answered ERR_TRANSPORT_HANDLER_FAILED.
 */
import { Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { TransportError } from './errors';
import { isRspShaped, type ReplyErrorBody } from './rsp-envelope';

@Catch()
export class RspRpcExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RspRpcExceptionFilter');

  catch(exception: unknown): Observable<never> {
    if (exception instanceof Error && isRspShaped(exception)) {
      const { code, message } = exception as Error & { code: string };
      return throwError((): ReplyErrorBody => ({ code, message }));
    }
    if (exception instanceof RpcException) {
      const error = exception.getError();
      return throwError(() => (typeof error === 'string' ? { message: error } : error));
    }
    this.logger.error(exception);
    return throwError(
      (): ReplyErrorBody => ({ code: TransportError.HandlerFailed.code, message: 'the handler failed; see the server log' }),
    );
  }
}
