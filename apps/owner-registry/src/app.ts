/**
 * `startOwnerRegistry(options)`: the owner registry (docs/owner-registry.md) as one programmatic
 * factory: database (migrated on open), the HTTP resources (owners by OIDC ID token, makers and MNOs
 * by X-API-Key), the consent-signing JWKS, the signed device statuses (retained on MQTT and at
 * `GET /device-status/{eid}`) and the outbox relay. `npm run start:owner-registry`, `npm start` and the tests use it.
 */
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { DataSource } from 'typeorm';
import { isId } from '@rsp/contracts';
import type { TrustedIssuer } from '@rsp/identity';
import type { MqttCredentials } from '@rsp/mqtt-transport';
import type { BackoffPolicy } from '@rsp/persistence';
import { StartupScope, serviceLogging, startServiceApp, type PinoLogger } from '@rsp/service-kit';
import { OwnerHttpExceptionFilter } from './adapters/http-exception.filter';
import { OwnerRegistryModule, REGISTRY_CONFIG, REGISTRY_DATA_SOURCE, REGISTRY_RELAY, type RegistryRelay, type RegistryRuntimeConfig } from './adapters/owner-registry.module';
import type { PortalOptions } from './portal/portal.controller';
import type { ConsentSigningKey, Logger, MakerConfig, MnoConfig } from './domain/context';
import type { Es2Transport } from './domain/es2';

export type { ConsentSigningKey, MakerConfig, MnoConfig } from './domain/context';

export interface OwnerRegistryOptions {
  /** Public base URL: device URLs are `{registryUrl}/{makerDomain}/{deviceId}`; also the consent `iss`. Default: the HTTP URL. */
  registryUrl?: string;
  /** 0 = ephemeral. */
  httpPort: number;
  httpHost?: string;
  databaseUrl: string;
  databaseSchema?: string;
  /** false: every PostgreSQL statement unnamed (RSP_DATABASE_PREPARED_STATEMENTS=0, behind a pooler that cannot keep prepared ones). */
  databasePreparedStatements?: false;
  /** Broker for the retained device statuses `rsp/v1/owner/device/{eid}/status`. */
  mqttUrl: string;
  /** The registry's broker identity (TLS client certificate, docs/security.md); without it the start fails. */
  mqttCredentials?: MqttCredentials;
  mqttProtocolVersion?: 4 | 5;
  /** OIDC issuers whose ID tokens identify owners (federation: several). */
  trustedIssuers: TrustedIssuer[];
  makers: MakerConfig[];
  mnos: MnoConfig[];
  /** ES256 consent-signing key; default a fresh P-256 key per start (its JWKS at /.well-known/jwks.json). @secret */
  consentSigningKey?: ConsentSigningKey;
  /** Older consent keys (public JWKs with kid), no longer signing but still published, so consents they signed verify until they expire. */
  consentPreviousPublicKeys?: ReadonlyArray<Record<string, unknown>>;
  /** Accepted for symmetry with the other services; the registry keeps no sealed secret (codes are hashed). @secret */
  secretBoxKeys?: string;
  /** A pino logger (JSON lines, HTTP request logs; what main.ts passes), or a console-like port (tests); none: silent. */
  logger?: PinoLogger | Logger;
  /** Replaces the HTTP ES2 client (tests). */
  es2Transport?: Es2Transport;
  /** Outbox poll period (ms). Default 500. */
  outboxIntervalMs?: number;
  outboxBackoff?: BackoffPolicy;
  /** Serves the owner portal at /portal, signing in with this IdP (a public client; redirect URI `{httpUrl}/portal`). */
  portal?: PortalOptions;
  /** Clock (tests). */
  now?: () => Date;
}

