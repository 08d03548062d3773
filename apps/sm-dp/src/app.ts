/**
 * `startSmDp(options)`: the SM-DP (SGP.02 Subscription Manager – Data Preparation) as one programmatic
 * factory (docs/services.md "Rooms"): database (migrated on open), ES2 REST + the MNO inventory API +
 * OpenAPI at /docs, the ES3 client to the SM-SR over MQTT, the ES3 callback microservice, and the
 * outbox worker delivering ES2 notifications. `npm start`, the tests and the benchmark use it.
 */
import type { KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Module, type DynamicModule, type INestApplication, type INestMicroservice, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { MqttClient } from 'mqtt';
import type { DataSource } from 'typeorm';
import { TOPIC_ROOT, functionPaths, isId, type FunctionFrame } from '@rsp/contracts';
import { ConsentVerifier, HttpDeviceStatusSource, VerifiedDeviceStatusCache } from '@rsp/identity';
import type { JSONWebKeySet } from 'jose';
import { IdempotencyStore, Outbox, OutboxRelay, SecretBox, StateMachine, openDataSource, type BackoffPolicy } from '@rsp/persistence';
import { connectMqtt, RspMqttServer, RspRpcExceptionFilter, type MqttCredentials } from '@rsp/mqtt-transport';
import { Es2Controller } from './adapters/es2.controller';
import { es3CallbacksController } from './adapters/es3-callbacks.controller';
import { FunctionStatusExceptionFilter } from './adapters/http-exception.filter';
import { InventoryController } from './adapters/inventory.controller';
import { DeviceStatusSubscriber } from '@rsp/mqtt-transport';
import { MqttEs3Client } from './adapters/mqtt-es3-client';
import { TransactionLog, tracedEs3Client } from './adapters/traced-es3-client';
import { TransactionsController } from './adapters/transactions.controller';
import { outboxNotificationQueue } from './adapters/notification-queue';
import { openApiComponents } from './adapters/openapi';
import { smDpOutboxDelivery } from './adapters/outbox-delivery';
import { smdpEntities, smdpMigrations } from './adapters/persistence';
import { typeOrmInventoryStore } from './adapters/typeorm-inventory-store';
import { ES2_SERVICE, INVENTORY_API, NOTIFIER, TRANSACTION_LOG } from './adapters/tokens';
import { DownloadService, type Logger } from './domain/download-service';
import { Es2Service } from './domain/es2-service';
import type { Es3Client } from './domain/es3-client';
import { Es3Gateway } from './domain/es3-gateway';
import { Inventory, type MnoConfig } from './domain/inventory';
import { InventoryApi } from './domain/inventory-api';
import { Notifier } from './domain/notifier';
import { OwnerConsentCheck } from './domain/owner-consent';

export type { Es3Client } from './domain/es3-client';
export type { SubscriberRecord } from './domain/inventory';

export interface SmDpOptions {
  /** This SM-DP's identity (`smdp.demo`): names its ES3 callback topics; letters, digits, `_ . : -`. */
  smdpId: string;
  /** 0 = ephemeral. */
  httpPort: number;
  httpHost?: string;
  /** The broker, `mqtts://…` (the embedded broker of `npm start`, or Mosquitto with deploy/mosquitto). */
  mqttUrl: string;
  /**
   * The SM-DP's broker identity: a TLS client certificate whose CN (the principal, also the client id) the
   * broker lists as an SM-DP acting for `smdpId`, so ES3 requests go out under that proven name
   * (docs/security.md). Without it the SM-DP refuses to start.
   */
  mqttCredentials?: MqttCredentials;
  mqttProtocolVersion?: 4 | 5;
  /** Service request topic prefix (default `rsp/v1`; tests use `rsp-test/{uuid}`). Also roots the MNO notify topics. */
  topicPrefix?: string;
  databaseUrl: string;
  databaseSchema?: string;
  /** CI certificate (X.509 DER): trust anchor of the ECASD chain. */
  ciCertificate: Buffer;
  /** EUM certificates (X.509 DER) accepted as ECASD issuers. */
  eumCertificates: Buffer[];
  /** CERT.DP.ECDSA (GP 7F21 bytes) sent to the card in ES8. */
  smdpCertificate: Buffer;
  /** SK.DP.ECDSA. @secret */
  smdpPrivateKey: KeyObject;
  mnos: MnoConfig[];
  /** `id:base64key[,…]` for SecretBox.fromConfig. @secret */
  secretBoxKeys: string;
  /** Replaces the MQTT ES3 client (tests). */
  es3?: Es3Client;
  logger?: Logger;
  /** ES3 reply timeout (ms). Default 30 000. */
  es3TimeoutMs?: number;
  /** Outbox poll period (ms). Default 500. */
  outboxIntervalMs?: number;
  outboxBackoff?: BackoffPolicy;
  /**
   * Crash recovery (docs/services.md "Crash recovery"): download flows left running by a killed process
   * are resumed in the background at start, this many at a time. Default 4; 0 = do not resume.
   */
  resumeConcurrency?: number;
  /** How long an ES2 repeat waits for the first call of its functionCallIdentifier still running (the SGP.02 frame's step 8). Default 120 000 ms. */
  replayWaitMs?: number;
  /**
   * The owner registry (docs/owner-registry.md). When set, ES2 DownloadProfile / EnableProfile /
   * DisableProfile / DeleteProfile on an owned device need a valid `X-Owner-Consent` header, and a
   * Suspended device refuses all but DeleteProfile; registry-signed device statuses come from the retained MQTT topics
   * `rsp/v1/owner/device/+/status` on mqttUrl. Absent: no owner checks at all.
   */
  ownerRegistry?: {
    /** The registry URL, `iss` of its consents. */
    issuer: string;
    /** Its JWKS URL (`{registry}/.well-known/jwks.json`) or the key set itself; it also verifies the signed device statuses. */
    jwks: string | JSONWebKeySet;
    /** HTTP base URL answering `GET /device-status/{eid}` for a device with no verified status (default `issuer`); a function is read per request. */
    statusUrl?: string | (() => string | undefined);
  };
}

export interface SmDpHandle {
  httpUrl: string;
  smdpId: string;
  /** The inventory (seeding from main.ts, test assertions). */
  inventory: Inventory;
  /** ES2 on the common SGP.02 frame (tests: the in-progress and expired answers). */
  frame: FunctionFrame;
  dataSource: DataSource;
  /** The owner registry's latest VERIFIED device statuses (only with `ownerRegistry`). */
  deviceStatuses: VerifiedDeviceStatusCache | undefined;
  /** Runs one outbox delivery round now. */
  drainOutbox(): Promise<void>;
  close(): Promise<void>;
}

const silentNest: LoggerService = { log: () => undefined, warn: () => undefined, error: () => undefined };

export async function startSmDp(options: SmDpOptions): Promise<SmDpHandle> {
  if (!isId(options.smdpId)) throw new Error('smdpId must be letters, digits, _ . : - (1..128)');
  for (const mno of options.mnos) if (!isId(mno.mnoId)) throw new Error(`mnoId "${mno.mnoId}" must be letters, digits, _ . : - (1..128)`);
  const logger: Logger = options.logger ?? console;
  const nestLogger: LoggerService = options.logger ?? silentNest;
  const secrets = SecretBox.fromConfig(options.secretBoxKeys);
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch((error: unknown) => logger.warn(`close: ${(error as Error).message}`));
  };

  try {
    const dataSource = await openDataSource({
      url: options.databaseUrl,
      ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
      entities: smdpEntities,
      migrations: smdpMigrations,
    });
    closers.push(() => dataSource.destroy());
    const inventory = new Inventory(typeOrmInventoryStore(dataSource), secrets);
    for (const mno of options.mnos) await inventory.upsertMno(mno);

    // ONE broker connection for every part (client id = the certificate's principal, connection.ts).
    const publisher = await connectMqtt({
      url: options.mqttUrl,
      ...(options.mqttCredentials ? { credentials: options.mqttCredentials } : {}),
      protocolVersion: options.mqttProtocolVersion ?? 4,
    });
    closers.push(() => publisher.endAsync());

    let es3Client = options.es3;
    if (!es3Client) {
      // ES3 requests go out under this SM-DP's own name, which the broker proves to the SM-SR.
      const client = new MqttEs3Client({
        client: publisher,
        caller: options.smdpId,
        ...(options.topicPrefix ? { topicPrefix: options.topicPrefix } : {}),
        protocolVersion: options.mqttProtocolVersion ?? 4,
        timeoutMs: options.es3TimeoutMs ?? 30_000,
      });
      await client.connect();
      closers.push(() => client.close());
      es3Client = client;
    }

    const outbox = new Outbox(dataSource, options.outboxBackoff ? { backoff: options.outboxBackoff } : {});
    const notifier = new Notifier(outboxNotificationQueue(outbox, dataSource), inventory, options.smdpId, options.topicPrefix ?? TOPIC_ROOT);
    const transactions = new TransactionLog();
    const es3 = new Es3Gateway(tracedEs3Client(es3Client, transactions), options.smdpId, options.es3TimeoutMs ?? 30_000);
    const downloads = new DownloadService(
      (flows, flowOptions) => new StateMachine(dataSource, flows, flowOptions),
      {
        inventory,
        es3,
        notifier,
        secrets,
        ciCertificate: options.ciCertificate,
        eumCertificates: options.eumCertificates,
        smdpCertificate: options.smdpCertificate,
        smdpPrivateKey: options.smdpPrivateKey,
        now: () => new Date(),
      },
      logger,
      // Test hook of test/e2e/crash-recovery.spec.ts; inert unless the variable is set.
      process.env.RSP_TEST_PAUSE_AT_STEP ? { pauseAtStep: process.env.RSP_TEST_PAUSE_AT_STEP } : {},
    );
    let ownerConsent: OwnerConsentCheck | undefined;
    let deviceStatuses: VerifiedDeviceStatusCache | undefined;
    if (options.ownerRegistry) {
      const { issuer, jwks, statusUrl } = options.ownerRegistry;
      const verifier = new ConsentVerifier({ issuer, jwks });
      // Only registry-signed statuses count; a device without one is fetched from the registry, else refused.
      deviceStatuses = new VerifiedDeviceStatusCache({ issuer, jwks, source: new HttpDeviceStatusSource({ registryUrl: statusUrl ?? issuer }), logger });
      const subscriber = await DeviceStatusSubscriber.attach({ client: publisher, statuses: deviceStatuses });
      closers.push(() => subscriber.close());
      ownerConsent = new OwnerConsentCheck(verifier, deviceStatuses, logger);
    }
    const es2 = new Es2Service(inventory, new IdempotencyStore(dataSource), downloads, es3, logger, {
      ...(ownerConsent ? { ownerConsent } : {}),
      ...(options.replayWaitMs !== undefined ? { maxReplayWaitMs: options.replayWaitMs } : {}),
    });

    const http = await startHttp(options, { es2, inventoryApi: new InventoryApi(inventory), transactions }, nestLogger);
    closers.push(() => http.close());
    const callbacks = await startCallbacks(options, publisher, notifier, nestLogger);
    closers.push(() => callbacks.close());

    const worker = new OutboxRelay({ outbox, deliver: smDpOutboxDelivery({ mqtt: publisher }), logger, ...(options.outboxIntervalMs ? { pollMs: options.outboxIntervalMs } : {}) });
    worker.start();
    closers.push(() => worker.stop());

    // Everything is up (database, ES3 client, callbacks, outbox): finish what a crash interrupted.
    const resumeConcurrency = options.resumeConcurrency ?? 4;
    if (resumeConcurrency > 0) {
      void downloads
        .resumeInterrupted((mnoId, replay, response) => es2.settleReplay(mnoId, replay, response), resumeConcurrency)
        .then((count) => count > 0 && logger.log(`download flows resumed or compensated after restart: ${count}`))
        .catch((error: unknown) => logger.error(`resuming download flows failed: ${(error as Error).message}`));
    }

    const address = http.getHttpServer().address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
      httpUrl: `http://${host}:${address.port}`,
      smdpId: options.smdpId,
      inventory,
      frame: es2.frame,
      dataSource,
      deviceStatuses,
      drainOutbox: async () => {
        await worker.drain();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function startHttp(
  options: SmDpOptions,
  services: { es2: Es2Service; inventoryApi: InventoryApi; transactions: TransactionLog },
  logger: LoggerService,
): Promise<INestApplication> {
  @Module({})
  class SmDpHttpModule {}
  const module: DynamicModule = {
    module: SmDpHttpModule,
    controllers: [Es2Controller, InventoryController, TransactionsController],
    providers: [
      { provide: ES2_SERVICE, useValue: services.es2 },
      { provide: TRANSACTION_LOG, useValue: services.transactions },
      { provide: INVENTORY_API, useValue: services.inventoryApi },
    ],
  };
  const app = await NestFactory.create<NestExpressApplication>(module, { logger, bodyParser: false });
  app.useBodyParser('json', { limit: '5mb' });
  app.useGlobalFilters(new FunctionStatusExceptionFilter());
  const config = new DocumentBuilder()
    .setTitle(`SM-DP ${options.smdpId}`)
    .setDescription('SGP.02 Subscription Manager – Data Preparation: ES2 (MNO → SM-DP) and the MNO inventory API')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'X-API-Key')
    .addSecurityRequirements('X-API-Key')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...openApiComponents } };
  // One operation per ES2 function, its schemas from the contracts' own checks (libs/contracts openapi.ts); the
  // generic `{functionName}` form stays listed after them for clients that route by name.
  document.paths = { ...(functionPaths('ES2', 'X-API-Key') as typeof document.paths), ...document.paths };
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  await app.listen(options.httpPort, options.httpHost ?? '127.0.0.1');
  return app;
}

async function startCallbacks(options: SmDpOptions, mqttClient: MqttClient, notifier: Notifier, logger: LoggerService): Promise<INestMicroservice> {
  @Module({})
  class SmDpEs3CallbacksModule {}
  const module: DynamicModule = {
    module: SmDpEs3CallbacksModule,
    controllers: [es3CallbacksController(options.smdpId)],
    providers: [{ provide: NOTIFIER, useValue: notifier }],
  };
  const strategy = new RspMqttServer({
    client: mqttClient,
    ...(options.topicPrefix ? { topicPrefix: options.topicPrefix } : {}),
    protocolVersion: options.mqttProtocolVersion ?? 4,
  });
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(module, { strategy, logger });
  app.useGlobalFilters(new RspRpcExceptionFilter());
  await app.listen();
  return app;
}
