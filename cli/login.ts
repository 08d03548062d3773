/**
 * `npx rsp login <user>`: an owner's ID token without a browser, from the dev IdP through OpenID Connect
 * CIBA in poll mode (CIBA Core 1.0 §7 request, §10.1 token polling; apps/owner-registry/src/dev-idp/ciba.ts
 * says why CIBA). The token is the same kind the portal gets: the owner registry verifies it the same way.
 * It is written to a file (mode 600) and never printed unless asked (--print, for a script's pipe).
 */
import { RspError } from '@rsp/errors';
import { OWNER_CLI_CLIENT_ID } from '@rsp/identity';
const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

/** The IdP refused or could not be asked; the message says which, never with the password or token. */
export class LoginError extends RspError {
  static override readonly code = 'ERR_CLI_LOGIN';
}

export interface LoginInput {
  /** The IdP's issuer URL (its discovery document is under /.well-known/openid-configuration). */
  issuer: string;
  user: string;
  password: string;
  fetch?: typeof fetch;
  /** Upper bound on the whole sign-in (default 30 s). */
  timeoutMs?: number;
}

interface Discovery {
  token_endpoint?: string;
  backchannel_authentication_endpoint?: string;
}

/** Signs `user` in and returns the ID token. */
export async function ownerLogin(input: LoginInput): Promise<string> {
  const doFetch = input.fetch ?? fetch;
  const deadline = Date.now() + (input.timeoutMs ?? 30_000);
  const discovery = (await json(doFetch, `${input.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, undefined, 'discovery')) as Discovery;
  if (!discovery.backchannel_authentication_endpoint || !discovery.token_endpoint) {
    throw new LoginError(`${input.issuer} offers no backchannel authentication (CIBA): sign in through the portal instead`);
  }
  const started = (await json(
    doFetch,
    discovery.backchannel_authentication_endpoint,
    form({ client_id: OWNER_CLI_CLIENT_ID, scope: 'openid', login_hint: input.user, user_code: input.password }),
    'sign-in',
  )) as { auth_req_id?: string; interval?: number };
  if (!started.auth_req_id) throw new LoginError('the IdP answered without an auth_req_id');
  for (;;) {
    const response = await doFetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ client_id: OWNER_CLI_CLIENT_ID, grant_type: CIBA_GRANT, auth_req_id: started.auth_req_id }),
    });
    const body = (await response.json().catch(() => ({}))) as { id_token?: string; error?: string; error_description?: string };
    if (response.ok && body.id_token) return body.id_token;
    // CIBA Core §11: authorization_pending / slow_down mean "ask again after the interval".
    if (body.error !== 'authorization_pending' && body.error !== 'slow_down') throw refused('token', body);
    if (Date.now() > deadline) throw new LoginError('the sign-in was not approved in time');
    await new Promise((resolve) => setTimeout(resolve, Math.max(200, (started.interval ?? 1) * 1000 * (body.error === 'slow_down' ? 2 : 1))));
  }
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

async function json(doFetch: typeof fetch, url: string, body: string | undefined, step: string): Promise<unknown> {
  let response: Response;
  try {
    response = await doFetch(url, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  } catch (error) {
    throw new LoginError(`cannot reach the IdP for ${step} at ${new URL(url).origin}: ${(error as Error).message}`);
  }
  const parsed = (await response.json().catch(() => undefined)) as { error?: string; error_description?: string } | undefined;
  if (!response.ok || parsed === undefined) throw refused(step, parsed ?? {});
  return parsed;
}

function refused(step: string, body: { error?: string; error_description?: string }): LoginError {
  const reason = body.error === 'invalid_user_code' || body.error === 'unknown_user_id' ? 'wrong user or password' : (body.error_description ?? body.error ?? 'refused');
  return new LoginError(`${step} refused: ${reason}${body.error ? ` (${body.error})` : ''}`);
}
