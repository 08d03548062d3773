/**
 * `npm run start:owner-registry`: the owner registry from the environment, validated at start
 * (apps/owner-registry/src/config.ts; every setting in docs/configuration.md). A bad setting stops the
 * start with one line naming it.
 *
 *   RSP_ENV                       development (default) | production: production generates no key and starts
 *                                 no development IdP; a missing key or setting stops the start
 *   RSP_MQTT_URL                  broker (default mqtts://127.0.0.1:8883, npm start's); RSP_MQTT_PROTOCOL_VERSION 4 | 5
 *   RSP_MQTT_CERT_FILE, RSP_MQTT_KEY_FILE, RSP_MQTT_CA_FILE  the service's broker identity (TLS client certificate,
 *                     PEM; development: issued once from the test PKI into {dir}/mqtt/; docs/security.md)
 *   RSP_DATABASE_URL              sqlite:///abs/path.db | postgres://… (default sqlite under RSP_DATA_DIR)
 *   RSP_DATABASE_SCHEMA           Postgres schema (optional)
 *   RSP_OWNER_REGISTRY_HTTP_PORT  HTTP port (default 8084); RSP_OWNER_REGISTRY_HTTP_HOST (default 127.0.0.1)
 *   RSP_OWNER_REGISTRY_URL        public base URL (device URLs, consent `iss`; default the HTTP URL)
 *   RSP_OIDC_ISSUERS              JSON [{ issuer, audience, jwksUri? }]; unset (development only): the dev IdP
 *                                 is started (RSP_DEV_IDP_PORT, default 8085; users alice / bob, client owner-portal)
 *   RSP_MAKERS                    JSON [{ makerId, makerDomain, apiKey }] (default oven-maker with
 *                                 RSP_DEMO_MAKER_API_KEY; development: generated once into {dir}/demo-maker-api-key)
 *   RSP_MNOS                      JSON [{ mnoId, apiKey, es2Url?, es2ApiKey?, smsrId?, acceptsTransfers? }]
 *                                 (default mno.demo with RSP_DEMO_MNO_API_KEY; development: {dir}/demo-mno-api-key)
 *   RSP_CONSENT_SIGNING_KEY_FILE  PEM P-256 consent-signing key (development: generated once into
 *                                 {dir}/owner-registry-consent-key.pem, so restarts keep consents valid);
 *                                 RSP_CONSENT_SIGNING_KEY_ID its kid (default from its RFC 7638 thumbprint);
 *                                 RSP_CONSENT_PREVIOUS_KEYS_FILE older public keys still accepted (JWKS JSON)
 *   RSP_DATA_DIR                  data directory (default ./data)
 */
import { isRspError } from '@rsp/errors';
import { createServiceLogger } from '@rsp/service-kit';
import { startOwnerRegistry } from './app';
import { loadOwnerRegistryConfig } from './config';
import { startDevIdp, OWNER_CLI_CLIENT_ID, OWNER_PORTAL_CLIENT_ID, type DevIdp } from './dev-idp/dev-idp';

async function main(): Promise<void> {
  const config = loadOwnerRegistryConfig();
  for (const notice of config.notices) console.warn(`registry ${notice}`);
  const printed: string[] = [];
  let devIdp: DevIdp | undefined;
  if (config.identity.kind === 'dev-idp') {
    // The portal client is added once the registry's address (its redirect URI) is known.
    devIdp = await startDevIdp({ port: config.identity.port, clients: [] });
    printed.push(`dev IdP  ${devIdp.issuer} (users alice / bob, password = user name)`);
  }
  const trustedIssuers = devIdp ? [{ issuer: devIdp.issuer, audience: [OWNER_PORTAL_CLIENT_ID, OWNER_CLI_CLIENT_ID] }] : config.identity.kind === 'issuers' ? config.identity.trustedIssuers : [];
  const registry = await startOwnerRegistry({
    ...(config.registryUrl ? { registryUrl: config.registryUrl } : {}),
    httpPort: config.http.port,
    httpHost: config.http.host,
    mqttUrl: config.mqtt.url,
    mqttCredentials: config.mqtt.credentials,
    mqttProtocolVersion: config.mqtt.protocolVersion,
    databaseUrl: config.database.url,
    ...(config.database.schema ? { databaseSchema: config.database.schema } : {}),
    ...(config.database.preparedStatements === false ? { databasePreparedStatements: false as const } : {}),
    trustedIssuers,
    makers: config.makers,
    mnos: config.mnos,
    consentSigningKey: config.consentKeys.signingKey,
    consentPreviousPublicKeys: config.consentKeys.previousPublicKeys,
    ...(devIdp ? { portal: { idpIssuer: devIdp.issuer, clientId: OWNER_PORTAL_CLIENT_ID } } : {}),
    logger: createServiceLogger('owner-registry'), // RSP_LOG_LEVEL sets the level, RSP_LOG_FORMAT json or text lines
  }).catch(async (error: unknown) => {
    await devIdp?.close();
    throw error;
  });
  if (devIdp) {
    const portalUrl = `${registry.httpUrl}/portal`;
    await devIdp.addClient({ clientId: OWNER_PORTAL_CLIENT_ID, redirectUris: [portalUrl], postLogoutRedirectUris: [portalUrl] });
    printed.push(`portal   ${portalUrl}`);
  }
  // Development API keys: the file, never the key.
  for (const { clientId, file } of config.apiKeyFiles) printed.push(`registry ${clientId} X-API-Key in ${file}`);
  console.log(`registry ${registry.registryUrl}: HTTP ${registry.httpUrl}, consent keys ${registry.jwksUrl}`);
  for (const line of printed) console.log(line);
  // SIGINT / SIGTERM run the registry's lifecycle hooks (owner-registry.module.ts); the dev IdP keeps
  // nothing worth a graceful stop (its state is in memory) and ends with the process.
  registry.app.enableShutdownHooks();
}

main().catch((error: unknown) => {
  console.error(`owner-registry start failed: ${isRspError(error) ? `${error.code}: ` : ''}${(error as Error).message}`);
  process.exit(1);
});
