/**
 * `npm run start:owner-registry`: the owner registry from the environment.
 *
 *   RSP_MQTT_URL                  broker (default mqtt://127.0.0.1:1883)
 *   RSP_DATABASE_URL              sqlite:///abs/path.db | postgres://… (default sqlite under RSP_DATA_DIR)
 *   RSP_DATABASE_SCHEMA           Postgres schema (optional)
 *   RSP_OWNER_REGISTRY_HTTP_PORT  HTTP port (default 8084); RSP_OWNER_REGISTRY_HTTP_HOST (default 127.0.0.1)
 *   RSP_OWNER_REGISTRY_URL        public base URL (device URLs, consent `iss`; default the HTTP URL)
 *   RSP_OIDC_ISSUERS              JSON [{ issuer, audience, jwksUri? }]; unset: the dev IdP is started
 *                                 (RSP_DEV_IDP_PORT, default 8085; users alice / bob, client owner-portal)
 *   RSP_MAKERS                    JSON [{ makerId, makerDomain, apiKey }] (default oven-maker, key printed once)
 *   RSP_MNOS                      JSON [{ mnoId, apiKey, es2Url?, es2ApiKey?, smsrId?, acceptsTransfers? }]
 *                                 (default mno.demo with RSP_DEMO_MNO_API_KEY, or a random key printed once)
 *   RSP_DATA_DIR                  data directory (default ./data): the consent-signing key is kept in
 *                                 {dir}/owner-registry-consent-key.pem so restarts keep the JWKS
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isRspError } from '@rsp/errors';
import type { TrustedIssuer } from '@rsp/identity';
import { startOwnerRegistry, type ConsentSigningKey, type MakerConfig, type MnoConfig } from './app';
import { startDevIdp, OWNER_PORTAL_CLIENT_ID } from './dev-idp/dev-idp';

function port(setting: string, fallback: number): number {
  const value = Number(process.env[setting] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${setting} must be a port number, got "${process.env[setting]}"`);
  return value;
}

function json<T>(setting: string): T | undefined {
  const raw = process.env[setting];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new Error(`${setting} must be JSON`);
  }
}

/** The consent-signing key, generated once into the data directory (demo; production mounts its own file). */
function consentKey(dataDir: string): ConsentSigningKey {
  const file = join(dataDir, 'owner-registry-consent-key.pem');
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  }
  const pem = readFileSync(file, 'utf8');
  return { privateKey: createPrivateKey(pem), kid: `consent-${createHash('sha256').update(pem).digest('hex').slice(0, 16)}` };
}

async function main(): Promise<void> {
  const dataDir = resolve(process.env.RSP_DATA_DIR ?? 'data');
  mkdirSync(dataDir, { recursive: true });
  const printed: string[] = [];
  let trustedIssuers = json<TrustedIssuer[]>('RSP_OIDC_ISSUERS');
  let closeIdp: (() => Promise<void>) | undefined;
  let devIdp: Awaited<ReturnType<typeof startDevIdp>> | undefined;
  if (!trustedIssuers) {
    // The portal client is added once the registry's address (its redirect URI) is known.
    const idp = await startDevIdp({ port: port('RSP_DEV_IDP_PORT', 8085), clients: [] });
    devIdp = idp;
    closeIdp = () => idp.close();
    trustedIssuers = [{ issuer: idp.issuer, audience: OWNER_PORTAL_CLIENT_ID }];
    printed.push(`dev IdP  ${idp.issuer} (users alice / bob, password = user name)`);
  }
  let makers = json<MakerConfig[]>('RSP_MAKERS');
  if (!makers) {
    const apiKey = randomBytes(18).toString('base64url');
    makers = [{ makerId: 'oven-maker', makerDomain: 'oven-maker.example', apiKey }];
    printed.push(`registry oven-maker X-API-Key: ${apiKey}`);
  }
  let mnos = json<MnoConfig[]>('RSP_MNOS');
  if (!mnos) {
    const apiKey = process.env.RSP_DEMO_MNO_API_KEY ?? randomBytes(18).toString('base64url');
    mnos = [{ mnoId: 'mno.demo', apiKey }];
    if (!process.env.RSP_DEMO_MNO_API_KEY) printed.push(`registry mno.demo X-API-Key: ${apiKey}`);
  }
  const registry = await startOwnerRegistry({
    ...(process.env.RSP_OWNER_REGISTRY_URL ? { registryUrl: process.env.RSP_OWNER_REGISTRY_URL } : {}),
    httpPort: port('RSP_OWNER_REGISTRY_HTTP_PORT', 8084),
    httpHost: process.env.RSP_OWNER_REGISTRY_HTTP_HOST ?? '127.0.0.1',
    mqttUrl: process.env.RSP_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
    databaseUrl: process.env.RSP_DATABASE_URL ?? `sqlite://${join(dataDir, 'owner-registry.db')}`,
    ...(process.env.RSP_DATABASE_SCHEMA ? { databaseSchema: process.env.RSP_DATABASE_SCHEMA } : {}),
    trustedIssuers,
    makers,
    mnos,
    consentSigningKey: consentKey(dataDir),
    ...(devIdp ? { portal: { idpIssuer: devIdp.issuer, clientId: OWNER_PORTAL_CLIENT_ID } } : {}),
  });
  if (devIdp) {
    const portalUrl = `${registry.httpUrl}/portal`;
    await devIdp.addClient({ clientId: OWNER_PORTAL_CLIENT_ID, redirectUris: [portalUrl], postLogoutRedirectUris: [portalUrl] });
    printed.push(`portal   ${portalUrl}`);
  }
  console.log(`registry ${registry.registryUrl}: HTTP ${registry.httpUrl}, consent keys ${registry.jwksUrl}`);
  for (const line of printed) console.log(line);
  const stop = async (): Promise<void> => {
    await registry.close();
    await closeIdp?.();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(`owner-registry start failed: ${isRspError(error) ? `${error.code}: ` : ''}${(error as Error).message}`);
  process.exit(1);
});
