/**
 * The whole system in one process: a broker (the embedded aedes, or any MQTT URL such as Mosquitto),
 * the SM-SR, the SM-DP and virtual eUICCs registered with the SM-SR by their EUM (ES1). `npm start`,
 * the end-to-end tests and `npm run bench -- provisioning` all start it through {@link startStack}, so
 * the three exercise the same wiring. Each service stays separately deployable (`npm run start:sm-dp`…).
 */
import type { JSONWebKeySet } from 'jose';
import { join } from 'node:path';
import { consentJwks, freshConsentKeys, type ConsentKeys } from '@rsp/config';
import type { BrokerPrincipal, RspLogger, SequenceHop } from '@rsp/contracts';
import {
  MqttCredentialStore,
  brokerTlsFromPki,
  issueMqttCredentials,
  startEmbeddedBroker,
  startEmbeddedBrokerThread,
  type BrokerRefusal,
  type BrokerThread,
  type EmbeddedBroker,
  type MqttCredentials,
} from '@rsp/mqtt-transport';
import { createSchema, SecretBox } from '@rsp/persistence';
import { isPinoLogger, type PinoLogger } from '@rsp/service-kit';
import type { TestPki } from '@rsp/pki';
import { startSmDp, type SmDpHandle } from '../apps/sm-dp/src/app';
import { startSmSr, type SmSrHandle } from '../apps/sm-sr/src/app';
import { startOwnerRegistry, type OwnerRegistryHandle } from '../apps/owner-registry/src/app';
import { OWNER_CLI_CLIENT_ID, OWNER_PORTAL_CLIENT_ID, startDevIdp, type DevIdp } from '../apps/owner-registry/src/dev-idp/dev-idp';
import { startConsole, type ConsoleHandle } from '../apps/console/src/console-server';
import { renderSequenceSvg } from '@rsp/scenario';
import type { DeviceModel } from '../simulator/src/device';
import type { Fleet } from '../simulator/src/fleet';
import type { FleetThread } from '../simulator/src/fleet-thread';
import { fleetGatewayId, startStackDevices, type DeviceGroup } from './stack-devices';

export const DEMO_IDS = { smsrId: 'smsr.demo', smdpId: 'smdp.demo', mnoId: 'mno.demo', eumId: 'eum.demo', secondMnoId: 'mno.beta' } as const;

/** Broker principals every stack lists besides its services (docs/security.md). */
export const STACK_PRINCIPALS = {
  /** The owner registry's broker identity. */
  registry: 'owner-registry',
  /** The gateway `npm run sim` connects as by default, so a fleet can join `npm start`. */
  simGateway: 'sim-gateway',
  /** A read-only auditor identity (`mosquitto_sub` lines, the wire tests). */
  monitor: 'rsp-monitor',
} as const;

export interface StackMno {
  mnoId: string;
  apiKey: string;
  webhookUrl?: string;
}

/** Where each service keeps its tables: SQLite files in a directory, or one PostgreSQL database with a schema per service. */
export type StackDatabase =
  | { kind: 'sqlite'; dir: string }
  | { kind: 'sqlite-memory' }
  /** `preparedStatements: false`: every statement unnamed (RSP_DATABASE_PREPARED_STATEMENTS=0). */
  | { kind: 'postgres'; url: string; schemaPrefix?: string; preparedStatements?: false };