export interface OwnerRegistryHandle {
  httpUrl: string;
  /** The Nest application: `close()` is `app.close()`; main.ts calls `app.enableShutdownHooks()`. */
  app: NestExpressApplication;
  registryUrl: string;
  jwksUrl: string;
  dataSource: DataSource;
  /** Runs one outbox delivery round now. */
  drainOutbox(): Promise<void>;
  close(): Promise<void>;
}

const DOMAIN = /^[A-Za-z0-9.-]{1,128}$/;

export async function startOwnerRegistry(options: OwnerRegistryOptions): Promise<OwnerRegistryHandle> {
  for (const maker of options.makers) {
    if (!isId(maker.makerId) || !DOMAIN.test(maker.makerDomain)) throw new Error(`maker "${maker.makerId}": makerId letters, digits, _ . : -; makerDomain a host name`);
  }
  for (const mno of options.mnos) if (!isId(mno.mnoId)) throw new Error(`mnoId "${mno.mnoId}" must be letters, digits, _ . : - (1..128)`);
  const logging = serviceLogging(options.logger);
  const logger = logging.port;
  const scope = new StartupScope();
  const { app, httpUrl } = await startServiceApp(OwnerRegistryModule.forRoot(options, scope, logger), scope, {
    logging,
    jsonBodyLimit: '256kb',
    filters: [new OwnerHttpExceptionFilter()],
    openApi: openApiDocument,
    port: options.httpPort,
    host: options.httpHost ?? '127.0.0.1',
  });
  try {
    // The registry URL may default to the HTTP URL, known only now; then the statuses can be signed and sent.
    const config = app.get<RegistryRuntimeConfig>(REGISTRY_CONFIG);
    config.registryUrl = (options.registryUrl ?? httpUrl).replace(/\/+$/, '');
    const { relay, publishAllStatuses } = app.get<RegistryRelay>(REGISTRY_RELAY);
    await publishAllStatuses();
    relay.start();
    return {
      httpUrl,
      app,
      registryUrl: config.registryUrl,
      jwksUrl: `${httpUrl}/.well-known/jwks.json`,
      dataSource: app.get<DataSource>(REGISTRY_DATA_SOURCE),
      drainOutbox: async () => {
        await relay.drain();
      },
      close: () => app.close(),
    };
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}

const OWNER_TOKEN_HOWTO =
  'An OpenID Connect ID token of a trusted issuer. With `npm start` (dev IdP, users alice / alice and bob / bob): ' +
  '`npx rsp login alice --password alice --print` prints one (CIBA, no browser; docs/cli.md "An owner\'s token"); paste it here without "Bearer". ' +
  'Steps that need a recent login (start a sale, reinstate) want a token at most 5 minutes old: log in again.';
const API_KEY_HOWTO =
  "A maker's or an MNO's key. `npm start` writes them to files and prints their paths, never the keys: " +
  'data/demo-maker-api-key (the maker oven-maker), data/demo-mno-api-key (mno.demo), data/demo-second-mno-api-key (mno.beta).';
const OPENAPI_DESCRIPTION = [
  'Who owns a device, who may act on it, which operators may touch its eUICC (docs/owner-registry.md).',
  '',
  '**Authorize**: owners use `owner-id-token` (' + OWNER_TOKEN_HOWTO + ') Makers and MNOs use `X-API-Key` (' + API_KEY_HOWTO + ')',
  '',
  'Every refusal is `{ error: { code, message } }` with a stable code (ERR_OWNER_*, ERR_IDENTITY_*). Codes (claim, transfer, PAC) and consents are shown once and stored only as hashes.',
].join('\n');

function openApiDocument(app: NestExpressApplication) {
  const config = new DocumentBuilder()
    .setTitle('Owner registry')
    .setDescription(OPENAPI_DESCRIPTION)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: OWNER_TOKEN_HOWTO }, 'owner-id-token')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: API_KEY_HOWTO }, 'X-API-Key')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.paths = Object.fromEntries(Object.entries(document.paths).filter(([path]) => !path.startsWith('/portal'))); // the portal's static files
  return document;
}
