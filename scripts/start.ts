/**
 * `npm start`: everything on embedded defaults, no outside service needed.
 *
 * The test PKI (generated once under the data directory, then read back, so every restart keeps the same
 * CI, EUM, SM-DP and SM-SR), the embedded aedes MQTT broker, the SM-SR and the SM-DP on SQLite files in
 * the data directory, a demo oven and a demo BBQ registered with the SM-SR by the demo EUM (ES1), a
 * demo MNO with an API key, and the device / raw APDU API. It ends by printing a curl that downloads a
 * profile to the oven.
 *
 * Settings (environment), validated before anything starts (scripts/start-config.ts composes the apps'
 * schemas; docs/configuration.md). A bad one stops the start with one line naming it.
 *   RSP_ENV             development (default): keys below left unset are generated ONCE into the data
 *                       directory (mode 600) and reused; production: a missing key stops the start
 *   RSP_DATA_DIR        data directory (default ./data)
 *   RSP_MQTT_PORT       embedded broker port (default 8883, TLS with client certificates; 0 = any free port)
 *   RSP_MQTT_HOST       embedded broker bind address (default 127.0.0.1)
 *   RSP_MQTT_URL        use this broker (mqtts://…: Mosquitto with `npm run mosquitto:config`) instead of the embedded one;
 *                       every service, card and tool connects with its own TLS client certificate, issued once from
 *                       the data directory's PKI into {dir}/mqtt/ (docs/security.md)
 *   RSP_DATABASE_URL    use this database (postgres://…) instead of SQLite files in the data directory
 *   RSP_SMDP_HTTP_PORT  SM-DP ES2 API (default 8081); RSP_SMSR_HTTP_PORT SM-SR ES1/ES4 API (default 8082)
 *   RSP_SMDP_ID, RSP_SMSR_ID  service ids (default smdp.demo, smsr.demo)
 *   RSP_SIM_API_PORT    device / raw APDU API port (default 8083; 0 = any free port)
 *   RSP_OWNER_REGISTRY_HTTP_PORT  owner registry and portal (default 8084); RSP_DEV_IDP_PORT dev IdP (default 8085)
 *   RSP_CONSOLE_PORT              operator console (default 8086)
 *   RSP_OWNER_REGISTRY_URL  the registry's public URL (consent `iss`, device URLs)
 *   RSP_DEMO_MNO_API_KEY, RSP_DEMO_MAKER_API_KEY  the demo MNO's and maker's API keys ({dir}/demo-*-api-key)
 *   RSP_DEMO_SECOND_MNO_API_KEY  the second demo MNO mno.beta, porting's recipient ({dir}/demo-second-mno-api-key;
 *                       production: no second MNO unless set)
 *   RSP_SECRET_BOX_KEYS   keys sealing secrets at rest ({dir}/secret-box-keys)
 *   RSP_CONSENT_SIGNING_KEY_FILE  the registry's consent-signing key ({dir}/owner-registry-consent-key.pem):
 *                       kept, so consents minted before a restart stay valid after it; RSP_CONSENT_SIGNING_KEY_ID,
 *                       RSP_CONSENT_PREVIOUS_KEYS_FILE (older public keys still accepted)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { CurveName } from '@rsp/crypto';
import { mnoNotifyTopic } from '@rsp/contracts';
import { isRspError } from '@rsp/errors';
import { MqttCredentialStore } from '@rsp/mqtt-transport';
import { DEMO_EID_FIRST_SERIAL, generateTestPki, readTestPki, writeTestPki, type TestPki } from '@rsp/pki';
import { loadStackConfig, type StackConfig } from './start-config';
import { DEMO_IDS, startStack } from './stack';
import { createServiceLogger } from '@rsp/service-kit';

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
async function registerDemoDevices(dataDir: string, registryHttpUrl: string, makerKey: string, devices: Array<{ eid: string; model: string }>): Promise<void> {
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
    // The code is a secret (it makes whoever holds it the owner): its file is printed, never the code.
    if (entry) console.log(`claim    ${device.model.padEnd(5)} ${entry.deviceUrl} (claim code in ${file})`);
  }
}

/** A demo MNO's profile type and 20 generated subscriptions (idempotent enough for a restart: more stock). */
async function stockDemoMno(smdpUrl: string, apiKey: string, profileType: string, iccidPrefix: string): Promise<boolean> {
  const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
  await fetch(`${smdpUrl}/mno/profileTypes`, { method: 'POST', headers, body: JSON.stringify({ name: profileType }) });
  const stock = await fetch(`${smdpUrl}/mno/subscriptions`, { method: 'POST', headers, body: JSON.stringify({ profileType, generate: 20, iccidPrefix }) });
  return stock.ok;
}