export interface StackOptions {
  pki: TestPki;
  /**
   * The SM-SR / SM-DP ids (default {@link DEMO_IDS}). The SM-SR id is a topic level of ES3, so test runs
   * sharing one broker (Mosquitto) pass their own to stay out of each other's requests.
   */
  ids?: { smsrId?: string; smdpId?: string };
  /**
   * An external broker (`mqtts://…`, Mosquitto with the configuration of deploy/mosquitto for the same PKI
   * and {@link stackPrincipals}); default: the embedded aedes broker on `mqttPort`, with the same rules.
   */
  mqttUrl?: string;
  /**
   * Keep the broker identities (TLS client certificates under the PKI's Test TLS CA) here, issued once;
   * default: issued per start, in memory.
   */
  mqttCredentialsDir?: string;
  /** More broker principals to list (tests: a second SM-DP, an MNO tool, a monitor). */
  extraPrincipals?: BrokerPrincipal[];
  mqttPort?: number;
  mqttHost?: string;
  /** The embedded broker on a worker thread of its own (the bench's and npm start's), as a real broker runs beside the services. */
  brokerThread?: boolean;
  /** With `brokerThread`: told if that thread stops without being closed (npm start says so and exits). */
  onBrokerCrash?: (error: Error) => void;
  mqttProtocolVersion?: 4 | 5;
  database: StackDatabase;
  smdpHttpPort?: number;
  smsrHttpPort?: number;
  httpHost?: string;
  mnos: StackMno[];
  /** SecretBox key configuration shared by both services (see SecretBox.fromConfig); default a fresh key. */
  secretBoxKeys?: string;
  /** Device groups to start and register with the SM-SR (scripts/stack-devices.ts: on the services' thread, or a card thread). */
  devices?: DeviceGroup[];
  /** Keep card states as files here (restarts keep profiles); default in memory. */
  cardStateDir?: string;
  /** Serve the device and raw APDU API (docs/device-api.md) over the devices, on the thread they run on. */
  deviceApi?: { port: number; host?: string; portSetting?: string };
  /**
   * The owner-identity binding (docs/owner-registry.md): a dev IdP (alice, bob), the owner registry, and
   * consent / quarantine enforcement in both services. The MNOs above become the registry's ES2 connectors.
   */
  owners?: {
    /** The registry's public URL: consent `iss` and device URL base (known before anything starts). */
    registryUrl?: string;
    registryHttpPort?: number;
    idpPort?: number;
    makers: Array<{ makerId: string; makerDomain: string; apiKey: string }>;
    /** The consent-signing key and older keys still accepted (@rsp/config loadConsentKeys); default a fresh key per start. @secret */
    consentKeys?: ConsentKeys;
  };
  /** A pino logger (each service logs to a child named after it), or a console-like port shared by all. */
  logger?: PinoLogger | RspLogger;
  /** The operator console (apps/console, docs/console.md), relaying to this stack's SM-DP and SM-SR. */
  console?: { port?: number };
  /** How long a repeat of a call still running waits for it on every interface (the SGP.02 frame); default the services' 120 s. */
  replayWaitMs?: number;
}

export interface Stack {
  mqttUrl: string;
  broker?: EmbeddedBroker | BrokerThread;
  /** The listed broker principals (what a Mosquitto ACL for this stack must hold). */
  principals: BrokerPrincipal[];
  /** The embedded broker only: stops it and starts a new one on the same port (clients reconnect). */
  restartBroker?(): Promise<void>;
  /** A broker identity of this stack's PKI (issued, or read from `mqttCredentialsDir`). */
  credentialsFor(principal: string): MqttCredentials;
  smsr: SmSrHandle;
  smdp: SmDpHandle;
  fleets: Fleet[];
  /** The card thread of the groups started with `thread: 'worker'` (one for all of them). */
  cardThreads: FleetThread[];
  eids: string[];
  /** Every device, group by group, with its model. */
  devices: Array<{ eid: string; model: DeviceModel }>;
  /** With `deviceApi`: where it listens. */
  deviceApiUrl?: string;
  /** Present with `owners`. */
  registry?: OwnerRegistryHandle;
  idp?: DevIdp;
  /** Present with `console`. */
  console?: ConsoleHandle;
  fleetOf(eid: string): Fleet;
  close(): Promise<void>;
}

/** The SecretBox key configuration for a fresh key (for tests and a first `npm start`). */
export function freshSecretBoxKeys(): string {
  return `k1:${SecretBox.generateKey().toString('base64')}`;
}

