/**
 * The whole system in one process: a broker (the embedded aedes, or any MQTT URL such as Mosquitto),
 * the SM-SR, the SM-DP and virtual eUICCs registered with the SM-SR by their EUM (ES1). `npm start`,
 * the end-to-end tests and `npm run bench -- provisioning` all start it through {@link startStack}, so
 * the three exercise the same wiring. Each service stays separately deployable (`npm run start:sm-dp`…).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startEmbeddedBroker, type EmbeddedBroker } from '@rsp/mqtt-transport';
import { SecretBox } from '@rsp/persistence';
import type { TestPki } from '@rsp/pki';
import pg from 'pg';
import { startSmDp, type SmDpHandle } from '../apps/sm-dp/src/app';
import { startSmSr, type SmSrHandle } from '../apps/sm-sr/src/app';
import type { DeviceModel } from '../simulator/src/device';
import { buildSignedEis } from '../simulator/src/eum';
import { FileCardStore } from '../simulator/src/file-card-store';
import { Fleet } from '../simulator/src/fleet';

export const DEMO_IDS = { smsrId: 'smsr.demo', smdpId: 'smdp.demo', mnoId: 'mno.demo', eumId: 'eum.demo' } as const;

export interface StackMno {
  mnoId: string;
  apiKey: string;
  webhookUrl?: string;
}

/** Where each service keeps its tables: SQLite files in a directory, or one PostgreSQL database with a schema per service. */
export type StackDatabase = { kind: 'sqlite'; dir: string } | { kind: 'sqlite-memory' } | { kind: 'postgres'; url: string; schemaPrefix?: string };

export interface StackOptions {
  pki: TestPki;
  /** An external broker (e.g. Mosquitto); default: the embedded aedes broker on `mqttPort`. */
  mqttUrl?: string;
  mqttPort?: number;
  mqttHost?: string;
  mqttProtocolVersion?: 4 | 5;
  database: StackDatabase;
  smdpHttpPort?: number;
  smsrHttpPort?: number;
  httpHost?: string;
  mnos: StackMno[];
  /** SecretBox key configuration shared by both services (see SecretBox.fromConfig); default a fresh key. */
  secretBoxKeys?: string;
  /** Device fleets to start and register with the SM-SR. */
  devices?: Array<{ model: DeviceModel; count: number; firstSerial: number }>;
  /** Keep card states as files here (restarts keep profiles); default in memory. */
  cardStateDir?: string;
  logger?: { log(message: string): void; warn(message: string): void; error(message: string): void };
}

export interface Stack {
  mqttUrl: string;
  broker?: EmbeddedBroker;
  smsr: SmSrHandle;
  smdp: SmDpHandle;
  fleets: Fleet[];
  eids: string[];
  fleetOf(eid: string): Fleet;
  close(): Promise<void>;
}

/** The SecretBox key configuration for a fresh key (for tests and a first `npm start`). */
export function freshSecretBoxKeys(): string {
  return `k1:${SecretBox.generateKey().toString('base64')}`;
}

function databaseFor(database: StackDatabase, service: 'sm_sr' | 'sm_dp'): { databaseUrl: string; databaseSchema?: string } {
  switch (database.kind) {
    case 'sqlite':
      return { databaseUrl: `sqlite://${join(database.dir, `${service.replace('_', '-')}.db`)}` };
    case 'sqlite-memory':
      return { databaseUrl: 'sqlite::memory:' };
    case 'postgres':
      return { databaseUrl: database.url, databaseSchema: `${database.schemaPrefix ?? ''}${service}` };
  }
}

