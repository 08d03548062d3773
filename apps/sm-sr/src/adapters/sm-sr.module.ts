/**
 * The Nest module of one SM-SR instance (docs/architecture.md "One shape"): every part is a factory
 * provider — the database, the broker connection, the EIS registry, ES5 to the cards, the owner checks,
 * the domain service, the outbox relay and the card-notification listener — and each resource is released
 * by a lifecycle hook (@rsp/service-kit), so `app.close()` is the whole shutdown. Controllers: ES1 and
 * ES4 over HTTP, the fleet view, and ES3 over MQTT service requests (the app's connected microservice).
 */
import { randomUUID } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { MqttClient } from 'mqtt';
import { topicLevel } from '@rsp/contracts';
import { connectMqtt, RspRequester } from '@rsp/mqtt-transport';
import { driverOf, IdempotencyStore, MemoryIdempotencyStore, openDataSource, Outbox, OutboxRelay, SecretBox } from '@rsp/persistence';
import { notificationsController, openOwnerStatusFeed, resource, STARTUP_SCOPE, TransactionLog, transactionsController, worker, type MnoOfApiKey, type OwnerStatusFeed, type StartupScope } from '@rsp/service-kit';
import type { SmSrOptions } from '../app';
import { CardLease } from '../domain/card-lease';
import { FleetView } from '../domain/fleet';
import type { EisRegistry, SmSrLogger } from '../domain/model';
import { OwnerPolicyGuard } from '../domain/owner-policy';
import { SmSrService } from '../domain/sm-sr-service';
import { Es5Error, MqttEs5Channel, type Es5Channel } from '../es5/index';
import { ApiKeyDirectory, SMSR_HTTP_AUTH, SMSR_MNO_OF_API_KEY, SMSR_SERVICE, SMSR_TRANSACTION_LOG, type SmSrHttpAuth } from './http/auth';
import { cardTurnsOf, tracedEs5Channel } from './traced-es5-channel';
import { es4NotifyDestination } from '../domain/notifications';
import { Es1HttpController, Es4HttpController } from './http/controllers';
import { FleetController, SMSR_FLEET } from './http/fleet.controller';
import { CardNotificationListener } from './mqtt/card-notification-listener';
import { es3MqttController } from './mqtt/es3-controller';
import { smSrOutboxDelivery } from './outbox-delivery';
import { SqlCardLeaseStore } from './persistence/card-lease-store';
import { CachedEisRegistry } from './persistence/cached-registry';
import { smSrEntities, smSrMigrations, TypeOrmEisRegistry } from './persistence/typeorm-registry';

export const SMSR_OPTIONS = Symbol('SmSrOptions');
export const SMSR_LOGGER = Symbol('SmSrLogger');
export const SMSR_DATA_SOURCE = Symbol('SmSrDataSource');
export const SMSR_MQTT = Symbol('SmSrMqtt');
export const SMSR_OUTBOX = Symbol('SmSrOutbox');
export const SMSR_STORAGE = Symbol('SmSrStorage');
export const SMSR_ES5 = Symbol('SmSrEs5');
export const SMSR_OWNER_CHECKS = Symbol('SmSrOwnerChecks');
export const SMSR_REQUESTER = Symbol('SmSrRequester');
export const SMSR_OUTBOX_RELAY = Symbol('SmSrOutboxRelay');
export const SMSR_CARD_LISTENER = Symbol('SmSrCardNotificationListener');

/** The EIS registry and whether this instance is alone on its database (docs/services.md "instances"). */
export interface SmSrStorage {
  registry: EisRegistry;
  single: boolean;
}

/** Present with `ownerRegistry`: the owner policy on top of the registry's status feed. */
export interface SmSrOwnerChecks extends OwnerStatusFeed {
  policy: OwnerPolicyGuard;
}

const instanceGroupOf = (options: SmSrOptions): string => options.instanceGroup ?? `smsr-${topicLevel(options.smsrId, 'smsrId')}`.slice(0, 64);