function databaseFor(
  database: StackDatabase,
  service: 'sm_sr' | 'sm_dp' | 'owner_registry',
): { databaseUrl: string; databaseSchema?: string; databasePreparedStatements?: false } {
  switch (database.kind) {
    case 'sqlite':
      return { databaseUrl: `sqlite://${join(database.dir, `${service.replaceAll('_', '-')}.db`)}` };
    case 'sqlite-memory':
      return { databaseUrl: 'sqlite::memory:' };
    case 'postgres':
      return {
        databaseUrl: database.url,
        databaseSchema: `${database.schemaPrefix ?? ''}${service}`,
        ...(database.preparedStatements === false ? { databasePreparedStatements: false as const } : {}),
      };
  }
}

/**
 * The registry's consent-signing keys and the JWKS the services verify consents with (only with `owners`):
 * the configured ones (`npm start` keeps them in the data directory, so consents outlive a restart), else
 * a fresh pair for this run (tests).
 */
function consentSigningKeyPair(configured: ConsentKeys | undefined): { keys: ConsentKeys; jwks: JSONWebKeySet } {
  const keys = configured ?? freshConsentKeys();
  return { keys, jwks: consentJwks(keys) };
}

/** The principals a stack with these options lists: its services, MNOs, gateways, plus {@link STACK_PRINCIPALS}. */
export function stackPrincipals(
  options: Pick<StackOptions, 'ids' | 'devices' | 'extraPrincipals'> & { mnos: ReadonlyArray<Pick<StackMno, 'mnoId'>> },
): BrokerPrincipal[] {
  const smsrId = options.ids?.smsrId ?? DEMO_IDS.smsrId;
  const smdpId = options.ids?.smdpId ?? DEMO_IDS.smdpId;
  const principal = (name: string, role: BrokerPrincipal['role']): BrokerPrincipal => ({ name, role, serviceId: name });
  return [
    principal(smsrId, 'sm-sr'),
    principal(smdpId, 'sm-dp'),
    principal(STACK_PRINCIPALS.registry, 'owner-registry'),
    ...options.mnos.map((mno) => principal(mno.mnoId, 'mno')),
    ...(options.devices ?? []).filter((group) => group.count > 1).map((group) => principal(fleetGatewayId(group), 'gateway')),
    principal(STACK_PRINCIPALS.simGateway, 'gateway'),
    principal(STACK_PRINCIPALS.monitor, 'monitor'),
    ...(options.extraPrincipals ?? []),
  ];
}

