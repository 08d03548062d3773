/**
 * The Nest module of the SM-DP (docs/architecture.md "One shape"): the database, the broker connection,
 * the ES3 client, the inventory, the notifier, the download flows, the owner checks, ES2 and the outbox
 * relay are factory providers, each resource released by a lifecycle hook (@rsp/service-kit). One hybrid
 * application serves the HTTP controllers (ES2, the MNO inventory, transactions) and the ES3 callbacks
 * from the SM-SR (MQTT service requests, the connected microservice).
 */
import { Module, type DynamicModule } from '@nestjs/common';
import type { MqttClient } from 'mqtt';
import type { DataSource } from 'typeorm';
import { TOPIC_ROOT } from '@rsp/contracts';
import { connectMqtt } from '@rsp/mqtt-transport';
import { IdempotencyStore, Outbox, OutboxRelay, SecretBox, StateMachine, openDataSource } from '@rsp/persistence';
import { notificationsController, openOwnerStatusFeed, resource, STARTUP_SCOPE, transactionsController, worker, type MnoOfApiKey, type OwnerStatusFeed, type StartupScope } from '@rsp/service-kit';
import type { SmDpOptions } from '../app';
import { testPauseAtStep } from '../config';
import { DownloadService, type Logger } from '../domain/download-service';
import { Es2Service } from '../domain/es2-service';
import type { Es3Client } from '../domain/es3-client';
import { Es3Gateway } from '../domain/es3-gateway';
import { Inventory } from '../domain/inventory';
import { InventoryApi } from '../domain/inventory-api';
import { es2NotifyDestination, Notifier } from '../domain/notifier';
import { OwnerConsentCheck } from '../domain/owner-consent';
import { Es2Controller } from './es2.controller';
import { es3CallbacksController } from './es3-callbacks.controller';
import { InventoryController } from './inventory.controller';
import { MqttEs3Client } from './mqtt-es3-client';
import { outboxNotificationQueue } from './notification-queue';
import { outboxCompensationRetry, smDpOutboxDelivery } from './outbox-delivery';
import { smdpEntities, smdpMigrations } from './persistence';
import { ES2_SERVICE, INVENTORY_API, MNO_OF_API_KEY, NOTIFIER, TRANSACTION_LOG } from './tokens';
import { TransactionLog, tracedEs3Client } from './traced-es3-client';
import { typeOrmInventoryStore } from './typeorm-inventory-store';

export const SMDP_DATA_SOURCE = Symbol('SmDpDataSource');
export const SMDP_MQTT = Symbol('SmDpMqtt');
export const SMDP_ES3_CLIENT = Symbol('SmDpEs3Client');
export const SMDP_INVENTORY = Symbol('SmDpInventory');
export const SMDP_OUTBOX = Symbol('SmDpOutbox');
export const SMDP_DOWNLOADS = Symbol('SmDpDownloads');
export const SMDP_OWNER_CHECKS = Symbol('SmDpOwnerChecks');
export const SMDP_OUTBOX_RELAY = Symbol('SmDpOutboxRelay');
const SMDP_SECRETS = Symbol('SmDpSecretBox');

/** Present with `ownerRegistry`: the consent check on top of the registry's status feed. */
export interface SmDpOwnerChecks extends OwnerStatusFeed {
  consent: OwnerConsentCheck;
}

