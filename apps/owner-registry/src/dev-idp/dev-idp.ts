/**
 * Development OpenID Provider (panva `oidc-provider` 9) for `npm start` and tests: users `alice` and
 * `bob` (password = user name), a public client `owner-portal` (authorization code + PKCE S256, no
 * client secret), ES256 ID tokens. {@link DevIdp.issueIdToken} signs test tokens with the very key
 * the provider publishes at its `jwks_uri`, so they are verified through discovery exactly like
 * tokens obtained by a browser login. Plain http on 127.0.0.1 is fine (cookies are not `secure`).
 * Development only: in-memory storage, no real authentication.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import Provider from 'oidc-provider';
import { cibaClientMetadata, cibaFeature, OWNER_CLI_CLIENT_ID, type CibaProviderRef } from './ciba';
import { handleInteraction, isInteractionRequest, PASSWORD_ACR } from './interactions';
import { DevIdpStore } from './memory-adapter';
import { STEP_UP_ACR } from '@rsp/identity';

/** A client registered at the dev IdP. */
export interface DevIdpClient {
  clientId: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
}

export { OWNER_CLI_CLIENT_ID };

export interface DevIdpOptions {
  /** TCP port; 0 (default) = ephemeral. */
  port?: number;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Issuer identifier (default `http://{host}:{port}`, with the bound port). */
  issuer?: string;
  /** Registered clients (default one public client `owner-portal` with `redirectUris`). */
  clients?: DevIdpClient[];
  /** Redirect URIs of the default `owner-portal` client (default `{issuer}/callback`). */
  redirectUris?: string[];
  /** Known users (default `['alice', 'bob']`); the password is the user name. */
  users?: string[];
}

export interface IssueIdTokenInput {
  sub: string;
  aud: string;
  /** `auth_time`, seconds since the epoch (default: omitted). */
  authTime?: number;
  acr?: string;
  amr?: string[];
  nonce?: string;
  /** Lifetime in seconds (default 3600); may be negative to mint an expired token. */
  expiresInSeconds?: number;
  /** `iat`, seconds since the epoch (default now). */
  iat?: number;
}

export interface DevIdp {
  issuer: string;
  /** `{issuer}/.well-known/openid-configuration`. */
  discoveryUrl: string;
  /** Mints an ID token signed with the provider's own published ES256 key. */
  issueIdToken(input: IssueIdTokenInput): Promise<string>;
  /** Registers another public (PKCE) client at run time. */
  addClient(client: DevIdpClient): Promise<void>;
  close(): Promise<void>;
}

export const OWNER_PORTAL_CLIENT_ID = 'owner-portal';
const ID_TOKEN_TTL_SECONDS = 3600;

/** Starts the dev IdP and resolves once it listens. */
export async function startDevIdp(options: DevIdpOptions = {}): Promise<DevIdp> {
  const host = options.host ?? '127.0.0.1';
  const users = new Set(options.users ?? ['alice', 'bob']);
  // The handler is attached once the bound port (hence the issuer) is known.
  const server = createServer();
  await listen(server, options.port ?? 0, host);
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const issuer = options.issuer ?? `http://${urlHost}:${port}`;

  const { privateKey, privateJwk } = await generateSigningKey();
  const store = new DevIdpStore();
  const clients = options.clients ?? [
    { clientId: OWNER_PORTAL_CLIENT_ID, redirectUris: options.redirectUris ?? [`${issuer}/callback`] },
  ];
  let provider: Provider;
  const ciba: CibaProviderRef = {};
  try {
    provider = new Provider(issuer, providerConfiguration({ users, privateJwk, store, clients, ciba }));
    ciba.provider = provider as unknown as CibaProviderRef['provider'];
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  const providerCallback = provider.callback();

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // The provider is mounted at the server root: an issuer with a path is not supported here.
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (isInteractionRequest(path)) {
      handleInteraction(provider, users, req, res, path).catch(() => {
        if (!res.headersSent) res.statusCode = 400;
        res.end();
      });
      return;
    }
    if (path === '/callback' && req.method === 'GET') {
      // Landing page of the default client's redirect URI (manual use of `npm start`).
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('Authorization response received; exchange the code at the token endpoint.');
      return;
    }
    providerCallback(req, res);
  });

  return {
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    async issueIdToken(input) {
      const iat = input.iat ?? Math.floor(Date.now() / 1000);
      const claims: Record<string, unknown> = { jti: randomUUID() };
      if (input.authTime !== undefined) claims.auth_time = input.authTime;
      if (input.acr !== undefined) claims.acr = input.acr;
      if (input.amr !== undefined) claims.amr = input.amr;
      if (input.nonce !== undefined) claims.nonce = input.nonce;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid as string })
        .setIssuer(issuer)
        .setSubject(input.sub)
        .setAudience(input.aud)
        .setIssuedAt(iat)
        .setExpirationTime(iat + (input.expiresInSeconds ?? ID_TOKEN_TTL_SECONDS))
        .sign(privateKey);
    },
    async addClient(client) {
      // A client found in the adapter (model "Client") is loaded like a dynamically registered one.
      store.set(`Client:${client.clientId}`, clientMetadata(client));
    },
    close: () => closeServer(server),
  };
}

/** The oidc-provider configuration of the dev IdP (see the provider's docs/README.md). */
function providerConfiguration(input: {
  users: ReadonlySet<string>;
  privateJwk: JWK;
  store: DevIdpStore;
  clients: DevIdpClient[];
  ciba: CibaProviderRef;
}): Record<string, unknown> {
  const { users, privateJwk, store, clients } = input;
  return {
    adapter: store.adapterFactory(),
    // The browser clients, plus `npx rsp login`'s (CIBA, ciba.ts).
    clients: [...clients.map(clientMetadata), cibaClientMetadata({ clientId: OWNER_CLI_CLIENT_ID, redirectUris: [] })],
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    jwks: { keys: [privateJwk] },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    responseTypes: ['code'],
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'email'],
    // acr / amr / auth_time ride with the openid scope: the registry needs them for step-up and audit.
    claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], profile: ['name'], email: ['email', 'email_verified'] },
    acrValues: [PASSWORD_ACR, STEP_UP_ACR],
    // ID tokens carry the profile claims too (the registry shows name / email, never keys by them).
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true },
      ciba: cibaFeature(users, input.ciba),
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: ID_TOKEN_TTL_SECONDS,
      Interaction: 600,
      Session: 86400,
      Grant: 86400,
    },
    async findAccount(_ctx: unknown, accountId: string) {
      if (!users.has(accountId)) return undefined;
      return {
        accountId,
        claims: async () => ({
          sub: accountId,
          name: accountId.charAt(0).toUpperCase() + accountId.slice(1),
          email: `${accountId}@example.test`,
          email_verified: true,
        }),
      };
    },
    renderError(ctx: { type: string; body: unknown }, out: Record<string, unknown>) {
      ctx.type = 'application/json';
      ctx.body = { error: out.error, error_description: out.error_description };
    },
  };
}

/** Public client: authorization code + PKCE, no client authentication, ES256 ID tokens. */
function clientMetadata(client: DevIdpClient): Record<string, unknown> {
  return {
    client_id: client.clientId,
    application_type: 'web',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris ?? [],
    id_token_signed_response_alg: 'ES256',
    require_auth_time: true,
  };
}

async function generateSigningKey(): Promise<{ privateKey: CryptoKey; privateJwk: JWK }> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: `dev-idp-${randomUUID()}` };
  return { privateKey, privateJwk };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
