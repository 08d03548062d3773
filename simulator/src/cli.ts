/**
 * `npm run sim -- --devices N --type oven|bbq|generic [--mqtt-url mqtts://…] [--mode gateway|single]
 *                 [--faults plan.json] [--api-port 8083] [--data-dir DIR] [--pki-dir DIR] [--mqtt-version 4|5]
 *                 [--smsr-id smsr.demo] [--gateway-id sim-gateway] [--eid-prefix DIGITS] [--first-serial N]
 *                 [--beside URL] [--register SMSR_URL] [--eum-id eum.demo]`
 *
 * Manufactures a fleet under one generated test PKI, serves it over MQTT (ES5, docs/topics.md) when
 * --mqtt-url is given, and opens the device API (docs/device-api.md). Progress goes to stderr.
 *
 * Beside a running stack (`npm start`), the fleet takes EIDs the stack does not serve (asked through the
 * stack's device API, --beside) and, with --register, registers its cards with the stack's SM-SR (ES1)
 * before they come online, so MNOs can provision them.
 *
 * With --data-dir the fleet keeps its identity across runs: the PKI is generated into DIR/pki/<curve>
 * once and read back after, the cards' manufacturing record and changed states live in DIR (see
 * fleet-recipes.ts). Without it everything is in memory and new each run.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FileCardStore } from '@rsp/card';
import type { CurveName } from '@rsp/crypto';
import { isRspError } from '@rsp/errors';
import { DEMO_EID_PREFIX, generateTestPki, readTestPki, writeTestPki, type TestPki } from '@rsp/pki';
import { MqttCredentialStore, issueMqttCredentials } from '@rsp/mqtt-transport';
import { DeviceApiPortInUseError, startDeviceApi, type DeviceApi } from './device-api';
import { DEVICE_MODELS, type DeviceModel } from './device';
import { registerCard } from './eum';
import { parseFaultPlan } from './faults';
import { placeFleet, serialOf, servedEids } from './fleet-placement';
import { Fleet } from './fleet';

const positiveInt = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};

/** A plain-ANSI progress bar on stderr (redrawn in place when stderr is a terminal). */
export function progressBar(label: string): (done: number, total: number) => void {
  const started = Date.now();
  return (done, total) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    const rate = done / Math.max((Date.now() - started) / 1000, 0.001);
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${Math.round(rate)}/s`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}${done === total ? '\n' : ''}`);
    else if (done === total || done % Math.max(1, Math.floor(total / 10)) === 0) process.stderr.write(`${line}\n`);
  };
}

/**
 * The data directory's PKI for `curve`: generated and written (fsynced) on the first run, read back on
 * every later one, so the EUM that certified the stored cards (and the CI) stay the same.
 */
