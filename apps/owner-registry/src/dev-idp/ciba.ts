/**
 * Sign-in without a browser at the dev IdP, for scripts and `npx rsp login` (issue 12): OpenID Connect
 * Client-Initiated Backchannel Authentication (CIBA Core 1.0), poll mode, as oidc-provider 9 implements it.
 *
 * Why CIBA: it is a standard grant that ends in an ordinary ID token from the same issuer and key as the
 * portal's, so the registry verifies it exactly like a browser sign-in (signature through discovery, iss,
 * aud, exp). The resource-owner password grant is not in OpenID Connect nor in oidc-provider; the device
 * grant needs a browser at its verification URI.
 *
 * The "authentication device" is the dev IdP itself: the user's password travels as CIBA's `user_code`
 * (§7.1, `backchannel_user_code_parameter`), is checked like the login form checks it (password = user
 * name, development only), and the request is approved at once. A wrong user or password gets an error
 * and no request at all.
 */
import { errors } from 'oidc-provider';
import type { DevIdpClient } from './dev-idp';
import { PASSWORD_ACR } from './interactions';

export { OWNER_CLI_CLIENT_ID } from '@rsp/identity';

/** CIBA's grant type (CIBA Core §10.1). */
export const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';

/** What CIBA needs from the running provider (set once it is constructed). */
export interface CibaProviderRef {
  provider?: {
    Grant: new (properties: { accountId: string; clientId: string }) => { addOIDCScope(scope: string): void; save(): Promise<string> };
    backchannelResult(request: unknown, grantId: string, options: { acr: string; amr: string[]; authTime: number }): Promise<void>;
  };
}

interface BackchannelRequest {
  accountId: string;
  clientId: string;
  params: { scope?: string };
}

/** The `features.ciba` configuration of the dev IdP. */
export function cibaFeature(users: ReadonlySet<string>, ref: CibaProviderRef): Record<string, unknown> {
  return {
    enabled: true,
    deliveryModes: ['poll'],
    processLoginHint: async (_ctx: unknown, loginHint: string) => (users.has(loginHint) ? loginHint : undefined),
    processLoginHintToken: async () => {
      throw new errors.InvalidRequest('login_hint_token is not supported here: use login_hint');
    },
    verifyUserCode: async (_ctx: unknown, account: { accountId: string }, userCode: string | undefined) => {
      if (userCode === undefined) throw new errors.MissingUserCode('user_code (the password) is required');
      if (userCode !== account.accountId) throw new errors.InvalidUserCode('wrong user or password');
    },
    validateRequestContext: async () => undefined,
    triggerAuthenticationDevice: async (_ctx: unknown, request: BackchannelRequest) => {
      const provider = ref.provider;
      if (!provider) throw new Error('the dev IdP is not ready');
      const grant = new provider.Grant({ accountId: request.accountId, clientId: request.clientId });
      grant.addOIDCScope(request.params.scope ?? 'openid');
      const grantId = await grant.save();
      // The password was checked in verifyUserCode: the same assurance as the login form (acr password, amr pwd).
      await provider.backchannelResult(request, grantId, { acr: PASSWORD_ACR, amr: ['pwd'], authTime: Math.floor(Date.now() / 1000) });
    },
  };
}

/** Client metadata of the CLI: CIBA in poll mode, the password as user_code, no secret (a public dev client). */
export function cibaClientMetadata(client: DevIdpClient): Record<string, unknown> {
  return {
    client_id: client.clientId,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: [CIBA_GRANT_TYPE],
    response_types: [],
    redirect_uris: [],
    backchannel_token_delivery_mode: 'poll',
    backchannel_user_code_parameter: true,
    id_token_signed_response_alg: 'ES256',
    require_auth_time: true,
  };
}
