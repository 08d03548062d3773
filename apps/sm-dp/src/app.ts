/**
 * `startSmDp(options)`: the SM-DP (SGP.02 Subscription Manager – Data Preparation) as one programmatic
 * factory (docs/services.md "Rooms"): database (migrated on open), ES2 REST + the MNO inventory API +
 * OpenAPI at /docs, the ES3 client to the SM-SR over MQTT, the ES3 callback microservice, and the
 * outbox worker delivering ES2 notifications. `npm start`, the tests and the benchmark use it.
 */
import type { KeyObject } from 'node:crypto';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { MqttClient } from 'mqtt';
import type { DataSource } from 'typeorm';
import { functionPaths, isId, type FunctionFrame } from '@rsp/contracts';
import type { VerifiedDeviceStatusCache } from '@rsp/identity';
import type { BackoffPolicy, OutboxRelay } from '@rsp/persistence';
import { RspMqttServer, type MqttCredentials } from '@rsp/mqtt-transport';
import { StartupScope, serviceLogging, startServiceApp, type OwnerRegistryLink, type PinoLogger } from '@rsp/service-kit';
import { FunctionStatusExceptionFilter } from './adapters/http-exception.filter';
import { openApiComponents } from './adapters/openapi';
import { SMDP_DATA_SOURCE, SMDP_DOWNLOADS, SMDP_INVENTORY, SMDP_MQTT, SMDP_OUTBOX_RELAY, SMDP_OWNER_CHECKS, SmDpModule, type SmDpOwnerChecks } from './adapters/sm-dp.module';
import { ES2_SERVICE } from './adapters/tokens';
import type { DownloadService, Logger } from './domain/download-service';
import type { Es2Service } from './domain/es2-service';
import type { Es3Client } from './domain/es3-client';
import type { Inventory, MnoConfig } from './domain/inventory';

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
  /** false: every PostgreSQL statement unnamed (RSP_DATABASE_PREPARED_STATEMENTS=0, behind a pooler that cannot keep prepared ones). */
  databasePreparedStatements?: false;
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
  /** A pino logger (JSON lines, HTTP request logs; what main.ts passes), or a console-like port (tests); none: silent. */
  logger?: PinoLogger | Logger;
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
  /** The owner registry whose consents and signed device statuses this service verifies (@rsp/service-kit OwnerRegistryLink). */
  ownerRegistry?: OwnerRegistryLink;
}

export interface SmDpHandle {
  httpUrl: string;
  /** The Nest application (one hybrid app: HTTP and the ES3 callbacks): `close()` is `app.close()`. */
  app: NestExpressApplication;
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

export async function startSmDp(options: SmDpOptions): Promise<SmDpHandle> {
  if (!isId(options.smdpId)) throw new Error('smdpId must be letters, digits, _ . : - (1..128)');
  for (const mno of options.mnos) if (!isId(mno.mnoId)) throw new Error(`mnoId "${mno.mnoId}" must be letters, digits, _ . : - (1..128)`);
  const logging = serviceLogging(options.logger);
  const logger = logging.port;
  const scope = new StartupScope();
  const { app, httpUrl } = await startServiceApp(SmDpModule.forRoot(options, scope, logger), scope, {
    logging,
    jsonBodyLimit: '5mb',
    filters: [new FunctionStatusExceptionFilter()],
    openApi: (created) => openApiDocument(created, options.smdpId),
    // The ES3 callbacks from the SM-SR (Handle*Notification), answered as RSP service replies.
    mqttServer: (created) =>
      new RspMqttServer({
        client: created.get<MqttClient>(SMDP_MQTT),
        ...(options.topicPrefix ? { topicPrefix: options.topicPrefix } : {}),
        protocolVersion: options.mqttProtocolVersion ?? 4,
      }),
    port: options.httpPort,
    host: options.httpHost ?? '127.0.0.1',
  });
  const es2 = app.get<Es2Service>(ES2_SERVICE);
  const relay = app.get<OutboxRelay>(SMDP_OUTBOX_RELAY);
  // Everything is up (database, ES3 client, callbacks, outbox): finish what a crash interrupted.
  const resumeConcurrency = options.resumeConcurrency ?? 4;
  if (resumeConcurrency > 0) {
    void app
      .get<DownloadService>(SMDP_DOWNLOADS)
      .resumeInterrupted((mnoId, replay, response) => es2.settleReplay(mnoId, replay, response), resumeConcurrency)
      .then((count) => count > 0 && logger.log(`download flows resumed or compensated after restart: ${count}`))
      .catch((error: unknown) => logger.error(`resuming download flows failed: ${(error as Error).message}`));
  }
  return {
    httpUrl,
    app,
    smdpId: options.smdpId,
    inventory: app.get<Inventory>(SMDP_INVENTORY),
    frame: es2.frame,
    dataSource: app.get<DataSource>(SMDP_DATA_SOURCE),
    deviceStatuses: app.get<SmDpOwnerChecks | undefined>(SMDP_OWNER_CHECKS)?.statuses,
    drainOutbox: async () => {
      await relay.drain();
    },
    close: () => app.close(),
  };
}

function openApiDocument(app: NestExpressApplication, smdpId: string) {
  const config = new DocumentBuilder()
    .setTitle(`SM-DP ${smdpId}`)
    .setDescription('SGP.02 Subscription Manager – Data Preparation: ES2 (MNO → SM-DP) and the MNO inventory API')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'X-API-Key')
    .addSecurityRequirements('X-API-Key')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...openApiComponents } };
  // One operation per ES2 function, its schemas from the contracts' own checks (libs/contracts openapi.ts); the
  // generic `{functionName}` form stays listed after them for clients that route by name.
  document.paths = { ...(functionPaths('ES2', 'X-API-Key') as typeof document.paths), ...document.paths };
  return document;
}
