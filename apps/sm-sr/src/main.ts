/**
 * `npm run start:sm-sr`: one SM-SR from the environment, validated at start (apps/sm-sr/src/config.ts;
 * every setting in docs/configuration.md). A bad setting stops the start with one line naming it.
 *
 *   RSP_ENV                     development (default) | production: production generates no key and never
 *                               falls back to the test PKI; a missing key or file stops the start
 *   RSP_SMSR_ID                 SM-SR id (default smsr.demo)
 *   RSP_SMSR_HTTP_PORT          HTTP port (default 8082); RSP_SMSR_HTTP_HOST (default 127.0.0.1)
 *   RSP_MQTT_URL                broker (default mqtts://127.0.0.1:8883, npm start's); RSP_MQTT_PROTOCOL_VERSION 4 | 5 (default 4)
 *   RSP_MQTT_CERT_FILE, RSP_MQTT_KEY_FILE, RSP_MQTT_CA_FILE  the service's broker identity (TLS client certificate,
 *                     PEM; development: issued once from the test PKI into {dir}/mqtt/; docs/security.md)
 *   RSP_DATABASE_URL            sqlite:///abs/path.db | postgres://… (default sqlite://{RSP_DATA_DIR}/sm-sr.db)
 *   RSP_DATABASE_SCHEMA         Postgres schema (optional)
 *   RSP_DATA_DIR                data directory (default ./data)
 *   RSP_PKI_DIR                 development: the test PKI for the files below left unset (default {dir}/pki/nist)
 *   RSP_CI_CERTIFICATE_FILE, RSP_EUM_CERTIFICATE_FILE   X.509 (DER or PEM)
 *   RSP_SMSR_CERTIFICATE_FILE, RSP_SMSR_PRIVATE_KEY_FILE CERT.SR.ECDSA (GP 7F21) and SK.SR.ECDSA (PEM)
 *   RSP_SMSR_ISD_R_HANDOVER     1 (default): replace each card's EUM ISD-R key set by the SM-SR's own (Scenario#3
 *                               with CERT.SR.ECDSA) before its first ES5 exchange; 0: keep the EUM's
 *   RSP_SECRET_BOX_KEYS         id:base64key[,…] sealing ISD-R keys at rest (development: generated once
 *                               into {dir}/sm-sr.secret-box-keys)
 *   RSP_DEMO_MNO_API_KEY        API key of the demo MNO `mno.demo` (development: generated once into
 *                               {dir}/demo-mno-api-key; only the path is printed)
 *   RSP_DEMO_MNO_WEBHOOK_URL    webhook for the demo MNO's ES4 notifications (optional)
 *   RSP_DEMO_EUM_API_KEY        API key the demo EUM `eum.demo` must send on ES1 (unset: its EIS signature authenticates it)
 *   RSP_OWNER_REGISTRY_URL      the owner registry (consent `iss`); set: ES4 on owned devices needs a consent.
 *                               RSP_OWNER_REGISTRY_JWKS_URL (default {registry}/.well-known/jwks.json)
 */
import { isRspError } from '@rsp/errors';
import { createServiceLogger } from '@rsp/service-kit';
import { startSmSr } from './app';
import { loadSmSrConfig } from './config';

async function main(): Promise<void> {
  const config = loadSmSrConfig();
  for (const notice of config.notices) console.warn(`sm-sr    ${notice}`);
  const handle = await startSmSr({
    smsrId: config.smsrId,
    httpPort: config.http.port,
    httpHost: config.http.host,
    mqttUrl: config.mqtt.url,
    mqttCredentials: config.mqtt.credentials,
    mqttProtocolVersion: config.mqtt.protocolVersion,
    databaseUrl: config.database.url,
    ...(config.database.schema ? { databaseSchema: config.database.schema } : {}),
    ...(config.database.preparedStatements === false ? { databasePreparedStatements: false as const } : {}),
    ...(config.instances ? { instances: config.instances } : {}),
    ciCertificate: config.pki.ciCertificate,
    eums: [{ eumId: config.demoEum.eumId, certificate: config.pki.eumCertificate, ...(config.demoEum.apiKey ? { apiKey: config.demoEum.apiKey } : {}) }],
    mnos: [{ mnoId: config.demoMno.mnoId, apiKey: config.demoMno.apiKey, ...(config.demoMno.webhookUrl ? { webhookUrl: config.demoMno.webhookUrl } : {}) }],
    secretBoxKeys: config.secretBoxKeys,
    ...(config.pki.isdRHandover ? { smsrCertificate: config.pki.isdRHandover.certificate, smsrPrivateKey: config.pki.isdRHandover.privateKey } : {}),
    ...(config.ownerRegistry ? { ownerRegistry: config.ownerRegistry } : {}),
    logger: createServiceLogger('sm-sr'), // RSP_LOG_LEVEL sets the level, RSP_LOG_FORMAT json or text lines
  });
  console.log(`sm-sr    ${handle.smsrId} on ${handle.httpUrl} (OpenAPI ${handle.httpUrl}/docs)`);
  if (config.demoMno.apiKeyFile) console.log(`sm-sr    ES4 API key of ${config.demoMno.mnoId} in ${config.demoMno.apiKeyFile}`);
  handle.app.enableShutdownHooks(); // SIGINT / SIGTERM run the lifecycle hooks (sm-sr.module.ts), then exit
}

main().catch((error: unknown) => {
  console.error(`sm-sr failed: ${isRspError(error) ? `${error.code}: ` : ''}${(error as Error).message}`);
  process.exit(1);
});