/** The principals of `npm start` (scripts/start.ts): what `npm run mosquitto:config` lists by default. */
export function demoStackPrincipals(): BrokerPrincipal[] {
  return stackPrincipals({ mnos: [{ mnoId: DEMO_IDS.mnoId }, { mnoId: DEMO_IDS.secondMnoId }] });
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const closers: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    // Every connection proves a broker identity under the PKI's Test TLS CA (docs/security.md).
    const principals = stackPrincipals(options);
    const store = options.mqttCredentialsDir ? new MqttCredentialStore(options.mqttCredentialsDir, options.pki) : undefined;
    const credentialsFor = (principal: string): MqttCredentials => store?.get(principal) ?? issueMqttCredentials(options.pki, principal);
    let broker: EmbeddedBroker | BrokerThread | undefined;
    const startBroker = options.brokerThread ? startEmbeddedBrokerThread : startEmbeddedBroker;
    let restartBroker: (() => Promise<void>) | undefined;
    let mqttUrl = options.mqttUrl;
    if (mqttUrl === undefined) {
      const brokerOptions = {
        port: options.mqttPort ?? 0,
        host: options.mqttHost ?? '127.0.0.1',
        portSetting: 'RSP_MQTT_PORT',
        tls: brokerTlsFromPki(options.pki),
        principals,
        ...(options.logger ? { onRefusal: (refusal: BrokerRefusal) => options.logger?.warn(`broker refused: ${refusal.code} ${refusal.reason}: ${refusal.message}`) } : {}),
        ...(options.onBrokerCrash ? { onCrash: options.onBrokerCrash } : {}),
      };
      broker = await startBroker(brokerOptions);
      const port = broker.port;
      restartBroker = async () => {
        // The embedded broker keeps nothing across a restart (sessions, retained messages): what a crash does.
        await broker?.close();
        broker = await startBroker({ ...brokerOptions, port });
      };
      closers.push(() => broker?.close() ?? Promise.resolve());
      mqttUrl = broker.url;
    }
    if (options.database.kind === 'postgres') {
      // One PostgreSQL database, a schema per service: created here; the tables come from each service's migrations.
      for (const service of ['sm_sr', 'sm_dp', 'owner_registry'] as const) {
        const { databaseUrl, databaseSchema } = databaseFor(options.database, service);
        if (databaseSchema) await createSchema(databaseUrl, databaseSchema, { ifNotExists: true });
      }
    }
    const secretBoxKeys = options.secretBoxKeys ?? freshSecretBoxKeys();
    const protocol = options.mqttProtocolVersion === undefined ? {} : { mqttProtocolVersion: options.mqttProtocolVersion };
    const host = options.httpHost === undefined ? {} : { httpHost: options.httpHost };
    const loggerOf = (service: string) => (options.logger === undefined ? {} : { logger: isPinoLogger(options.logger) ? options.logger.child({ service }) : options.logger });
    const replayWait = options.replayWaitMs === undefined ? {} : { replayWaitMs: options.replayWaitMs };
    const smsrId = options.ids?.smsrId ?? DEMO_IDS.smsrId;
    const smdpId = options.ids?.smdpId ?? DEMO_IDS.smdpId;

    // The registry signs consents with this key; the services verify them with its public half.
    const owners = options.owners;
    const registryUrl = owners ? (owners.registryUrl ?? `http://127.0.0.1:${owners.registryHttpPort || 8084}`) : undefined;
    const consent = owners ? consentSigningKeyPair(owners.consentKeys) : undefined;
    // The registry starts last: until then the services' status fetches fail (fail closed).
    let registryHttpUrl: string | undefined;
    const ownerRegistry = registryUrl && consent ? { ownerRegistry: { issuer: registryUrl, jwks: consent.jwks, statusUrl: () => registryHttpUrl } } : {};

    const smsr = await startSmSr({
      smsrId,
      httpPort: options.smsrHttpPort ?? 0,
      ...host,
      mqttUrl,
      mqttCredentials: credentialsFor(smsrId),
      ...protocol,
      ...databaseFor(options.database, 'sm_sr'),
      instances: 'single', // the stack runs one SM-SR, on SQLite or PostgreSQL
      ciCertificate: options.pki.ci.der,
      // CERT.SR.ECDSA: at first contact the SM-SR replaces the EUM's TEST ISD-R keys by Scenario#3.
      smsrCertificate: options.pki.smSr.cert,
      smsrPrivateKey: options.pki.smSr.privateKey,
      eums: [{ eumId: DEMO_IDS.eumId, certificate: options.pki.eum.der }],
      mnos: options.mnos,
      secretBoxKeys,
      ...ownerRegistry,
      ...loggerOf('sm-sr'),
      ...replayWait,
    });
    closers.push(() => smsr.close());

    // The cards before the SM-DP: at start it resumes download flows a crash interrupted (they need the cards online).
    const devices = await startStackDevices({
      groups: options.devices ?? [],
      pki: options.pki,
      eumId: DEMO_IDS.eumId,
      smsr,
      mqtt: {
        url: mqttUrl,
        smsrId,
        ...(options.mqttProtocolVersion ? { protocolVersion: options.mqttProtocolVersion } : {}),
        credentialsFor,
        ...(options.mqttCredentialsDir ? { credentialsDir: options.mqttCredentialsDir } : {}),
      },
      ...(options.cardStateDir ? { cardStateDir: options.cardStateDir } : {}),
      ...(options.deviceApi ? { deviceApi: options.deviceApi } : {}),
    });
    closers.push(() => devices.close());
    const { fleets, cardThreads } = devices;
    const eids = devices.devices.map((device) => device.eid);

    const smdp = await startSmDp({
      smdpId,
      httpPort: options.smdpHttpPort ?? 0,
      ...host,
      mqttUrl,
      mqttCredentials: credentialsFor(smdpId),
      ...protocol,
      ...databaseFor(options.database, 'sm_dp'),
      ciCertificate: options.pki.ci.der,
      eumCertificates: [options.pki.eum.der],
      smdpCertificate: options.pki.smDp.cert,
      smdpPrivateKey: options.pki.smDp.privateKey,
      mnos: options.mnos,
      secretBoxKeys,
      ...ownerRegistry,
      ...loggerOf('sm-dp'),
      ...replayWait,
    });
    closers.push(() => smdp.close());

    let registry: OwnerRegistryHandle | undefined;
    let idp: DevIdp | undefined;
    if (owners && registryUrl && consent) {
      // The portal's client is added once the registry's address (its redirect URI) is known.
      idp = await startDevIdp({ port: owners.idpPort ?? 0, clients: [], ...(options.httpHost ? { host: options.httpHost } : {}) });
      closers.push(() => idp?.close() ?? Promise.resolve());
      registry = await startOwnerRegistry({
        registryUrl,
        httpPort: owners.registryHttpPort ?? 0,
        ...host,
        ...databaseFor(options.database, 'owner_registry'),
        mqttUrl,
        mqttCredentials: credentialsFor(STACK_PRINCIPALS.registry),
        ...protocol,
        // The portal's sign-in and `npx rsp login`'s (CIBA): one issuer, one key, two client audiences.
        trustedIssuers: [{ issuer: idp.issuer, audience: [OWNER_PORTAL_CLIENT_ID, OWNER_CLI_CLIENT_ID] }],
        makers: owners.makers,
        mnos: options.mnos.map((mno) => ({ ...mno, es2Url: smdp.httpUrl, es2ApiKey: mno.apiKey, smsrId, acceptsTransfers: true })),
        consentSigningKey: consent.keys.signingKey,
        consentPreviousPublicKeys: consent.keys.previousPublicKeys,
        portal: { idpIssuer: idp.issuer, clientId: OWNER_PORTAL_CLIENT_ID },
        ...loggerOf('owner-registry'),
      });
      closers.push(() => registry?.close() ?? Promise.resolve());
      registryHttpUrl = registry.httpUrl;
      const portalUrl = `${registry.httpUrl}/portal`;
      await idp.addClient({ clientId: OWNER_PORTAL_CLIENT_ID, redirectUris: [portalUrl], postLogoutRedirectUris: [portalUrl] });
    }

    let operatorConsole: ConsoleHandle | undefined;
    if (options.console) {
      operatorConsole = await startConsole({
        port: options.console.port ?? 0,
        ...(options.httpHost ? { host: options.httpHost } : {}),
        smdpUrl: smdp.httpUrl,
        smsrUrl: smsr.httpUrl,
        // The SM-DP's transaction hops as a message sequence diagram (the scenario reports' renderer).
        renderSequence: (hops) => renderSequenceSvg(hops as SequenceHop[], { title: 'transaction' }),
      });
      closers.push(() => operatorConsole?.close() ?? Promise.resolve());
    }

    return {
      mqttUrl,
      get broker() {
        return broker;
      },
      ...(restartBroker ? { restartBroker } : {}),
      principals,
      credentialsFor,
      smsr,
      smdp,
      fleets,
      cardThreads,
      eids,
      devices: devices.devices,
      ...(devices.deviceApiUrl ? { deviceApiUrl: devices.deviceApiUrl } : {}),
      ...(registry ? { registry } : {}),
      ...(idp ? { idp } : {}),
      ...(operatorConsole ? { console: operatorConsole } : {}),
      fleetOf(eid) {
        const fleet = fleets.find((candidate) => candidate.has(eid));
        if (!fleet) throw new Error(`no fleet in this thread holds ${eid}${cardThreads.some((thread) => thread.eids.includes(eid)) ? ' (it runs on a card thread: reach it over the broker)' : ''}`);
        return fleet;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
