/**
 * `npm start`: everything on embedded defaults, no outside service needed.
 *
 * Today: the test PKI (generated once under the data directory, then read back, so every restart keeps
 * the same CI, EUM, SM-DP and SM-SR), the embedded aedes MQTT broker, and two demo devices (an oven and
 * a BBQ) whose eUICCs speak ES5 over that broker, with the device API. The SM-SR and SM-DP join this
 * script with the services work item.
 *
 * Settings (environment):
 *   RSP_DATA_DIR        data directory (default ./data)
 *   RSP_MQTT_PORT       embedded broker port (default 1883; 0 = any free port)
 *   RSP_MQTT_HOST       embedded broker bind address (default 127.0.0.1)
 *   RSP_SIM_API_PORT    device / raw APDU API port (default 8083; 0 = any free port)
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CurveName } from '@rsp/crypto';
import { isRspError } from '@rsp/errors';
import { startEmbeddedBroker } from '@rsp/mqtt-transport';
import { generateTestPki, readTestPki, writeTestPki, type TestPki } from '@rsp/pki';
import { startDemoDevices } from '../simulator/src/demo';

const dataDir = resolve(process.env.RSP_DATA_DIR ?? 'data');
const mqttPort = port('RSP_MQTT_PORT', 1883);
const mqttHost = process.env.RSP_MQTT_HOST ?? '127.0.0.1';
const apiPort = port('RSP_SIM_API_PORT', 8083);

function port(setting: string, fallback: number): number {
  const value = Number(process.env[setting] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`${setting} must be a port number, got "${process.env[setting]}"`);
  }
  return value;
}

function ensurePki(curve: CurveName, dir: string): TestPki {
  const suffix = curve === 'P-256' ? 'NIST' : 'BRP';
  if (existsSync(join(dir, `MANIFEST_${suffix}.json`))) {
    console.log(`pki      ${curve}: using ${dir}`);
    return readTestPki(dir, curve);
  }
  mkdirSync(dir, { recursive: true });
  // No demo ECASD certificates here: the demo devices' eUICCs are manufactured by the simulator.
  const pki = generateTestPki({ curve, euiccCount: 0 });
  const files = writeTestPki(pki, dir);
  console.log(`pki      ${curve}: generated ${files.length} files in ${dir}`);
  return pki;
}

async function main(): Promise<void> {
  const pki = ensurePki('P-256', join(dataDir, 'pki', 'nist'));
  ensurePki('brainpoolP256r1', join(dataDir, 'pki', 'brainpool'));
  const broker = await startEmbeddedBroker({ port: mqttPort, host: mqttHost, portSetting: 'RSP_MQTT_PORT' });
  console.log(`mqtt     embedded aedes broker on ${broker.url} (MQTT 3.1.1)`);
  const demo = await startDemoDevices({ pki, mqttUrl: broker.url, apiPort });
  for (const device of demo.devices) console.log(`device   ${device.model.padEnd(5)} EID ${device.eid} (ES5 over MQTT, client id = EID)`);
  console.log(`api      device and raw APDU API on ${demo.api.url} (docs/device-api.md)`);
  console.log(`try      curl ${demo.api.url}/devices/${demo.devices[0]?.eid ?? ''}`);
  console.log('ready    SM-SR and SM-DP join this command with the services work item; Ctrl-C stops.');
  const stop = async (): Promise<void> => {
    await demo.close();
    await broker.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  // A clear one-line reason (with its code) instead of a stack trace.
  console.error(`start failed: ${isRspError(error) ? `${error.code}: ` : ''}${(error as Error).message}`);
  process.exit(1);
});
