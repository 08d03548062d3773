/**
 * Every failure is answered `{ error: { code, message } }` with a stable ERR_* code, never a stack
 * or an internal message. ERR_IDENTITY_* → 401 (step-up adds the RFC 9470 `WWW-Authenticate`
 * challenge; an unreachable IdP → 503); ERR_OWNER_* → their own status.
 */
import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { isRspError } from '@rsp/errors';
import { IdentityError, stepUpChallenge } from '@rsp/identity';
import { OwnerRegistryError } from '../domain/errors';

export interface HttpResponse {
  status(code: number): HttpResponse;
  setHeader(name: string, value: string): unknown;
  json(body: unknown): unknown;
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

@Catch()
export class OwnerHttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OwnerRegistryHttp');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<HttpResponse>();
    const [status, code, message] = this.describe(exception, response);
    response.status(status).json(errorBody(code, message));
  }

  private describe(exception: unknown, response: HttpResponse): [number, string, string] {
    if (exception instanceof OwnerRegistryError) return [exception.httpStatus, exception.code, exception.message];
    if (isRspError(exception) && exception.code.startsWith('ERR_IDENTITY_')) {
      if (exception.code === IdentityError.StepUpRequired.code) {
        response.setHeader('WWW-Authenticate', stepUpChallenge((exception as IdentityError.StepUpRequired).maxAgeSeconds ?? 300));
        return [401, exception.code, 'a fresh login is required (max_age=300)'];
      }
      if (exception.code === IdentityError.DiscoveryFailed.code) return [503, exception.code, 'the identity provider is unreachable'];
      response.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      return [401, exception.code, 'the ID token was refused'];
    }
    if (isRspError(exception) && exception.code.startsWith('ERR_CONTRACT_')) return [400, 'ERR_OWNER_BAD_REQUEST', exception.message];
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) return [404, 'ERR_OWNER_NOT_FOUND', 'no such resource'];
      if (status === 413) return [413, 'ERR_OWNER_BAD_REQUEST', 'body too large'];
      if (status < 500) return [status, 'ERR_OWNER_BAD_REQUEST', 'malformed request'];
    }
    if ((exception as { type?: string })?.type === 'entity.parse.failed') return [400, 'ERR_OWNER_BAD_REQUEST', 'body: malformed JSON'];
    this.logger.error(`unhandled ${(exception as { code?: string })?.code ?? (exception as Error)?.name ?? 'error'}`);
    return [500, 'ERR_OWNER_INTERNAL', 'internal error'];
  }
}
