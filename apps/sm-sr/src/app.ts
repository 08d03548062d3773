/**
 * `startSmSr(options)`: one SM-SR instance (docs/services.md) — the EIS registry on SQLite/Postgres,
 * ES1 + ES4 over HTTP (OpenAPI at /docs), ES3 over MQTT service requests, ES5 to the cards, card
 * notifications, and the outbox worker delivering Handle*Notification callbacks.
 */
import 'reflect-metadata';
import { randomUUID, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { DataSource } from 'typeorm';
import { ContractError, functionPaths, topicLevel } from '@rsp/contracts';
import { connectMqtt, RspMqttServer, RspRequester, type MqttCredentials } from '@rsp/mqtt-transport';
import { driverOf, IdempotencyStore, MemoryIdempotencyStore, openDataSource, Outbox, OutboxRelay, SecretBox, type BackoffPolicy } from '@rsp/persistence';
import type { IsdRKeySet } from '@rsp/offcard';
import { ConsentVerifier, HttpDeviceStatusSource, VerifiedDeviceStatusCache } from '@rsp/identity';
import type { JSONWebKeySet } from 'jose';
import { SILENT_LOGGER, type EisRegistry, type SmSrLogger } from './domain/model';
import { OwnerPolicyGuard } from './domain/owner-policy';
import { SmSrService } from './domain/sm-sr-service';
import { ApiKeyDirectory } from './adapters/http/auth';
import { SmSrExceptionFilter } from './adapters/http/exception-filter';
import { CardNotificationListener } from './adapters/mqtt/card-notification-listener';
import { DeviceStatusSubscriber } from '@rsp/mqtt-transport';
import { smSrOutboxDelivery } from './adapters/outbox-delivery';
import { SqlCardLeaseStore } from './adapters/persistence/card-lease-store';
import { CardLease } from './domain/card-lease';
import { CachedEisRegistry } from './adapters/persistence/cached-registry';
import { smSrEntities, smSrMigrations, TypeOrmEisRegistry } from './adapters/persistence/typeorm-registry';
import { SmSrModule } from './adapters/sm-sr.module';
import { Es5Error, MqttEs5Channel, type Es5Channel } from './es5/index';

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
  logger?: SmSrLogger;
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
  ownerRegistry?: {
    /** The registry URL, `iss` of its consents. */
    issuer: string;
    /** Its JWKS URL (`{registry}/.well-known/jwks.json`) or the key set itself; it also verifies the signed device statuses. */
    jwks: string | JSONWebKeySet;
    /** HTTP base URL answering `GET /device-status/{eid}` for a device with no verified status (default `issuer`); a function is read per request. */
    statusUrl?: string | (() => string | undefined);
  };
}

