/**
 * `startSmSr(options)`: one SM-SR instance (docs/services.md) — the EIS registry on SQLite/Postgres,
 * ES1 + ES4 over HTTP (OpenAPI at /docs), ES3 over MQTT service requests, ES5 to the cards, card
 * notifications, and the outbox worker delivering Handle*Notification callbacks.
 */
import 'reflect-metadata';
import type { KeyObject } from 'node:crypto';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { MqttClient } from 'mqtt';
import type { DataSource } from 'typeorm';
import { ContractError, functionPaths } from '@rsp/contracts';
import type { VerifiedDeviceStatusCache } from '@rsp/identity';
import { RspMqttServer, type MqttCredentials } from '@rsp/mqtt-transport';
import type { IsdRKeySet } from '@rsp/offcard';
import type { BackoffPolicy, OutboxRelay } from '@rsp/persistence';
import { StartupScope, serviceLogging, startServiceApp, type OwnerRegistryLink, type PinoLogger } from '@rsp/service-kit';
import type { EisRegistry, SmSrLogger } from './domain/model';
import type { SmSrService } from './domain/sm-sr-service';
import { SMSR_SERVICE } from './adapters/http/auth';
import { SmSrExceptionFilter } from './adapters/http/exception-filter';
import {
  instanceGroupOf,
  SMSR_DATA_SOURCE,
  SMSR_MQTT,
  SMSR_OUTBOX_RELAY,
  SMSR_OWNER_CHECKS,
  SMSR_STORAGE,
  SmSrModule,
  type SmSrOwnerChecks,
  type SmSrStorage,
} from './adapters/sm-sr.module';
import type { Es5Channel } from './es5/index';

export interface SmSrOptions {
  smsrId: string;
  /** 0 = an ephemeral port. */
  httpPort: number;
  /** Default 127.0.0.1. */
  httpHost?: string;
  /** The broker, `mqtts://…` (the embedded broker of `npm start`, or Mosquitto with deploy/mosquitto). */
  mqttUrl: string;
  /**
   * This instance's broker identity: a TLS client certificate whose CN (the principal, also the client id)
   * the broker lists as an SM-SR acting for `smsrId` (docs/security.md). Without it the SM-SR refuses to start.
   */
  mqttCredentials?: MqttCredentials;
  mqttProtocolVersion?: 4 | 5;
  /** Service request topic prefix (default `rsp/v1`; tests use their own). */
  topicPrefix?: string;
  /**
   * Instances of this SM-SR id with the same group split the ES3 requests and the card notifications
   * (MQTT 5 `$share/{group}/…`; ignored on MQTT 3.1.1, where every instance gets everything, so run one
   * instance there). Default `smsr-{smsrId}`. Several instances also need one shared database (PostgreSQL):
   * they lock each card through `smsr_card_lease` (domain/card-lease.ts). docs/services.md.
   */
  instanceGroup?: string;
  /**
   * `single`: this is the only SM-SR instance on its database. It then keeps what it alone writes in memory:
   * no card lease rows (the in-process queue per EID is the whole lock), ES3 idempotency in memory, and the
   * EIS records and opened ISD-R keys cached (write-through). `shared`: several instances of this SM-SR id
   * share one PostgreSQL (and `instanceGroup`): card leases, ES3 idempotency rows, no cache.
   * Default: `single` on SQLite (one writer), `shared` on PostgreSQL (the safe choice). RSP_SMSR_INSTANCES.
   */
  instances?: 'single' | 'shared';
  /**
   * Lifetime of the cross-instance card lease (renewed while an exchange runs) in `shared` mode. Default
   * 30 000 ms; 0 = no lease.
   */
  cardLeaseMs?: number;
  /** How long a repeat waits for the first call of its functionCallIdentifier still running (the SGP.02 frame's step 8). Default 120 000 ms. */
  replayWaitMs?: number;
  /** RSP_DATABASE_URL form: `sqlite:///abs.db`, `sqlite::memory:`, `postgres://…`. */
  databaseUrl: string;
  databaseSchema?: string;
  /** false: every PostgreSQL statement unnamed (RSP_DATABASE_PREPARED_STATEMENTS=0, behind a pooler that cannot keep prepared ones). */
  databasePreparedStatements?: false;
  /** CI certificate, X.509 DER: the trust anchor of ES1. */
  ciCertificate: Buffer;
  /** EUMs allowed to register eUICCs: certificate (X.509 DER) and optional API key. */
  eums: ReadonlyArray<{ eumId: string; certificate: Buffer; apiKey?: string }>;
  /** MNOs of ES4: API key (only its SHA-256 is kept) and optional webhook for notifications. */
  mnos: ReadonlyArray<{ mnoId: string; apiKey: string; webhookUrl?: string }>;
  /** SecretBox configuration `id:base64key[,…]` (RSP_SECRET_BOX_KEYS) sealing the ISD-R keys at rest. */
  secretBoxKeys: string;
  /**
   * ES5 to the cards; default MqttEs5Channel on mqttUrl with the registry's ISD-R keys. A channel given
   * here must take its keys from the registry too (`registry.isdRKeys`) when the handover below is on.
   */
  es5Channel?: Es5Channel;
  /**
   * CERT.SR.ECDSA (GP 7F21 bytes, from the CI) and SK.SR.ECDSA. With both, the SM-SR replaces each card's
   * initial ISD-R key set (the EUM's, KVN 0x30) by its own (KVN 0x31) with ES5 EstablishISDRKeySet
   * (Scenario#3) and FinaliseISDRhandover, lazily before its first ES5 exchange with the card
   * (domain/isd-r-handover.ts). Without them the EUM's key set keeps securing ES5.
   */
  smsrCertificate?: Uint8Array;
  /** @secret */
  smsrPrivateKey?: KeyObject;
  /** A pino logger (JSON lines, HTTP request logs; what main.ts passes), or a console-like port (tests); none: silent. */
  logger?: PinoLogger | SmSrLogger;
  /** Outbox retry policy (default @rsp/persistence DEFAULT_BACKOFF) and poll period. */
  outboxBackoff?: BackoffPolicy;
  outboxPollMs?: number;
  /** ISD-R key set the EUM hands over at registration (default `defaultIsdRKeySet`, the TEST derivation). */
  initialIsdRKeys?: (eid: string) => IsdRKeySet;
  /**
   * The owner registry (docs/owner-registry.md). When set, ES4 EnableProfile / DisableProfile /
   * DeleteProfile on an owned device need a valid `X-Owner-Consent` header, and on a Suspended device
   * ES3 and ES4 refuse every profile function but DeleteISDP / DeleteProfile; registry-signed device statuses come from
   * the retained MQTT topics `rsp/v1/owner/device/+/status` on mqttUrl. Absent: no owner checks at all.
   */
  /** The owner registry whose consents and signed device statuses this service verifies (@rsp/service-kit OwnerRegistryLink). */
  ownerRegistry?: OwnerRegistryLink;
}

