/**
 * `npm start`: everything on embedded defaults, no outside service needed.
 *
 * Today that is the test PKI (generated under the data directory if missing) and the embedded aedes
 * MQTT broker. The SM-SR, SM-DP and simulator join this script as they land.
 *
 * Settings (environment):
 *   RSP_DATA_DIR   data directory (default ./data)
 *   RSP_MQTT_PORT  embedded broker port (default 1883; 0 = any free port)
 *   RSP_MQTT_HOST  embedded broker bind address (default 127.0.0.1)
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CurveName } from '@rsp/crypto';
import { isRspError } from '@rsp/errors';
import { startEmbeddedBroker } from '@rsp/mqtt-transport';
import { generateTestPki, writeTestPki } from '@rsp/pki';

const dataDir = resolve(process.env.RSP_DATA_DIR ?? 'data');
const mqttPort = Number(process.env.RSP_MQTT_PORT ?? 1883);
const mqttHost = process.env.RSP_MQTT_HOST ?? '127.0.0.1';

function ensurePki(curve: CurveName, dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    console.log(`pki      ${curve}: using ${dir}`);
    return;
  }
  mkdirSync(dir, { recursive: true });
  const pki = generateTestPki({ curve });
  const files = writeTestPki(pki, dir);
  console.log(`pki      ${curve}: generated ${files.length} files in ${dir} (EIDs ${pki.euiccs.map((e) => e.eid).join(', ')})`);
}

async function main(): Promise<void> {
  if (!Number.isInteger(mqttPort) || mqttPort < 0 || mqttPort > 65535) {
    throw new Error(`RSP_MQTT_PORT must be a port number, got "${process.env.RSP_MQTT_PORT}"`);
  }
  ensurePki('P-256', join(dataDir, 'pki', 'nist'));
  ensurePki('brainpoolP256r1', join(dataDir, 'pki', 'brainpool'));
  const broker = await startEmbeddedBroker({ port: mqttPort, host: mqttHost, portSetting: 'RSP_MQTT_PORT' });
  console.log(`mqtt     embedded aedes broker on ${broker.url} (MQTT 3.1.1)`);
  console.log('ready    SM-SR, SM-DP and the simulator are added to this command as they land; Ctrl-C stops.');
  const stop = async (): Promise<void> => {
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
