/**
 * `npm run sim -- --devices N --type oven|bbq|generic [--mqtt-url mqtts://…] [--mode gateway|single]
 *                 [--faults plan.json] [--api-port 8083] [--data-dir DIR] [--pki-dir DIR] [--mqtt-version 4|5]
 *                 [--smsr-id smsr.demo] [--gateway-id sim-gateway]`
 *
 * Manufactures a fleet under one generated test PKI, serves it over MQTT (ES5, docs/topics.md) when
 * --mqtt-url is given, and opens the device API (docs/device-api.md). Progress goes to stderr.
 *
 * With --data-dir the fleet keeps its identity across runs: the PKI is generated into DIR/pki/<curve>
 * once and read back after, the cards' manufacturing record and changed states live in DIR (see
 * fleet-recipes.ts). Without it everything is in memory and new each run.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FileCardStore } from '@rsp/card';
import type { CurveName } from '@rsp/crypto';
import { isRspError } from '@rsp/errors';
import { generateTestPki, readTestPki, writeTestPki, type TestPki } from '@rsp/pki';
import { MqttCredentialStore, issueMqttCredentials } from '@rsp/mqtt-transport';
import { startDeviceApi } from './device-api';
import { DEVICE_MODELS, type DeviceModel } from './device';
import { parseFaultPlan } from './faults';
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

export async function main(argv: string[]): Promise<void> {
  const program = new Command('sim')
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
    .parse(argv);
  const o = program.opts<{
    devices: number;
    type: DeviceModel;
    mqttUrl?: string;
    mode: 'gateway' | 'single';
    mqttVersion: '4' | '5';
    faults?: string;
    apiPort: number;
    dataDir?: string;
    pkiDir?: string;
    smsrId: string;
    gatewayId: string;
    maxHydrated: number;
    curve: 'P-256' | 'brainpoolP256r1';
    certificates?: 'eager' | 'lazy';
  }>();

  const faults = o.faults ? parseFaultPlan(JSON.parse(readFileSync(o.faults, 'utf8'))) : undefined;
  const started = Date.now();
  let pki: TestPki;
  if (o.pkiDir) {
    pki = readTestPki(o.pkiDir, o.curve);
    process.stderr.write(`pki ${o.curve}: read from ${o.pkiDir}\n`);
  } else if (o.dataDir) {
    const kept = dataDirPki(o.dataDir, o.curve);
    pki = kept.pki;
    process.stderr.write(`pki ${o.curve}: ${kept.generated ? 'generated in' : 'read from'} ${join(o.dataDir, 'pki')}\n`);
  } else {
    pki = generateTestPki({ curve: o.curve, euiccCount: 0 });
  }
  const fleet = await Fleet.create({
    size: o.devices,
    model: o.type,
    pki,
    maxHydrated: o.maxHydrated,
    onProgress: progressBar('manufacturing'),
    ...(faults ? { faults } : {}),
    ...(o.dataDir ? { backingStore: new FileCardStore(o.dataDir) } : {}),
    ...(o.certificates ? { certificates: o.certificates } : {}),
  });
  const memory = process.memoryUsage();
  process.stderr.write(
    `${fleet.size} ${o.type} devices in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `heap ${(memory.heapUsed / 2 ** 20).toFixed(0)} MiB, RSS ${(memory.rss / 2 ** 20).toFixed(0)} MiB\n`,
  );
  if (o.mqttUrl) {
    // Broker identities under the PKI's Test TLS CA: the gateway's, or each card's (CN = EID); kept in the
    // data directory when there is one. The broker must trust that CA (npm start's: --pki-dir data/pki/nist).
    const store = o.dataDir ? new MqttCredentialStore(join(o.dataDir, 'mqtt'), pki) : undefined;
    await fleet
      .startMqtt({
        url: o.mqttUrl,
        mode: o.mode,
        smsrId: o.smsrId,
        gatewayId: o.gatewayId,
        credentials: (principal) => store?.get(principal) ?? issueMqttCredentials(pki, principal),
        protocolVersion: o.mqttVersion === '5' ? 5 : 4,
      })
      .catch((error: unknown) => {
        throw new Error(`cannot connect to ${o.mqttUrl} as ${o.mode === 'gateway' ? o.gatewayId : 'each card'}: ${(error as Error).message} (does the broker trust this PKI's Test TLS CA? see --pki-dir)`);
      });
    process.stderr.write(`ES5 over MQTT at ${o.mqttUrl} (${o.mode} mode, serving ${o.smsrId})\n`);
  }
  const api = await startDeviceApi(fleet, { port: o.apiPort });
  process.stderr.write(`device API at ${api.url} (first EID ${fleet.eids()[0] ?? '-'})\n`);

  const stop = async (): Promise<void> => {
    await api.close();
    await fleet.close();
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