export interface SmSrHandle {
  httpUrl: string;
  smsrId: string;
  /** The Nest application: `close()` is `app.close()`; main.ts calls `app.enableShutdownHooks()`. */
  app: NestExpressApplication;
  service: SmSrService;
  registry: EisRegistry;
  dataSource: DataSource;
  outbox: OutboxRelay;
  /** The owner registry's latest VERIFIED device statuses (only with `ownerRegistry`). */
  deviceStatuses: VerifiedDeviceStatusCache | undefined;
  /** ES3 requests this instance ran (not the duplicates answered from the cache): how the group split them. */
  servedRequests(): number;
  close(): Promise<void>;
}

export async function startSmSr(options: SmSrOptions): Promise<SmSrHandle> {
  const logging = serviceLogging(options.logger);
  const logger = logging.port;
  if ((options.smsrCertificate === undefined) !== (options.smsrPrivateKey === undefined)) {
    throw new ContractError.InvalidParameter('smsrCertificate', 'both smsrCertificate and smsrPrivateKey, or neither');
  }
  const protocolVersion = options.mqttProtocolVersion ?? 4;
  let requestServer: RspMqttServer | undefined;
  const scope = new StartupScope();
  const { app, httpUrl } = await startServiceApp(SmSrModule.forRoot(options, scope, logger), scope, {
    logging,
    filters: [new SmSrExceptionFilter(logger)],
    openApi: (created) => openApiDocument(created, options.smsrId),
    // ES3 over MQTT service requests, split between the instances of a group on MQTT 5 ($share).
    mqttServer: (created) =>
      (requestServer = new RspMqttServer({
        client: created.get<MqttClient>(SMSR_MQTT),
        protocolVersion,
        ...(protocolVersion === 5 ? { group: instanceGroupOf(options) } : {}),
        ...(options.topicPrefix ? { topicPrefix: options.topicPrefix } : {}),
      })),
    port: options.httpPort,
    host: options.httpHost ?? '127.0.0.1',
  });
  logger.log(`SM-SR ${options.smsrId}: HTTP ${httpUrl} (docs ${httpUrl}/docs), ES3 on ${options.mqttUrl}`);
  return {
    httpUrl,
    smsrId: options.smsrId,
    app,
    service: app.get<SmSrService>(SMSR_SERVICE),
    registry: app.get<SmSrStorage>(SMSR_STORAGE).registry,
    dataSource: app.get<DataSource>(SMSR_DATA_SOURCE),
    outbox: app.get<OutboxRelay>(SMSR_OUTBOX_RELAY),
    deviceStatuses: app.get<SmSrOwnerChecks | undefined>(SMSR_OWNER_CHECKS)?.statuses,
    servedRequests: () => requestServer?.handlerExecutions ?? 0,
    close: () => app.close(),
  };
}

function openApiDocument(app: NestExpressApplication, smsrId: string) {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(`SM-SR ${smsrId}`)
      .setDescription('SGP.02 SM-SR: ES1 (EUM) and ES4 (MNO) over HTTP; ES3 over MQTT service requests `smsr/{smsrId}/es3/{Function}`')
      .setVersion('1')
      .addApiKey({ type: 'apiKey', name: 'X-API-Key', in: 'header' }, 'X-API-Key')
      .build(),
  );
  // One operation per ES1 and ES4 function, their schemas from the contracts' own checks (libs/contracts
  // openapi.ts); the generic `{functionName}` forms stay listed after them for clients that route by name.
  document.paths = {
    ...(functionPaths('ES1', 'X-API-Key') as typeof document.paths),
    ...(functionPaths('ES4', 'X-API-Key') as typeof document.paths),
    ...document.paths,
  };
  return document;
}