@Module({})
export class SmSrModule {
  static forRoot(options: SmSrOptions, scope: StartupScope, logger: SmSrLogger): DynamicModule {
    const protocolVersion = options.mqttProtocolVersion ?? 4;
    return {
      module: SmSrModule,
      controllers: [
        Es1HttpController,
        Es4HttpController,
        FleetController,
        transactionsController({ logToken: SMSR_TRANSACTION_LOG, mnoOfApiKeyToken: SMSR_MNO_OF_API_KEY, iface: 'ES4', codePrefix: 'ERR_SMSR' }),
        notificationsController({ outboxToken: SMSR_OUTBOX, mnoOfApiKeyToken: SMSR_MNO_OF_API_KEY, iface: 'es4', codePrefix: 'ERR_SMSR', destinationOf: es4NotifyDestination }),
        es3MqttController(options.smsrId),
      ],
      providers: [
        { provide: STARTUP_SCOPE, useValue: scope },
        { provide: SMSR_OPTIONS, useValue: options },
        { provide: SMSR_LOGGER, useValue: logger },
        ...resource<DataSource>({
          provide: SMSR_DATA_SOURCE,
          open: () =>
            openDataSource({
              url: options.databaseUrl,
              entities: smSrEntities,
              migrations: smSrMigrations,
              ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
              ...(options.databasePreparedStatements === false ? { preparedStatements: false } : {}),
            }),
          close: (dataSource) => dataSource.destroy(),
        }),
        // ONE broker connection for every part (client id = the certificate's principal, connection.ts).
        ...resource<MqttClient>({
          provide: SMSR_MQTT,
          open: () => connectMqtt({ url: options.mqttUrl, ...(options.mqttCredentials ? { credentials: options.mqttCredentials } : {}), protocolVersion }),
          close: (mqtt) => mqtt.endAsync(),
        }),
        {
          provide: SMSR_OUTBOX,
          inject: [SMSR_DATA_SOURCE],
          useFactory: (dataSource: DataSource) => new Outbox(dataSource, options.outboxBackoff ? { backoff: options.outboxBackoff } : {}),
        },
        {
          provide: SMSR_STORAGE,
          inject: [SMSR_DATA_SOURCE, SMSR_OUTBOX],
          useFactory: async (dataSource: DataSource, outbox: Outbox): Promise<SmSrStorage> => {
            const single = (options.instances ?? (driverOf(dataSource) === 'postgres' ? 'shared' : 'single')) === 'single';
            const stored = new TypeOrmEisRegistry(dataSource, SecretBox.fromConfig(options.secretBoxKeys), outbox);
            return { single, registry: single ? await new CachedEisRegistry(stored).load() : stored };
          },
        },
        ...resource<Es5Channel & { close?: () => Promise<void> | void }>({
          provide: SMSR_ES5,
          inject: [SMSR_MQTT, SMSR_STORAGE],
          open: (mqtt: MqttClient, storage: SmSrStorage) =>
            options.es5Channel ??
            MqttEs5Channel.connect({
              client: mqtt,
              smsrId: options.smsrId,
              protocolVersion,
              instanceId: `es5-${randomUUID()}`,
              keys: async (eid) => {
                const keys = await storage.registry.isdRKeys(eid);
                if (!keys) throw new Es5Error.CardUnreachable(`no ISD-R keys for ${eid}`);
                return keys;
              },
            }),
          // A channel given in the options belongs to its caller.
          close: (channel) => (channel === options.es5Channel ? undefined : channel.close?.()),
        }),
        ...resource<SmSrOwnerChecks | undefined>({
          provide: SMSR_OWNER_CHECKS,
          inject: [SMSR_MQTT, SMSR_LOGGER],
          open: async (mqtt: MqttClient, logger: SmSrLogger) => {
            if (!options.ownerRegistry) return undefined;
            const feed = await openOwnerStatusFeed(mqtt, options.ownerRegistry, logger);
            return { ...feed, policy: new OwnerPolicyGuard(feed.consents, feed.statuses, logger) };
          },
          close: (checks) => checks?.subscriber.close(),
        }),
        {
          provide: SMSR_SERVICE,
          inject: [SMSR_DATA_SOURCE, SMSR_STORAGE, SMSR_ES5, SMSR_OWNER_CHECKS, SMSR_LOGGER, SMSR_TRANSACTION_LOG],
          useFactory: (dataSource: DataSource, storage: SmSrStorage, es5: Es5Channel, owner: SmSrOwnerChecks | undefined, logger: SmSrLogger, transactions: TransactionLog) => {
            const cardLease =
              storage.single || options.cardLeaseMs === 0
                ? undefined
                : new CardLease({ store: new SqlCardLeaseStore(dataSource), instanceId: `smsr-${randomUUID()}`, logger, ...(options.cardLeaseMs !== undefined ? { ttlMs: options.cardLeaseMs } : {}) });
            return new SmSrService({
              smsrId: options.smsrId,
              registry: storage.registry,
              idempotency: new IdempotencyStore(dataSource),
              ...(storage.single ? { internalIdempotency: new MemoryIdempotencyStore() } : {}),
              es5: tracedEs5Channel(es5, transactions),
              cardTurns: cardTurnsOf(transactions),
              ciCertificate: options.ciCertificate,
              eums: new Map(options.eums.map((eum) => [eum.eumId, eum.certificate])),
              mnos: new Map(options.mnos.map((mno) => [mno.mnoId, { mnoId: mno.mnoId, ...(mno.webhookUrl ? { webhookUrl: mno.webhookUrl } : {}) }])),
              logger,
              ...(options.initialIsdRKeys ? { initialIsdRKeys: options.initialIsdRKeys } : {}),
              ...(options.smsrCertificate && options.smsrPrivateKey
                ? { isdRHandover: { smsrCertificate: options.smsrCertificate, smsrPrivateKey: options.smsrPrivateKey } }
                : {}),
              ...(owner ? { ownerPolicy: owner.policy } : {}),
              ...(cardLease ? { cardLease } : {}),
              ...(options.replayWaitMs !== undefined ? { replayWaitMs: options.replayWaitMs } : {}),
            });
          },
        },
        // Callbacks to SM-DPs go out under this SM-SR's own name, which the broker proves to them.
        ...resource<RspRequester>({
          provide: SMSR_REQUESTER,
          inject: [SMSR_MQTT],
          open: (mqtt: MqttClient) => new RspRequester({ client: mqtt, caller: options.smsrId, protocolVersion, ...(options.topicPrefix ? { topicPrefix: options.topicPrefix } : {}) }),
          close: (requester) => requester.close(),
        }),
        ...worker<OutboxRelay>({
          provide: SMSR_OUTBOX_RELAY,
          inject: [SMSR_OUTBOX, SMSR_REQUESTER, SMSR_MQTT, SMSR_LOGGER],
          create: (outbox: Outbox, requester: RspRequester, mqtt: MqttClient, logger: SmSrLogger) =>
            new OutboxRelay({ outbox, deliver: smSrOutboxDelivery({ requester, mqtt }), logger, ...(options.outboxPollMs !== undefined ? { pollMs: options.outboxPollMs } : {}) }),
          start: (relay) => relay.start(),
          stop: (relay) => relay.stop(),
        }),
        ...worker<CardNotificationListener>({
          provide: SMSR_CARD_LISTENER,
          inject: [SMSR_MQTT, SMSR_SERVICE, SMSR_LOGGER],
          create: (mqtt: MqttClient, service: SmSrService, logger: SmSrLogger) =>
            new CardNotificationListener(mqtt, service.cardNotifications, logger, { protocolVersion, group: instanceGroupOf(options) }),
          start: (listener) => listener.start(),
          stop: (listener) => listener.stop(),
        }),
        {
          provide: SMSR_HTTP_AUTH,
          useValue: {
            mnos: new ApiKeyDirectory(options.mnos.map((mno) => ({ id: mno.mnoId, apiKey: mno.apiKey }))),
            eums: new ApiKeyDirectory(options.eums.map((eum) => ({ id: eum.eumId, apiKey: eum.apiKey }))),
          },
        },
        { provide: SMSR_FLEET, inject: [SMSR_STORAGE], useFactory: (storage: SmSrStorage) => new FleetView(storage.registry) },
        { provide: SMSR_TRANSACTION_LOG, useFactory: () => new TransactionLog({ service: 'SM-SR', iface: 'ES4' }) },
        {
          provide: SMSR_MNO_OF_API_KEY,
          inject: [SMSR_HTTP_AUTH],
          useFactory: (auth: SmSrHttpAuth): MnoOfApiKey => (apiKey) => (apiKey ? auth.mnos.identify(apiKey) : undefined),
        },
      ],
    };
  }
}

export { instanceGroupOf };