@Module({})
export class SmDpModule {
  static forRoot(options: SmDpOptions, scope: StartupScope, logger: Logger): DynamicModule {
    const es3TimeoutMs = options.es3TimeoutMs ?? 30_000;
    const pauseAtStep = testPauseAtStep(process.env);
    return {
      module: SmDpModule,
      controllers: [
        Es2Controller,
        InventoryController,
        transactionsController({ logToken: TRANSACTION_LOG, mnoOfApiKeyToken: MNO_OF_API_KEY, iface: 'ES2', codePrefix: 'ERR_SMDP' }),
        notificationsController({
          outboxToken: SMDP_OUTBOX,
          mnoOfApiKeyToken: MNO_OF_API_KEY,
          iface: 'es2',
          codePrefix: 'ERR_SMDP',
          destinationOf: (mnoId) => es2NotifyDestination(options.topicPrefix ?? TOPIC_ROOT, mnoId),
        }),
        es3CallbacksController(options.smdpId),
      ],
      providers: [
        { provide: STARTUP_SCOPE, useValue: scope },
        { provide: SMDP_SECRETS, useFactory: () => SecretBox.fromConfig(options.secretBoxKeys) },
        ...resource<DataSource>({
          provide: SMDP_DATA_SOURCE,
          open: () =>
            openDataSource({
              url: options.databaseUrl,
              ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
              ...(options.databasePreparedStatements === false ? { preparedStatements: false } : {}),
              entities: smdpEntities,
              migrations: smdpMigrations,
            }),
          close: (dataSource) => dataSource.destroy(),
        }),
        {
          provide: SMDP_INVENTORY,
          inject: [SMDP_DATA_SOURCE, SMDP_SECRETS],
          useFactory: async (dataSource: DataSource, secrets: SecretBox) => {
            const inventory = new Inventory(typeOrmInventoryStore(dataSource), secrets);
            for (const mno of options.mnos) await inventory.upsertMno(mno);
            return inventory;
          },
        },
        // ONE broker connection for every part (client id = the certificate's principal, connection.ts).
        ...resource<MqttClient>({
          provide: SMDP_MQTT,
          open: () => connectMqtt({ url: options.mqttUrl, ...(options.mqttCredentials ? { credentials: options.mqttCredentials } : {}), protocolVersion: options.mqttProtocolVersion ?? 4 }),
          close: (mqtt) => mqtt.endAsync(),
        }),
        // ES3 requests go out under this SM-DP's own name, which the broker proves to the SM-SR.
        ...resource<Es3Client>({
          provide: SMDP_ES3_CLIENT,
          inject: [SMDP_MQTT],
          open: async (mqtt: MqttClient) => {
            if (options.es3) return options.es3;
            const client = new MqttEs3Client({
              client: mqtt,
              caller: options.smdpId,
              ...(options.topicPrefix ? { topicPrefix: options.topicPrefix } : {}),
              protocolVersion: options.mqttProtocolVersion ?? 4,
              timeoutMs: es3TimeoutMs,
            });
            await client.connect();
            return client;
          },
          // A client given in the options belongs to its caller.
          close: (client) => (client instanceof MqttEs3Client ? client.close() : undefined),
        }),
        { provide: TRANSACTION_LOG, useFactory: () => new TransactionLog({ service: 'SM-DP', iface: 'ES2' }) },
        {
          provide: MNO_OF_API_KEY,
          inject: [ES2_SERVICE],
          useFactory: (es2: Es2Service): MnoOfApiKey => async (apiKey) => {
            const requester = await es2.identify(apiKey);
            return requester.kind === 'proven' ? requester.id : undefined;
          },
        },
        { provide: SMDP_OUTBOX, inject: [SMDP_DATA_SOURCE], useFactory: (dataSource: DataSource) => new Outbox(dataSource, options.outboxBackoff ? { backoff: options.outboxBackoff } : {}) },
        {
          provide: NOTIFIER,
          inject: [SMDP_OUTBOX, SMDP_DATA_SOURCE, SMDP_INVENTORY],
          useFactory: (outbox: Outbox, dataSource: DataSource, inventory: Inventory) =>
            new Notifier(outboxNotificationQueue(outbox, dataSource), inventory, options.smdpId, options.topicPrefix ?? TOPIC_ROOT),
        },
        {
          provide: Es3Gateway,
          inject: [SMDP_ES3_CLIENT, TRANSACTION_LOG],
          useFactory: (client: Es3Client, transactions: TransactionLog) => new Es3Gateway(tracedEs3Client(client, transactions), options.smdpId, es3TimeoutMs),
        },
        {
          provide: SMDP_DOWNLOADS,
          inject: [SMDP_DATA_SOURCE, SMDP_INVENTORY, Es3Gateway, SMDP_SECRETS, SMDP_OUTBOX],
          useFactory: (dataSource: DataSource, inventory: Inventory, es3: Es3Gateway, secrets: SecretBox, outbox: Outbox) =>
            new DownloadService(
              (flows, flowOptions) => new StateMachine(dataSource, flows, flowOptions),
              {
                inventory,
                es3,
                secrets,
                ciCertificate: options.ciCertificate,
                eumCertificates: options.eumCertificates,
                smdpCertificate: options.smdpCertificate,
                smdpPrivateKey: options.smdpPrivateKey,
                now: () => new Date(),
              },
              logger,
              {
                compensationRetry: outboxCompensationRetry(outbox, dataSource),
                // Test hook of test/e2e/crash-recovery.spec.ts: inert unless set, refused in production.
                ...(pauseAtStep ? { pauseAtStep } : {}),
              },
            ),
        },
        ...resource<SmDpOwnerChecks | undefined>({
          provide: SMDP_OWNER_CHECKS,
          inject: [SMDP_MQTT],
          open: async (mqtt: MqttClient) => {
            if (!options.ownerRegistry) return undefined;
            const feed = await openOwnerStatusFeed(mqtt, options.ownerRegistry, logger);
            return { ...feed, consent: new OwnerConsentCheck(feed.consents, feed.statuses, logger) };
          },
          close: (checks) => checks?.subscriber.close(),
        }),
        {
          provide: ES2_SERVICE,
          inject: [SMDP_INVENTORY, SMDP_DATA_SOURCE, SMDP_DOWNLOADS, Es3Gateway, SMDP_OWNER_CHECKS],
          useFactory: (inventory: Inventory, dataSource: DataSource, downloads: DownloadService, es3: Es3Gateway, owner: SmDpOwnerChecks | undefined) =>
            new Es2Service(inventory, new IdempotencyStore(dataSource), downloads, es3, logger, {
              ...(owner ? { ownerConsent: owner.consent } : {}),
              ...(options.replayWaitMs !== undefined ? { maxReplayWaitMs: options.replayWaitMs } : {}),
            }),
        },
        { provide: INVENTORY_API, inject: [SMDP_INVENTORY], useFactory: (inventory: Inventory) => new InventoryApi(inventory) },
        ...worker<OutboxRelay>({
          provide: SMDP_OUTBOX_RELAY,
          inject: [SMDP_OUTBOX, SMDP_MQTT, SMDP_DOWNLOADS],
          create: (outbox: Outbox, mqtt: MqttClient, downloads: DownloadService) =>
            new OutboxRelay({
              outbox,
              deliver: smDpOutboxDelivery({ mqtt, compensate: (transactionId) => downloads.retryCompensation(transactionId) }),
              logger,
              ...(options.outboxIntervalMs ? { pollMs: options.outboxIntervalMs } : {}),
            }),
          start: (relay) => relay.start(),
          stop: (relay) => relay.stop(),
        }),
      ],
    };
  }
}