async function main(): Promise<void> {
  // Every setting checked (and development keys read or generated once) before anything starts.
  const config: StackConfig = loadStackConfig();
  // The services' log lines (pino), each with its `service`: RSP_LOG_LEVEL (default info) and RSP_LOG_FORMAT
  // (default auto: text on a terminal, JSON lines elsewhere), both checked here.
  const logger = createServiceLogger(undefined);
  const { dataDir } = config;
  mkdirSync(dataDir, { recursive: true });
  for (const notice of config.notices) console.log(`keys     ${notice}`);
  const pki = ensurePki('P-256', join(dataDir, 'pki', 'nist'));
  ensurePki('brainpoolP256r1', join(dataDir, 'pki', 'brainpool'));
  const apiKey = config.demoMno.apiKey;
  const makerKey = config.demoMaker.apiKey;
  const { smsrId, smdpId } = config.ids;
  const stack = await startStack({
    pki,
    ids: config.ids,
    ...(config.mqtt.url ? { mqttUrl: config.mqtt.url } : { mqttPort: config.mqtt.embedded.port, mqttHost: config.mqtt.embedded.host }),
    ...(config.mqtt.protocolVersion === 5 ? { mqttProtocolVersion: 5 as const } : {}),
    database: config.database,
    smdpHttpPort: config.ports.smdp,
    smsrHttpPort: config.ports.smsr,
    mnos: [{ mnoId: DEMO_IDS.mnoId, apiKey }, ...(config.secondMno ? [{ mnoId: DEMO_IDS.secondMnoId, apiKey: config.secondMno.apiKey }] : [])],
    secretBoxKeys: config.secretBoxKeys,
    // The embedded broker runs on a thread of its own, as a broker runs beside the services, not inside
    // them: a fleet of 1000 cards took its profiles 27–31 % faster so (docs/performance.md, round fourteen).
    brokerThread: true,
    onBrokerCrash: (error: Error) => {
      console.error(`stopped: the embedded broker's thread failed (${error.message}); every client lost its connection`);
      process.exit(1);
    },
    // The demo devices run on a card thread of their own, as devices are other machines: the services'
    // thread does only the services' work. Their device and raw APDU API is served from that thread too.
    devices: [
      { model: 'oven', count: 1, firstSerial: DEMO_EID_FIRST_SERIAL, thread: 'worker' },
      { model: 'bbq', count: 1, firstSerial: DEMO_EID_FIRST_SERIAL + 1, thread: 'worker' },
    ],
    cardStateDir: join(dataDir, 'cards'),
    deviceApi: { port: config.ports.simApi, portSetting: 'RSP_SIM_API_PORT' },
    mqttCredentialsDir: join(dataDir, 'mqtt'),
    owners: {
      registryUrl: config.registryUrl,
      registryHttpPort: config.ports.registry,
      idpPort: config.ports.devIdp,
      makers: [{ makerId: 'oven-maker', makerDomain: 'oven-maker.example', apiKey: makerKey }],
      consentKeys: config.consentKeys,
    },
    console: { port: config.ports.console },
    logger,
  });
  console.log(`mqtt     ${stack.broker ? 'embedded aedes broker on a thread of its own (TLS client certificates, broker ACL)' : 'broker'} on ${stack.mqttUrl}`);
  console.log(`sm-sr    ${smsrId}: ES1/ES4 on ${stack.smsr.httpUrl}/gsma/es4/{function} (OpenAPI ${stack.smsr.httpUrl}/docs)`);
  console.log(`sm-dp    ${smdpId}: ES2 on ${stack.smdp.httpUrl}/gsma/es2/{function} (OpenAPI ${stack.smdp.httpUrl}/docs)`);
  for (const device of stack.devices) console.log(`device   ${device.model.padEnd(5)} EID ${device.eid} (registered with ${smsrId}; on a card thread of its own)`);
  console.log(`api      device and raw APDU API on ${stack.deviceApiUrl} (docs/device-api.md)`);
  await registerDemoDevices(dataDir, stack.registry?.httpUrl ?? '', makerKey, stack.devices);
  console.log(`console  operator console on ${stack.console?.url} (the demo MNO's id and API key; docs/console.md)`);
  console.log(`owners   registry ${stack.registry?.httpUrl} (portal ${stack.registry?.httpUrl}/portal), dev IdP ${stack.idp?.issuer} (users alice / alice, bob / bob)`);
  if (!(await stockDemoMno(stack.smdp.httpUrl, apiKey, 'demo-iot', '8949999'))) console.warn('mno      could not stock the demo MNO inventory');
  if (config.secondMno && !(await stockDemoMno(stack.smdp.httpUrl, config.secondMno.apiKey, 'beta-iot', '8949998'))) console.warn('mno      could not stock the second MNO inventory');
  const oven = stack.eids[0] ?? '';
  // The key's file (or the variable it came from) goes into the printed commands, never the key itself.
  const keyFile = config.demoMno.apiKeyFile;
  const apiKeyRef = keyFile ? `$(cat ${keyFile})` : '$RSP_DEMO_MNO_API_KEY';
  console.log(`mno      ${DEMO_IDS.mnoId}, API key ${keyFile ? `in ${keyFile}` : 'from RSP_DEMO_MNO_API_KEY'}; profile type demo-iot`);
  if (config.secondMno) {
    const secondFile = config.secondMno.apiKeyFile;
    console.log(`mno      ${DEMO_IDS.secondMnoId} (porting's recipient), API key ${secondFile ? `in ${secondFile}` : 'from RSP_DEMO_SECOND_MNO_API_KEY'}; profile type beta-iot`);
  }
  console.log('try      download and enable a profile on the oven:');
  console.log(
    `curl -s -X POST ${stack.smdp.httpUrl}/gsma/es2/downloadProfile -H 'content-type: application/json' -H "X-API-Key: ${apiKeyRef}" \\\n` +
      `  -d '{"header":{"functionRequesterIdentifier":"${DEMO_IDS.mnoId}","functionCallIdentifier":"'$(date +%s%N)'"},"eid":"${oven}","smsrId":"${smsrId}","profileType":"demo-iot","enableProfile":true}'`,
  );
  console.log(`         or: npx rsp es2 download-profile --eid ${oven} --profile-type demo-iot --enable --api-key "${apiKeyRef}"`);
  // A tool's broker identity: the demo MNO reading its own notifications (the ACL lets it read nothing else).
  const identities = new MqttCredentialStore(join(dataDir, 'mqtt'), pki);
  identities.get(DEMO_IDS.mnoId);
  const files = identities.paths(DEMO_IDS.mnoId);
  const { hostname, port } = new URL(stack.mqttUrl);
  console.log(`watch    the demo MNO's notifications, with its own broker identity (docs/security.md):`);
  console.log(
    `mosquitto_sub -h ${hostname} -p ${port} --cafile ${files.ca} --cert ${files.cert} --key ${files.key} -i ${DEMO_IDS.mnoId} -t '${mnoNotifyTopic(DEMO_IDS.mnoId, 'es2')}' -t '${mnoNotifyTopic(DEMO_IDS.mnoId, 'es4')}' -v`,
  );
  console.log('ready    Ctrl-C stops.');
  const stop = async (): Promise<void> => {
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