export interface SmSrHandle {
  httpUrl: string;
  smsrId: string;
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
  const logger = options.logger ?? SILENT_LOGGER;
  if ((options.smsrCertificate === undefined) !== (options.smsrPrivateKey === undefined)) {
    throw new ContractError.InvalidParameter('smsrCertificate', 'both smsrCertificate and smsrPrivateKey, or neither');
  }
  const secrets = SecretBox.fromConfig(options.secretBoxKeys);
  const cleanup: Array<() => Promise<unknown>> = [];
  const closeAll = async () => {
    for (const step of cleanup.reverse()) await step().catch((error: unknown) => logger.warn(`close: ${(error as Error).message}`));
  };
  try {
    const dataSource = await openDataSource({
      url: options.databaseUrl,
      entities: smSrEntities,
      migrations: smSrMigrations,
      ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
    });
    cleanup.push(() => dataSource.destroy());
    const outbox = new Outbox(dataSource, options.outboxBackoff ? { backoff: options.outboxBackoff } : {});
    const single = (options.instances ?? (driverOf(dataSource) === 'postgres' ? 'shared' : 'single')) === 'single';
    const stored = new TypeOrmEisRegistry(dataSource, secrets, outbox);
    const registry: EisRegistry = single ? await new CachedEisRegistry(stored).load() : stored;
    const protocolVersion = options.mqttProtocolVersion ?? 4;
    const instanceGroup = options.instanceGroup ?? `smsr-${topicLevel(options.smsrId, 'smsrId')}`.slice(0, 64);
    // ONE broker connection for every part (client id = the certificate's principal, connection.ts).
    const mqtt = await connectMqtt({ url: options.mqttUrl, ...(options.mqttCredentials ? { credentials: options.mqttCredentials } : {}), protocolVersion });
    cleanup.push(() => mqtt.endAsync());
    const instanceId = `smsr-${randomUUID()}`;
    const cardLease =
      single || options.cardLeaseMs === 0
        ? undefined
        : new CardLease({ store: new SqlCardLeaseStore(dataSource), instanceId, logger, ...(options.cardLeaseMs !== undefined ? { ttlMs: options.cardLeaseMs } : {}) });

    let es5 = options.es5Channel;
    if (!es5) {
      const channel = await MqttEs5Channel.connect({
        client: mqtt,
        smsrId: options.smsrId,
        protocolVersion,
        instanceId: `es5-${randomUUID()}`,
        keys: async (eid) => {
          const keys = await registry.isdRKeys(eid);
          if (!keys) throw new Es5Error.CardUnreachable(`no ISD-R keys for ${eid}`);
          return keys;
        },
      });
      cleanup.push(() => channel.close());
      es5 = channel;
    }

    let ownerPolicy: OwnerPolicyGuard | undefined;
    let deviceStatuses: VerifiedDeviceStatusCache | undefined;
    if (options.ownerRegistry) {
      const { issuer, jwks, statusUrl } = options.ownerRegistry;
      const verifier = new ConsentVerifier({ issuer, jwks });
      // Only registry-signed statuses count; a device without one is fetched from the registry, else refused.
      deviceStatuses = new VerifiedDeviceStatusCache({ issuer, jwks, source: new HttpDeviceStatusSource({ registryUrl: statusUrl ?? issuer }), logger });
      const subscriber = await DeviceStatusSubscriber.attach({ client: mqtt, statuses: deviceStatuses });
      cleanup.push(() => subscriber.close());
      ownerPolicy = new OwnerPolicyGuard(verifier, deviceStatuses, logger);
    }

    const service = new SmSrService({
      smsrId: options.smsrId,
      registry,
      idempotency: new IdempotencyStore(dataSource),
      ...(single ? { internalIdempotency: new MemoryIdempotencyStore() } : {}),
      es5,
      ciCertificate: options.ciCertificate,
      eums: new Map(options.eums.map((eum) => [eum.eumId, eum.certificate])),
      mnos: new Map(options.mnos.map((mno) => [mno.mnoId, { mnoId: mno.mnoId, ...(mno.webhookUrl ? { webhookUrl: mno.webhookUrl } : {}) }])),
      logger,
      ...(options.initialIsdRKeys ? { initialIsdRKeys: options.initialIsdRKeys } : {}),
      ...(options.smsrCertificate && options.smsrPrivateKey
        ? { isdRHandover: { smsrCertificate: options.smsrCertificate, smsrPrivateKey: options.smsrPrivateKey } }
        : {}),
      ...(ownerPolicy ? { ownerPolicy } : {}),
      ...(cardLease ? { cardLease } : {}),
      ...(options.replayWaitMs !== undefined ? { replayWaitMs: options.replayWaitMs } : {}),
    });

    // Callbacks to SM-DPs go out under this SM-SR's own name, which the broker proves to them.
    const requester = new RspRequester({ client: mqtt, caller: options.smsrId, protocolVersion, ...(options.topicPrefix ? { topicPrefix: options.topicPrefix } : {}) });
    cleanup.push(() => requester.close());
    const worker = new OutboxRelay({ outbox, deliver: smSrOutboxDelivery({ requester, mqtt }), logger, ...(options.outboxPollMs !== undefined ? { pollMs: options.outboxPollMs } : {}) });
    worker.start();
    cleanup.push(() => worker.stop());
    const listener = new CardNotificationListener(mqtt, service.cardNotifications, logger, { protocolVersion, group: instanceGroup });
    await listener.start();
    cleanup.push(async () => listener.stop());

    const auth = {
      mnos: new ApiKeyDirectory(options.mnos.map((mno) => ({ id: mno.mnoId, apiKey: mno.apiKey }))),
      eums: new ApiKeyDirectory(options.eums.map((eum) => ({ id: eum.eumId, apiKey: eum.apiKey }))),
    };
    const app = await NestFactory.create(SmSrModule.register({ smsrId: options.smsrId, service, auth, registry }), new ExpressAdapter(), {
      logger: options.logger ? ['error', 'warn'] : false,
    });
    cleanup.push(() => app.close());
    app.useGlobalFilters(new SmSrExceptionFilter(logger));
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle(`SM-SR ${options.smsrId}`)
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
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
    const requestServer = new RspMqttServer({
      client: mqtt,
      protocolVersion,
      ...(protocolVersion === 5 ? { group: instanceGroup } : {}),
      ...(options.topicPrefix ? { topicPrefix: options.topicPrefix } : {}),
    });
    app.connectMicroservice<MicroserviceOptions>(
      { strategy: requestServer },
      { inheritAppConfig: true }, // the global filter answers RPC failures through RspRpcExceptionFilter
    );
    await app.startAllMicroservices();
    const host = options.httpHost ?? '127.0.0.1';
    await app.listen(options.httpPort, host);
    const address = app.getHttpServer().address() as AddressInfo;
    const httpUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    logger.log(`SM-SR ${options.smsrId}: HTTP ${httpUrl} (docs ${httpUrl}/docs), ES3 on ${options.mqttUrl}`);
    return {
      httpUrl,
      smsrId: options.smsrId,
      service,
      registry,
      dataSource,
      outbox: worker,
      deviceStatuses,
      servedRequests: () => requestServer.handlerExecutions,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
