/**
 * Owner authentication as a Nest guard (issue 10 item 5): `@OwnerAuth('device.claim')` on a handler
 * verifies the bearer ID token (or, where `mnoApiKey` is allowed, an MNO's X-API-Key) before the
 * handler runs, and `@Owner()` hands the proven caller to it. The action names the audit record of a
 * refused credential. A refusal is thrown from the guard and answered by OwnerHttpExceptionFilter,
 * exactly as when the controllers called the Authenticator themselves.
 */
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  UseGuards,
  applyDecorators,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Caller } from '../domain/context';
import type { Authenticator } from './authenticator';
import { AUTHENTICATOR } from './tokens';

/** What a handler accepts: the action audited on refusal, and whether an MNO API key may stand in for a bearer token. */
interface OwnerAuthPolicy {
  readonly action: string;
  readonly mnoApiKey: boolean;
}

const OWNER_AUTH_POLICY = 'rsp:owner-auth-policy';
/** Where the guard leaves the proven caller on the request (a symbol: nothing the client sends can set it). */
const PROVEN_CALLER = Symbol('rsp:proven-caller');

type RequestWithCaller = { headers: Record<string, string | string[] | undefined>; [PROVEN_CALLER]?: Caller };

function header(request: RequestWithCaller, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

@Injectable()
export class OwnerAuthGuard implements CanActivate {
  constructor(
    @Inject(AUTHENTICATOR) private readonly auth: Authenticator,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.reflector.get<OwnerAuthPolicy | undefined>(OWNER_AUTH_POLICY, context.getHandler());
    // Fail closed: a handler guarded without a policy is a programming error, never an open door.
    if (!policy) throw new Error(`${context.getClass().name}.${context.getHandler().name} is guarded without @OwnerAuth()`);
    const request = context.switchToHttp().getRequest<RequestWithCaller>();
    const authorization = header(request, 'authorization');
    const apiKey = policy.mnoApiKey ? header(request, 'x-api-key') : undefined;
    request[PROVEN_CALLER] = policy.mnoApiKey
      ? await this.auth.any(authorization, apiKey, policy.action)
      : await this.auth.owner(authorization, policy.action);
    return true;
  }
}

/** The handler needs an owner's bearer ID token (or, with `mnoApiKey`, an MNO's X-API-Key instead). */
export function OwnerAuth(action: string, options: { mnoApiKey?: boolean } = {}): MethodDecorator {
  return applyDecorators(SetMetadata(OWNER_AUTH_POLICY, { action, mnoApiKey: options.mnoApiKey === true } satisfies OwnerAuthPolicy), UseGuards(OwnerAuthGuard));
}

/** The caller OwnerAuthGuard proved; a handler without the guard gets an error, not an anonymous caller. */
export const Owner = createParamDecorator((_: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<RequestWithCaller>()[PROVEN_CALLER];
  if (!caller) throw new Error('@Owner() used on a handler without @OwnerAuth()');
  return caller;
});
