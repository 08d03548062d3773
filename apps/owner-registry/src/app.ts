/**
 * `startOwnerRegistry(options)`: the owner registry (docs/owner-registry.md) as one programmatic
 * factory: database (migrated on open), the HTTP resources (owners by OIDC ID token, makers and MNOs
 * by X-API-Key), the consent-signing JWKS, the signed device statuses (retained on MQTT and at
 * `GET /device-status/{eid}`) and the outbox relay. `npm run start:owner-registry`, `npm start` and the tests use it.
 */
import { createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Module, type DynamicModule, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { exportJWK } from 'jose';
import { connectMqtt, type MqttCredentials } from '@rsp/mqtt-transport';
import type { DataSource } from 'typeorm';
import { isId } from '@rsp/contracts';
import { OidcVerifier, hashApiKey, type TrustedIssuer } from '@rsp/identity';
import { Outbox, OutboxRelay, openDataSource, type BackoffPolicy } from '@rsp/persistence';
import { Authenticator } from './adapters/authenticator';
import { ClientsController } from './adapters/clients.controller';
import { DeviceStatusController } from './adapters/device-status.controller';
import { Es2HttpTransport } from './adapters/es2-http-transport';
import { OwnerHttpExceptionFilter } from './adapters/http-exception.filter';
import { ownerRegistryOutboxDelivery } from './adapters/outbox-delivery';
import { OwnerController } from './adapters/owner.controller';
import { OwnerViewsController } from './adapters/owner-views.controller';
import { portalController, type PortalOptions } from './portal/portal.controller';
import { ownerRegistryEntities, ownerRegistryMigrations } from './adapters/persistence';
import { typeOrmRegistryStore } from './adapters/registry-store';
import { AUTHENTICATOR, JWKS, REGISTRY } from './adapters/tokens';
import type { ConsentSigningKey, Logger, MakerConfig, MnoConfig, RegistryDeps } from './domain/context';
import { upsertApiClient } from './domain/devices';
import type { Es2Transport } from './domain/es2';
import { OwnerRegistry } from './domain/registry';

export type { ConsentSigningKey, MakerConfig, MnoConfig } from './domain/context';

export interface OwnerRegistryOptions {
  /** Public base URL: device URLs are `{registryUrl}/{makerDomain}/{deviceId}`; also the consent `iss`. Default: the HTTP URL. */
  registryUrl?: string;
  /** 0 = ephemeral. */
  httpPort: number;
  httpHost?: string;
  databaseUrl: string;
  databaseSchema?: string;
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
  logger?: Logger;
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
  registryUrl: string;
  jwksUrl: string;
  dataSource: DataSource;
  /** Runs one outbox delivery round now. */
  drainOutbox(): Promise<void>;
  close(): Promise<void>;
}

const silentNest: LoggerService = { log: () => undefined, warn: () => undefined, error: () => undefined };
const DOMAIN = /^[A-Za-z0-9.-]{1,128}$/;

export async function startOwnerRegistry(options: OwnerRegistryOptions): Promise<OwnerRegistryHandle> {
  for (const maker of options.makers) {
    if (!isId(maker.makerId) || !DOMAIN.test(maker.makerDomain)) throw new Error(`maker "${maker.makerId}": makerId letters, digits, _ . : -; makerDomain a host name`);
  }
  for (const mno of options.mnos) if (!isId(mno.mnoId)) throw new Error(`mnoId "${mno.mnoId}" must be letters, digits, _ . : - (1..128)`);
  const logger: Logger = options.logger ?? console;
  const now = options.now ?? (() => new Date());
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch((error: unknown) => logger.warn(`close: ${(error as Error).message}`));
    closers.length = 0;
  };

  try {
    const dataSource = await openDataSource({
      url: options.databaseUrl,
      ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
      entities: ownerRegistryEntities,
      migrations: ownerRegistryMigrations,
    });
    closers.push(() => dataSource.destroy());
    const outbox = new Outbox(dataSource, { ...(options.outboxBackoff ? { backoff: options.outboxBackoff } : {}), now });
    const store = typeOrmRegistryStore(dataSource, outbox);
    await store.transaction(async (tx) => {
      for (const maker of options.makers) await upsertApiClient(tx, 'maker', maker.makerId, hashApiKey(maker.apiKey), now());
      for (const mno of options.mnos) await upsertApiClient(tx, 'mno', mno.mnoId, hashApiKey(mno.apiKey), now());
    });

    // The registry's one broker identity: the only publisher of owner statuses (broker-acl.ts).
    const publisher = await connectMqtt({
      url: options.mqttUrl,
      ...(options.mqttCredentials ? { credentials: options.mqttCredentials } : {}),
      protocolVersion: options.mqttProtocolVersion ?? 4,
    });
    closers.push(() => publisher.endAsync());

    const consentKey = options.consentSigningKey ?? generatedKey();
    const jwks = { keys: [await publicJwk(consentKey), ...(options.consentPreviousPublicKeys ?? [])] };

    // The registry URL may default to the HTTP URL, known only once listening: resolved lazily.
    const config = { registryUrl: options.registryUrl ?? '', makers: new Map(options.makers.map((m) => [m.makerId, m])), mnos: new Map(options.mnos.map((m) => [m.mnoId, m])), consentKey };
    const kick: { relay?: OutboxRelay } = {};
    const deps: RegistryDeps = { store, config, now, logger, kickOutbox: () => kick.relay?.kick() };
    const registry = new OwnerRegistry(deps, options.es2Transport ?? new Es2HttpTransport());
    const authenticator = new Authenticator(new OidcVerifier(options.trustedIssuers, { now }), store.apiClients, registry.audit);

    const http = await startHttp(options, { registry, authenticator, jwks }, options.logger ? (options.logger as LoggerService) : silentNest);
    closers.push(() => http.close());
    const address = http.getHttpServer().address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const httpUrl = `http://${host}:${address.port}`;
    config.registryUrl = (options.registryUrl ?? httpUrl).replace(/\/+$/, '');

    const delivery = ownerRegistryOutboxDelivery({ mqtt: publisher, statuses: registry.statuses, es2: registry.es2 });
    // Every status at start-up, signed and retained: a service (re)connecting gets them all (a broker may have forgotten them).
    for (const eid of await store.devices.allEids()) await delivery.publishStatus(eid);
    const relay = new OutboxRelay({ outbox, deliver: delivery.deliver, logger, pollMs: options.outboxIntervalMs ?? 500 });
    relay.start();
    kick.relay = relay;
    closers.push(() => relay.stop());

    return {
      httpUrl,
      registryUrl: config.registryUrl,
      jwksUrl: `${httpUrl}/.well-known/jwks.json`,
      dataSource,
      drainOutbox: async () => {
        await relay.drain();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function generatedKey(): ConsentSigningKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, kid: `consent-${randomUUID()}` };
}

async function publicJwk(key: ConsentSigningKey): Promise<Record<string, unknown>> {
  const jwk =
    'asymmetricKeyType' in key.privateKey
      ? (createPublicKey(key.privateKey as KeyObject).export({ format: 'jwk' }) as Record<string, unknown>)
      : ({ ...(await exportJWK(key.privateKey)) } as Record<string, unknown>);
  delete jwk.d;
  return { ...jwk, kid: key.kid, alg: 'ES256', use: 'sig' };
}

async function startHttp(
  options: OwnerRegistryOptions,
  services: { registry: OwnerRegistry; authenticator: Authenticator; jwks: { keys: unknown[] } },
  logger: LoggerService,
): Promise<INestApplication> {
  @Module({})
  class OwnerRegistryHttpModule {}
  const module: DynamicModule = {
    module: OwnerRegistryHttpModule,
    controllers: [OwnerController, OwnerViewsController, ClientsController, DeviceStatusController, ...(options.portal ? [portalController(options.portal)] : [])],
    providers: [
      { provide: REGISTRY, useValue: services.registry },
      { provide: AUTHENTICATOR, useValue: services.authenticator },
      { provide: JWKS, useValue: services.jwks },
    ],
  };
  const app = await NestFactory.create<NestExpressApplication>(module, { logger, bodyParser: false });
  app.useBodyParser('json', { limit: '256kb' });
  app.useGlobalFilters(new OwnerHttpExceptionFilter());
  const config = new DocumentBuilder()
    .setTitle('Owner registry')
    .setDescription('Who owns a device, who may act on it, which operators may touch its eUICC (docs/owner-registry.md)')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An OpenID Connect ID token of a trusted issuer' }, 'owner-id-token')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'X-API-Key')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.paths = Object.fromEntries(Object.entries(document.paths).filter(([path]) => !path.startsWith('/portal'))); // the portal's static files
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  await app.listen(options.httpPort, options.httpHost ?? '127.0.0.1');
  return app;
}
