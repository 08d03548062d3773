/**
 * The Nest module of the owner registry (docs/architecture.md "One shape"): the database (migrated on
 * open, the configured makers' and MNOs' API keys upserted), the broker connection that alone publishes
 * owner statuses, the consent-signing key set, the domain, the authenticator and the outbox relay are
 * factory providers; each resource is released by a lifecycle hook (@rsp/service-kit).
 *
 * The relay starts from startOwnerRegistry, not at bootstrap: with no configured registry URL, the URL
 * (the `iss` of every signed status) is the HTTP address, known only once the app listens.
 */
import { createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import { exportJWK } from 'jose';
import type { MqttClient } from 'mqtt';
import type { DataSource } from 'typeorm';
import { hashApiKey, OidcVerifier } from '@rsp/identity';
import { connectMqtt } from '@rsp/mqtt-transport';
import { Outbox, OutboxRelay, openDataSource } from '@rsp/persistence';
import { resource, STARTUP_SCOPE, worker, type StartupScope } from '@rsp/service-kit';
import type { OwnerRegistryOptions } from '../app';
import type { ConsentSigningKey, Logger, RegistryDeps } from '../domain/context';
import { upsertApiClient } from '../domain/devices';
import { OwnerRegistry } from '../domain/registry';
import { portalController } from '../portal/portal.controller';
import { Authenticator } from './authenticator';
import { ClientsController } from './clients.controller';
import { DeviceStatusController } from './device-status.controller';
import { Es2HttpTransport } from './es2-http-transport';
import { ownerRegistryOutboxDelivery } from './outbox-delivery';
import { OwnerController } from './owner.controller';
import { OwnerViewsController } from './owner-views.controller';
import { ownerRegistryEntities, ownerRegistryMigrations } from './persistence';
import { typeOrmRegistryStore } from './registry-store';
import type { RegistryStore } from '../domain/store';
import { AUTHENTICATOR, JWKS, REGISTRY } from './tokens';

export const REGISTRY_DATA_SOURCE = Symbol('OwnerRegistryDataSource');
export const REGISTRY_STORE = Symbol('OwnerRegistryStore');
export const REGISTRY_OUTBOX = Symbol('OwnerRegistryOutbox');
export const REGISTRY_MQTT = Symbol('OwnerRegistryMqtt');
export const REGISTRY_CONFIG = Symbol('OwnerRegistryConfig');
export const REGISTRY_RELAY = Symbol('OwnerRegistryOutboxRelay');

/** What the domain reads at run time; `registryUrl` is settled once the app listens (see above). */
export type RegistryRuntimeConfig = RegistryDeps['config'];

/** The relay and the hook the domain kicks it with (it exists before the relay does). */
export interface RegistryRelay {
  relay: OutboxRelay;
  publishAllStatuses(): Promise<void>;
}

@Module({})
export class OwnerRegistryModule {
  static forRoot(options: OwnerRegistryOptions, scope: StartupScope, logger: Logger): DynamicModule {
    const now = options.now ?? (() => new Date());
    const kick: { relay?: OutboxRelay } = {};
    return {
      module: OwnerRegistryModule,
      controllers: [OwnerController, OwnerViewsController, ClientsController, DeviceStatusController, ...(options.portal ? [portalController(options.portal)] : [])],
      providers: [
        { provide: STARTUP_SCOPE, useValue: scope },
        ...resource<DataSource>({
          provide: REGISTRY_DATA_SOURCE,
          open: () =>
            openDataSource({
              url: options.databaseUrl,
              ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
              ...(options.databasePreparedStatements === false ? { preparedStatements: false } : {}),
              entities: ownerRegistryEntities,
              migrations: ownerRegistryMigrations,
            }),
          close: (dataSource) => dataSource.destroy(),
        }),
        { provide: REGISTRY_OUTBOX, inject: [REGISTRY_DATA_SOURCE], useFactory: (dataSource: DataSource) => new Outbox(dataSource, { ...(options.outboxBackoff ? { backoff: options.outboxBackoff } : {}), now }) },
        {
          provide: REGISTRY_STORE,
          inject: [REGISTRY_DATA_SOURCE, REGISTRY_OUTBOX],
          useFactory: async (dataSource: DataSource, outbox: Outbox) => {
            const store = typeOrmRegistryStore(dataSource, outbox);
            await store.transaction(async (tx) => {
              for (const maker of options.makers) await upsertApiClient(tx, 'maker', maker.makerId, hashApiKey(maker.apiKey), now());
              for (const mno of options.mnos) await upsertApiClient(tx, 'mno', mno.mnoId, hashApiKey(mno.apiKey), now());
            });
            return store;
          },
        },
        // The registry's one broker identity: the only publisher of owner statuses (broker-acl.ts).
        ...resource<MqttClient>({
          provide: REGISTRY_MQTT,
          open: () => connectMqtt({ url: options.mqttUrl, ...(options.mqttCredentials ? { credentials: options.mqttCredentials } : {}), protocolVersion: options.mqttProtocolVersion ?? 4 }),
          close: (mqtt) => mqtt.endAsync(),
        }),
        {
          provide: REGISTRY_CONFIG,
          useFactory: (): RegistryRuntimeConfig => ({
            registryUrl: options.registryUrl ?? '',
            makers: new Map(options.makers.map((maker) => [maker.makerId, maker])),
            mnos: new Map(options.mnos.map((mno) => [mno.mnoId, mno])),
            consentKey: options.consentSigningKey ?? generatedKey(),
          }),
        },
        {
          provide: JWKS,
          inject: [REGISTRY_CONFIG],
          useFactory: async (config: RegistryRuntimeConfig) => ({ keys: [await publicJwk(config.consentKey), ...(options.consentPreviousPublicKeys ?? [])] }),
        },
        {
          provide: REGISTRY,
          inject: [REGISTRY_STORE, REGISTRY_CONFIG],
          useFactory: (store: RegistryStore, config: RegistryRuntimeConfig) =>
            new OwnerRegistry({ store, config, now, logger, kickOutbox: () => kick.relay?.kick() }, options.es2Transport ?? new Es2HttpTransport()),
        },
        {
          provide: AUTHENTICATOR,
          inject: [REGISTRY_STORE, REGISTRY],
          useFactory: (store: RegistryStore, registry: OwnerRegistry) => new Authenticator(new OidcVerifier(options.trustedIssuers, { now }), store.apiClients, registry.audit),
        },
        ...worker<RegistryRelay>({
          provide: REGISTRY_RELAY,
          inject: [REGISTRY_OUTBOX, REGISTRY_MQTT, REGISTRY, REGISTRY_STORE],
          create: (outbox: Outbox, mqtt: MqttClient, registry: OwnerRegistry, store: RegistryStore): RegistryRelay => {
            const delivery = ownerRegistryOutboxDelivery({ mqtt, statuses: registry.statuses, es2: registry.es2 });
            const relay = new OutboxRelay({ outbox, deliver: delivery.deliver, logger, pollMs: options.outboxIntervalMs ?? 500 });
            kick.relay = relay;
            return {
              relay,
              // Every status at start-up, signed and retained: a service (re)connecting gets them all (a broker may have forgotten them).
              publishAllStatuses: async () => {
                for (const eid of await store.devices.allEids()) await delivery.publishStatus(eid);
              },
            };
          },
          stop: ({ relay }) => relay.stop(),
        }),
      ],
    };
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