/** One PostgreSQL database, a schema per service: created here; the tables come from each service's migrations. */
async function createSchemas(url: string, targets: Array<{ databaseSchema?: string }>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const { databaseSchema } of targets) {
      if (databaseSchema && /^[a-z_][a-z0-9_]*$/.test(databaseSchema)) await client.query(`CREATE SCHEMA IF NOT EXISTS ${databaseSchema}`);
    }
  } finally {
    await client.end();
  }
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const closers: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    let broker: EmbeddedBroker | undefined;
    let mqttUrl = options.mqttUrl;
    if (mqttUrl === undefined) {
      broker = await startEmbeddedBroker({ port: options.mqttPort ?? 0, host: options.mqttHost ?? '127.0.0.1', portSetting: 'RSP_MQTT_PORT' });
      closers.push(() => broker?.close() ?? Promise.resolve());
      mqttUrl = broker.url;
    }
    if (options.database.kind === 'postgres') await createSchemas(options.database.url, [databaseFor(options.database, 'sm_sr'), databaseFor(options.database, 'sm_dp')]);
    const secretBoxKeys = options.secretBoxKeys ?? freshSecretBoxKeys();
    const protocol = options.mqttProtocolVersion === undefined ? {} : { mqttProtocolVersion: options.mqttProtocolVersion };
    const host = options.httpHost === undefined ? {} : { httpHost: options.httpHost };
    const logger = options.logger === undefined ? {} : { logger: options.logger };

    const smsr = await startSmSr({
      smsrId: DEMO_IDS.smsrId,
      httpPort: options.smsrHttpPort ?? 0,
      ...host,
      mqttUrl,
      ...protocol,
      ...databaseFor(options.database, 'sm_sr'),
      ciCertificate: options.pki.ci.der,
      // CERT.SR.ECDSA: at first contact the SM-SR replaces the EUM's TEST ISD-R keys by Scenario#3.
      smsrCertificate: options.pki.smSr.cert,
      smsrPrivateKey: options.pki.smSr.privateKey,
      eums: [{ eumId: DEMO_IDS.eumId, certificate: options.pki.eum.der }],
      mnos: options.mnos,
      secretBoxKeys,
      ...logger,
    });
    closers.push(() => smsr.close());

    const smdp = await startSmDp({
      smdpId: DEMO_IDS.smdpId,
      httpPort: options.smdpHttpPort ?? 0,
      ...host,
      mqttUrl,
      ...protocol,
      ...databaseFor(options.database, 'sm_dp'),
      ciCertificate: options.pki.ci.der,
      eumCertificates: [options.pki.eum.der],
      smdpCertificate: options.pki.smDp.cert,
      smdpPrivateKey: options.pki.smDp.privateKey,
      mnos: options.mnos,
      secretBoxKeys,
      ...logger,
    });
    closers.push(() => smdp.close());

    const fleets: Fleet[] = [];
    const eids: string[] = [];
    for (const group of options.devices ?? []) {
      const fleet = await Fleet.create({
        size: group.count,
        model: group.model,
        pki: options.pki,
        firstSerial: group.firstSerial,
        ...(options.cardStateDir ? { backingStore: new FileCardStore(options.cardStateDir) } : {}),
      });
      closers.push(() => fleet.close());
      await fleet.startMqtt({ url: mqttUrl, mode: group.count > 1 ? 'gateway' : 'single', ...(options.mqttProtocolVersion ? { protocolVersion: options.mqttProtocolVersion } : {}), announce: false });
      fleets.push(fleet);
      for (const eid of fleet.eids()) {
        await registerWithSmSr(smsr, fleet, eid, options.pki);
        eids.push(eid);
      }
    }
    return {
      mqttUrl,
      ...(broker ? { broker } : {}),
      smsr,
      smdp,
      fleets,
      eids,
      fleetOf(eid) {
        const fleet = fleets.find((candidate) => candidate.has(eid));
        if (!fleet) throw new Error(`no fleet holds ${eid}`);
        return fleet;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The EUM's ES1.RegisterEIS of one card (SGP.02 §5.5.1) over the SM-SR's HTTP binding; a card the SM-SR
 * already knows (a restart with persisted states) is left as registered.
 */
export async function registerWithSmSr(smsr: SmSrHandle, fleet: Fleet, eid: string, pki: TestPki): Promise<'registered' | 'known'> {
  const state = fleet.pool.snapshot(eid);
  const eis = buildSignedEis(state, { eumId: DEMO_IDS.eumId, smsrId: DEMO_IDS.smsrId, eumPrivateKey: pki.eum.privateKey });
  const response = await fetch(`${smsr.httpUrl}/gsma/es1/registerEIS`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      header: { functionRequesterIdentifier: DEMO_IDS.eumId, functionCallIdentifier: `register-${eid}-${randomBytes(4).toString('hex')}` },
      eis,
    }),
  });
  const body = (await response.json()) as { header?: { functionExecutionStatus?: { status?: string; statusCodeData?: { subjectCode?: string; reasonCode?: string; message?: string } } } };
  const status = body.header?.functionExecutionStatus;
  if (status?.status?.startsWith('Executed')) return 'registered';
  if (status?.statusCodeData?.reasonCode === '3.3') return 'known';
  throw new Error(`RegisterEIS of ${eid} failed: ${JSON.stringify(status)}`);
}
