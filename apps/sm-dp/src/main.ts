/**
 * `npm run start:sm-dp`: the SM-DP from the environment, validated at start (apps/sm-dp/src/config.ts;
 * every setting in docs/configuration.md). A bad setting stops the start with one line naming it.
 *
 *   RSP_ENV               development (default) | production: production generates no key and never falls
 *                         back to the test PKI; a missing key or file stops the start
 *   RSP_SMDP_ID           default smdp.demo
 *   RSP_SMDP_HTTP_PORT    ES2 / inventory / OpenAPI port (default 8081); RSP_SMDP_HTTP_HOST (default 127.0.0.1)
 *   RSP_MQTT_URL          broker (default mqtts://127.0.0.1:8883, npm start's); RSP_MQTT_PROTOCOL_VERSION 4 | 5 (default 4)
 *   RSP_MQTT_CERT_FILE, RSP_MQTT_KEY_FILE, RSP_MQTT_CA_FILE  the service's broker identity (TLS client certificate,
 *                     PEM; development: issued once from the test PKI into {dir}/mqtt/; docs/security.md)
 *   RSP_DATABASE_URL      sqlite:///abs/path.db | postgres://… (default sqlite://{RSP_DATA_DIR}/sm-dp.db)
 *   RSP_DATABASE_SCHEMA   Postgres schema (optional)
 *   RSP_DATA_DIR          data directory (default ./data)
 *   RSP_PKI_DIR           development: the test PKI for the files below left unset (default {dir}/pki/nist)
 *   RSP_CI_CERTIFICATE_FILE, RSP_EUM_CERTIFICATE_FILE     X.509 (DER or PEM)
 *   RSP_SMDP_CERTIFICATE_FILE, RSP_SMDP_PRIVATE_KEY_FILE  CERT.DP.ECDSA (GP 7F21) and SK.DP.ECDSA (PEM)
 *   RSP_SECRET_BOX_KEYS   id:base64key[,…] (development: generated once into {dir}/sm-dp-secret-box.key)
 *   RSP_DEMO_MNO_API_KEY  API key of mno.demo (development: generated once into {dir}/demo-mno-api-key;
 *                         only the path is printed)
 *   RSP_OWNER_REGISTRY_URL  the owner registry (consent `iss`); set: ES2 on owned devices needs a consent.
 *                         RSP_OWNER_REGISTRY_JWKS_URL (default {registry}/.well-known/jwks.json)
 */
import { isRspError } from '@rsp/errors';
import { createServiceLogger } from '@rsp/service-kit';
import { startSmDp } from './app';
import { loadSmDpConfig } from './config';

async function main(): Promise<void> {
  const config = loadSmDpConfig();
  for (const notice of config.notices) console.warn(`sm-dp    ${notice}`);
  const smdp = await startSmDp({
    smdpId: config.smdpId,
    httpPort: config.http.port,
    httpHost: config.http.host,
    mqttUrl: config.mqtt.url,
    mqttCredentials: config.mqtt.credentials,
    mqttProtocolVersion: config.mqtt.protocolVersion,
    databaseUrl: config.database.url,
    ...(config.database.schema ? { databaseSchema: config.database.schema } : {}),
    ...(config.database.preparedStatements === false ? { databasePreparedStatements: false as const } : {}),
    ciCertificate: config.pki.ciCertificate,
    eumCertificates: config.pki.eumCertificates,
    smdpCertificate: config.pki.certificate,
    smdpPrivateKey: config.pki.privateKey,
    mnos: [{ mnoId: config.demoMno.mnoId, apiKey: config.demoMno.apiKey }],
    secretBoxKeys: config.secretBoxKeys,
    ...(config.ownerRegistry ? { ownerRegistry: config.ownerRegistry } : {}),
    logger: createServiceLogger('sm-dp'), // RSP_LOG_LEVEL sets the level, RSP_LOG_FORMAT json or text lines
  });
  // Demo stock: a default profile type and 10 subscriptions on first start (credentials not printed).
  if ((await smdp.inventory.listProfileTypes(config.demoMno.mnoId)).length === 0) {
    await smdp.inventory.putProfileType(config.demoMno.mnoId, { name: 'default' });
    await smdp.inventory.generateSubscriptions(config.demoMno.mnoId, 'default', 10);
  }
  console.log(`sm-dp    ${smdp.smdpId}: ES2 on ${smdp.httpUrl}/gsma/es2/{function}, OpenAPI ${smdp.httpUrl}/docs`);
  if (config.demoMno.apiKeyFile) console.log(`sm-dp    ${config.demoMno.mnoId} X-API-Key in ${config.demoMno.apiKeyFile}`);
  smdp.app.enableShutdownHooks(); // SIGINT / SIGTERM run the lifecycle hooks (sm-dp.module.ts), then exit
}

main().catch((error: unknown) => {
  console.error(`sm-dp start failed: ${isRspError(error) ? `${error.code}: ` : ''}${(error as Error).message}`);
  process.exit(1);
});