export function dataDirPki(dataDir: string, curve: CurveName): { pki: TestPki; generated: boolean } {
  const dir = join(dataDir, 'pki', curve === 'P-256' ? 'nist' : 'brainpool');
  const manifest = join(dir, `MANIFEST_${curve === 'P-256' ? 'NIST' : 'BRP'}.json`);
  if (existsSync(manifest)) return { pki: readTestPki(dir, curve), generated: false };
  const pki = generateTestPki({ curve, euiccCount: 0 });
  // The manifest is written last, so a run killed half-way regenerates instead of reading half a PKI.
  for (const file of writeTestPki(pki, dir)) fsyncPath(join(dir, file.name));
  fsyncPath(dir);
  return { pki, generated: true };
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** What `npm run sim` was asked for (the parsed command line; tests build it directly). */
export interface SimOptions {
  devices: number;
  type: DeviceModel;
  mqttUrl?: string;
  mode: 'gateway' | 'single';
  mqttVersion: '4' | '5';
  faults?: string;
  apiPort: number;
  apiHost?: string;
  dataDir?: string;
  pkiDir?: string;
  /** A PKI given in code (tests); wins over pkiDir and dataDir. */
  pki?: TestPki;
  smsrId: string;
  gatewayId: string;
  maxHydrated: number;
  curve: 'P-256' | 'brainpoolP256r1';
  certificates?: 'eager' | 'lazy';
  eidPrefix?: string;
  firstSerial?: number;
  /** The device API of a running stack whose EIDs the fleet keeps clear of ('' = do not ask). */
  beside: string;
  /** The SM-SR HTTP URL to register the cards with (ES1), if any. */
  register?: string;
  eumId: string;
}

export interface SimHandle {
  readonly fleet: Fleet;
  readonly api: DeviceApi;
  close(): Promise<void>;
}

/** A start-up problem the user fixes with a flag: one line, with the flag's name. */
export class SimUsageError extends Error {}

function program(): Command {
  return new Command('sim')
    .description('Virtual eUICC fleet: devices, ES5 over MQTT, device API')
    .option('--devices <n>', 'number of devices', positiveInt('--devices'), 1)
    .addOption(new Option('--type <model>', 'device model').choices(DEVICE_MODELS as string[]).default('generic'))
    .option('--mqtt-url <url>', 'MQTT broker (omit to run without MQTT)')
    .addOption(new Option('--mode <mode>', 'MQTT connection mode').choices(['gateway', 'single']).default('gateway'))
    .addOption(new Option('--mqtt-version <v>', 'MQTT protocol version').choices(['4', '5']).default('4'))
    .option('--faults <file>', 'fault plan (JSON, see docs/device-api.md)')
    .option('--api-port <port>', 'device API port', positiveInt('--api-port'), 8083)
    .option('--data-dir <dir>', 'keep the PKI, the cards\' identities and their changed states here across runs')
    .option('--pki-dir <dir>', 'use this test PKI (e.g. npm start\'s data/pki/nist) instead of the data directory\'s or a fresh one')
    .option('--smsr-id <id>', 'the SM-SR the cards serve (they answer only its ES5 reply topics)', 'smsr.demo')
    .option('--gateway-id <id>', 'broker identity of the gateway connection (listed as a gateway by the broker)', 'sim-gateway')
    .option('--max-hydrated <n>', 'cards kept hydrated in memory', positiveInt('--max-hydrated'), 1000)
    .addOption(new Option('--curve <curve>', 'PKI curve').choices(['P-256', 'brainpoolP256r1']).default('P-256'))
    .addOption(new Option('--certificates <when>', 'issue ECASD certificates now or on first use').choices(['eager', 'lazy']))
    .option('--eid-prefix <digits>', 'EID prefix (default the demo prefix 89049032123451234512)', digits('--eid-prefix'))
    .option('--first-serial <n>', 'serial of the first card (default: the first one no running stack serves)', positiveInt('--first-serial'))
    .option('--beside <url>', "device API of a running stack: the fleet never takes its EIDs ('' to skip)", 'http://127.0.0.1:8083')
    .option('--register <smsr-url>', 'register every card with this SM-SR through ES1 (e.g. npm start\'s http://127.0.0.1:8082)')
    .option('--eum-id <id>', 'the EUM id that signs the EIS for --register', 'eum.demo');
}

const digits = (name: string) => (value: string): string => {
  if (!/^\d{1,29}$/.test(value)) throw new InvalidArgumentError(`${name} must be 1 to 29 digits`);
  return value;
};

/** Parses `argv` (node, script, flags…) into {@link SimOptions}. */
export function parseSimArgs(argv: string[]): SimOptions {
  return program().parse(argv).opts<SimOptions>();
}

/** Starts a fleet as `npm run sim` does and returns it running; progress lines go to `log`. */
export async function startSim(o: SimOptions, log: (line: string) => void = (line) => process.stderr.write(line)): Promise<SimHandle> {
  const faults = o.faults ? parseFaultPlan(JSON.parse(readFileSync(o.faults, 'utf8'))) : undefined;
  const started = Date.now();
  let pki: TestPki;
  if (o.pki) {
    pki = o.pki;
  } else if (o.pkiDir) {
    pki = readTestPki(o.pkiDir, o.curve);
    log(`pki ${o.curve}: read from ${o.pkiDir}\n`);
  } else if (o.dataDir) {
    const kept = dataDirPki(o.dataDir, o.curve);
    pki = kept.pki;
    log(`pki ${o.curve}: ${kept.generated ? 'generated in' : 'read from'} ${join(o.dataDir, 'pki')}\n`);
  } else {
    pki = generateTestPki({ curve: o.curve, euiccCount: 0 });
  }
  // Keep clear of the cards a running stack serves (a data directory's fleet keeps the range it was made with).
  const served = o.beside ? await servedEids(o.beside) : undefined;
  const firstSerial = o.firstSerial ?? (o.dataDir ? recordedFirstSerial(o.dataDir, o.eidPrefix ?? DEMO_EID_PREFIX) : undefined);
  const placement = placeFleet(o.devices, served ?? new Set(), { ...(o.eidPrefix ? { eidPrefix: o.eidPrefix } : {}), ...(firstSerial !== undefined ? { firstSerial } : {}) }, o.beside);
  log(`eids ${placement.eidPrefix}… from serial ${placement.firstSerial} (${served ? placement.note : `no stack answered at ${o.beside || '(not asked)'}`})\n`);
  const fleet = await Fleet.create({
    size: o.devices,
    model: o.type,
    pki,
    maxHydrated: o.maxHydrated,
    eidPrefix: placement.eidPrefix,
    firstSerial: placement.firstSerial,
    onProgress: progressBar('manufacturing'),
    ...(faults ? { faults } : {}),
    ...(o.dataDir ? { backingStore: new FileCardStore(o.dataDir) } : {}),
    ...(o.certificates ? { certificates: o.certificates } : {}),
  });
  const memory = process.memoryUsage();
  log(
    `${fleet.size} ${o.type} devices in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `heap ${(memory.heapUsed / 2 ** 20).toFixed(0)} MiB, RSS ${(memory.rss / 2 ** 20).toFixed(0)} MiB\n`,
  );
  let api: DeviceApi | undefined;
  try {
    // ES1 before ES5: an EUM registers a manufactured eUICC (ES1.RegisterEIS, SGP.02 §5.5.1) before the
    // device is in the field. The SM-SR then knows each card when its eUICC declaration first arrives and
    // confirms it at once, instead of ignoring an unregistered EID's until the card's next resend.
    if (o.register) await registerFleet(fleet, pki, o, log);
    if (o.mqttUrl) await connectFleet(fleet, pki, o, log);
    api = await startDeviceApi(fleet, { port: o.apiPort, ...(o.apiHost ? { host: o.apiHost } : {}) }).catch((error: unknown) => {
      if (error instanceof DeviceApiPortInUseError) {
        throw new SimUsageError(`port ${o.apiPort} is in use (a running npm start?): choose another with --api-port`);
      }
      throw error;
    });
  } catch (error) {
    await fleet.close();
    throw error;
  }
  log(`device API at ${api.url} (first EID ${fleet.eids()[0] ?? '-'})\n`);
  const opened = api;
  return {
    fleet,
    api: opened,
    close: async () => {
      await opened.close();
      await fleet.close();
    },
  };
}

async function connectFleet(fleet: Fleet, pki: TestPki, o: SimOptions, log: (line: string) => void): Promise<void> {
  // Broker identities under the PKI's Test TLS CA: the gateway's, or each card's (CN = EID); kept in the
  // data directory when there is one. The broker must trust that CA (npm start's: --pki-dir data/pki/nist).
  const store = o.dataDir ? new MqttCredentialStore(join(o.dataDir, 'mqtt'), pki) : undefined;
  await fleet
    .startMqtt({
      url: o.mqttUrl as string,
      mode: o.mode,
      smsrId: o.smsrId,
      gatewayId: o.gatewayId,
      credentials: (principal) => store?.get(principal) ?? issueMqttCredentials(pki, principal),
      protocolVersion: o.mqttVersion === '5' ? 5 : 4,
      onProgress: progressBar('connecting'),
    })
    .catch((error: unknown) => {
      throw new Error(`cannot connect to ${o.mqttUrl} as ${o.mode === 'gateway' ? o.gatewayId : 'each card'}: ${(error as Error).message} (does the broker trust this PKI's Test TLS CA? see --pki-dir)`);
    });
  log(`ES5 over MQTT at ${o.mqttUrl} (${o.mode} mode, serving ${o.smsrId})\n`);
}

/** ES1 for every card, a few at a time; the SM-SR must trust this PKI's EUM (npm start's: --pki-dir data/pki/nist). */
async function registerFleet(fleet: Fleet, pki: TestPki, o: SimOptions, log: (line: string) => void): Promise<void> {
  const target = { smsrUrl: o.register as string, smsrId: o.smsrId, eumId: o.eumId, eumPrivateKey: pki.eum.privateKey };
  const eids = fleet.eids();
  const progress = progressBar('registering');
  let done = 0;
  let known = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < eids.length) {
      const eid = eids[next++] as string;
      if ((await registerCard(target, fleet.pool.snapshot(eid))) === 'known') known += 1;
      progress((done += 1), eids.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, eids.length) }, worker)).catch((error: unknown) => {
    throw new Error(`${(error as Error).message} (is this the stack's PKI? pass --pki-dir data/pki/nist; and --smsr-id its SM-SR id)`);
  });
  if (known > 0 && !o.dataDir) {
    // The SM-SR holds the EIS of an earlier run's cards under these EIDs, with other ECASD keys: every
    // download would fail 8.1/6.1. Only a data directory brings the same cards back.
    throw new SimUsageError(
      `${known} of these EIDs are already registered with ${o.smsrId} (an earlier run?), with other card keys: ` +
        `keep a fleet's identity with --data-dir, or take new EIDs with --first-serial ${(serialOf(fleet.eids().at(-1) ?? '', o.eidPrefix ?? DEMO_EID_PREFIX) ?? 0n) + 1n} / --eid-prefix`,
    );
  }
  log(`registered ${eids.length - known} cards with ${o.smsrId} at ${o.register}${known ? ` (${known} already known: this data directory's cards)` : ''}\n`);
}

/** The first serial of the fleet a data directory already holds under `prefix` (its manufacturing record), if any. */
function recordedFirstSerial(dataDir: string, prefix: string): number | undefined {
  const pattern = new RegExp(`^fleet-${prefix}-(\\d+)\\.recipes$`);
  const serials = (existsSync(dataDir) ? readdirSync(dataDir) : []).map((name) => pattern.exec(name)?.[1]).filter((serial): serial is string => serial !== undefined);
  return serials.length > 0 ? Math.min(...serials.map(Number)) : undefined;
}

export async function main(argv: string[]): Promise<void> {
  const sim = await startSim(parseSimArgs(argv));
  const stop = async (): Promise<void> => {
    await sim.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv).catch((error: unknown) => {
    // The code too: a corrupt or foreign data directory is named by its ERR_SIM_FLEET_RECORD_… code.
    process.stderr.write(`sim: ${isRspError(error) ? `${error.code}: ` : ''}${(error as Error).message}\n`);
    process.exit(1);
  });
}
