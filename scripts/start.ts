/**
 * `npm start`: everything on embedded defaults, no outside service needed.
 *
 * The test PKI (generated once under the data directory, then read back, so every restart keeps the same
 * CI, EUM, SM-DP and SM-SR), the embedded aedes MQTT broker, the SM-SR and the SM-DP on SQLite files in
 * the data directory, a demo oven and a demo BBQ registered with the SM-SR by the demo EUM (ES1), a
 * demo MNO with an API key, and the device / raw APDU API. It ends by printing a curl that downloads a
 * profile to the oven.
 *
 * Settings (environment):
 *   RSP_DATA_DIR        data directory (default ./data)
 *   RSP_MQTT_PORT       embedded broker port (default 1883; 0 = any free port)
 *   RSP_MQTT_HOST       embedded broker bind address (default 127.0.0.1)
 *   RSP_MQTT_URL        use this broker (e.g. Mosquitto) instead of the embedded one
 *   RSP_DATABASE_URL    use this database (postgres://…) instead of SQLite files in the data directory
 *   RSP_SMDP_HTTP_PORT  SM-DP ES2 API (default 8081); RSP_SMSR_HTTP_PORT SM-SR ES1/ES4 API (default 8082)
 *   RSP_SIM_API_PORT    device / raw APDU API port (default 8083; 0 = any free port)
 *   RSP_OWNER_REGISTRY_HTTP_PORT  owner registry and portal (default 8084); RSP_DEV_IDP_PORT dev IdP (default 8085)
 *   RSP_DEMO_MNO_API_KEY  the demo MNO's API key (default: generated once, kept in the data directory)
 *   RSP_SECRET_BOX_KEYS   keys sealing secrets at rest (default: generated once, kept in the data directory)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { CurveName } from '@rsp/crypto';
import { isRspError } from '@rsp/errors';
import { DEMO_EID_FIRST_SERIAL, generateTestPki, readTestPki, writeTestPki, type TestPki } from '@rsp/pki';
import { startDeviceApi } from '../simulator/src/device-api';
import { CombinedDirectory } from '../simulator/src/demo';
import { DEMO_IDS, freshSecretBoxKeys, startStack } from './stack';

const dataDir = resolve(process.env.RSP_DATA_DIR ?? 'data');
const mqttPort = port('RSP_MQTT_PORT', 1883);
const mqttHost = process.env.RSP_MQTT_HOST ?? '127.0.0.1';
const apiPort = port('RSP_SIM_API_PORT', 8083);
const smdpPort = port('RSP_SMDP_HTTP_PORT', 8081);
const smsrPort = port('RSP_SMSR_HTTP_PORT', 8082);
const registryPort = port('RSP_OWNER_REGISTRY_HTTP_PORT', 8084);
const idpPort = port('RSP_DEV_IDP_PORT', 8085);

function port(setting: string, fallback: number): number {
  const value = Number(process.env[setting] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`${setting} must be a port number, got "${process.env[setting]}"`);
  }
  return value;
}

/** A value from the environment, else one generated on the first start and kept (mode 600) in the data directory. */
function persistentSecret(setting: string, file: string, generate: () => string): string {
  const configured = process.env[setting];
  if (configured) return configured;
  const path = join(dataDir, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = generate();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
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

/** The demo maker registers its devices with the owner registry once; their claim codes are kept in the data directory. */
async function registerDemoDevices(registryHttpUrl: string, makerKey: string, devices: Array<{ eid: string; model: string }>): Promise<void> {
  const file = join(dataDir, 'demo-claim-codes.json');
  const known = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, { deviceUrl: string; claimCode: string }>) : {};
  for (const device of devices) {
    if (!known[device.eid]) {
      const claimCode = randomBytes(6).toString('base64url').toUpperCase();
      const response = await fetch(`${registryHttpUrl}/makers/devices`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': makerKey },
        body: JSON.stringify({ eid: device.eid, deviceId: `${device.model}-${device.eid.slice(-8)}`, model: device.model, claimCode }),
      });
      const body = (await response.json()) as { deviceUrl?: string };
      if (response.status !== 201 || !body.deviceUrl) continue;
      known[device.eid] = { deviceUrl: body.deviceUrl, claimCode };
      writeFileSync(file, JSON.stringify(known, null, 2), { mode: 0o600 });
    }
    const entry = known[device.eid];
    if (entry) console.log(`claim    ${device.model.padEnd(5)} ${entry.deviceUrl} claim code ${entry.claimCode}`);
  }
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const pki = ensurePki('P-256', join(dataDir, 'pki', 'nist'));
  ensurePki('brainpoolP256r1', join(dataDir, 'pki', 'brainpool'));
  const apiKey = persistentSecret('RSP_DEMO_MNO_API_KEY', 'demo-mno-api-key', () => randomBytes(24).toString('base64url'));
  const secretBoxKeys = persistentSecret('RSP_SECRET_BOX_KEYS', 'secret-box-keys', freshSecretBoxKeys);
  const makerKey = persistentSecret('RSP_DEMO_MAKER_API_KEY', 'demo-maker-api-key', () => randomBytes(24).toString('base64url'));
  // The registry's public URL is the consents' issuer and the device URL base: fixed before anything starts.
  const registryUrl = process.env.RSP_OWNER_REGISTRY_URL ?? (registryPort === 0 ? 'https://owner-registry.rsp.invalid' : `http://127.0.0.1:${registryPort}`);
  const databaseUrl = process.env.RSP_DATABASE_URL;
  const stack = await startStack({
    pki,
    ...(process.env.RSP_MQTT_URL ? { mqttUrl: process.env.RSP_MQTT_URL } : { mqttPort, mqttHost }),
    database: databaseUrl?.startsWith('postgres') ? { kind: 'postgres', url: databaseUrl } : { kind: 'sqlite', dir: dataDir },
    smdpHttpPort: smdpPort,
    smsrHttpPort: smsrPort,
    mnos: [{ mnoId: DEMO_IDS.mnoId, apiKey }],
    secretBoxKeys,
    devices: [
      { model: 'oven', count: 1, firstSerial: DEMO_EID_FIRST_SERIAL },
      { model: 'bbq', count: 1, firstSerial: DEMO_EID_FIRST_SERIAL + 1 },
    ],
    cardStateDir: join(dataDir, 'cards'),
    owners: {
      registryUrl,
      registryHttpPort: registryPort,
      idpPort,
      makers: [{ makerId: 'oven-maker', makerDomain: 'oven-maker.example', apiKey: makerKey }],
    },
  });
  console.log(`mqtt     ${stack.broker ? 'embedded aedes broker' : 'broker'} on ${stack.mqttUrl}`);
  console.log(`sm-sr    ${DEMO_IDS.smsrId}: ES1/ES4 on ${stack.smsr.httpUrl}/gsma/es4/{function} (OpenAPI ${stack.smsr.httpUrl}/docs)`);
  console.log(`sm-dp    ${DEMO_IDS.smdpId}: ES2 on ${stack.smdp.httpUrl}/gsma/es2/{function} (OpenAPI ${stack.smdp.httpUrl}/docs)`);
  const directory = new CombinedDirectory(stack.fleets);
  const api = await startDeviceApi(directory, { port: apiPort });
  for (const device of directory.list(0, directory.size)) console.log(`device   ${device.model.padEnd(5)} EID ${device.eid} (registered with ${DEMO_IDS.smsrId})`);
  console.log(`api      device and raw APDU API on ${api.url} (docs/device-api.md)`);
  await registerDemoDevices(stack.registry?.httpUrl ?? '', makerKey, directory.list(0, directory.size));
  console.log(`owners   registry ${stack.registry?.httpUrl} (portal ${stack.registry?.httpUrl}/portal), dev IdP ${stack.idp?.issuer} (users alice / alice, bob / bob)`);
  const stock = await fetch(`${stack.smdp.httpUrl}/mno/profileTypes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ name: 'demo-iot' }),
  }).then(async () =>
    fetch(`${stack.smdp.httpUrl}/mno/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({ profileType: 'demo-iot', generate: 20, iccidPrefix: '8949999' }),
    }),
  );
  if (!stock.ok) console.warn('mno      could not stock the demo MNO inventory');
  const oven = stack.eids[0] ?? '';
  console.log(`mno      ${DEMO_IDS.mnoId}, API key in ${join(dataDir, 'demo-mno-api-key')} (or RSP_DEMO_MNO_API_KEY); profile type demo-iot`);
  console.log('try      download and enable a profile on the oven:');
  console.log(
    `curl -s -X POST ${stack.smdp.httpUrl}/gsma/es2/downloadProfile -H 'content-type: application/json' -H "X-API-Key: $(cat ${join(dataDir, 'demo-mno-api-key')})" \\\n` +
      `  -d '{"header":{"functionRequesterIdentifier":"${DEMO_IDS.mnoId}","functionCallIdentifier":"'$(date +%s%N)'"},"eid":"${oven}","smsrId":"${DEMO_IDS.smsrId}","profileType":"demo-iot","enableProfile":true}'`,
  );
  console.log(`         or: npx rsp es2 download-profile --eid ${oven} --profile-type demo-iot --enable --api-key "$(cat ${join(dataDir, 'demo-mno-api-key')})"`);
  console.log('ready    Ctrl-C stops.');
  const stop = async (): Promise<void> => {
    await api.close();
    await stack.close();
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
