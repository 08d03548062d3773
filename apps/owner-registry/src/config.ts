/**
 * The owner registry's configuration (`npm run start:owner-registry`), validated at start: the settings
 * schema (environment variables, docs/configuration.md) and the typed configuration main.ts starts with.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { TrustedIssuer } from '@rsp/identity';
import {
  apiKey,
  apiKeyField,
  apiKeyFrom,
  ConfigError,
  consentKeySettings,
  databaseConfig,
  databaseSettings,
  DEFAULT_MQTT_URL,
  host,
  ID_PATTERN,
  json,
  loadConsentKeys,
  mqttConfig,
  mqttIdentity,
  mqttSettings,
  parseSettings,
  port,
  runtimeSettings,
  secretNotice,
  secretSource,
  sqliteFileUrl,
  url,
  type ConsentKeys,
  type DatabaseConfig,
  type Environment,
  type Mode,
  type MqttConfig,
} from '@rsp/config';
import type { MakerConfig, MnoConfig } from './app';

const HTTP = ['http:', 'https:'] as const;
const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' });
const id = z.string().regex(ID_PATTERN, { message: 'expected an id of letters, digits, _ . : - (1 to 128)' });
const audience = z.string().min(1, { message: 'expected a client id' });

/** RSP_OIDC_ISSUERS entries: the OpenID providers whose ID tokens identify owners. */
const issuersSchema = z
  .array(z.strictObject({ issuer: httpUrl, audience: z.union([audience, z.array(audience).min(1)]), jwksUri: httpUrl.optional() }))
  .min(1, { message: 'expected at least one issuer' });
const makersSchema = z.array(
  z.strictObject({ makerId: id, makerDomain: z.string().regex(/^[A-Za-z0-9.-]{1,128}$/, { message: 'expected a host name' }), apiKey: apiKeyField() }),
);
const mnosSchema = z.array(
  z.strictObject({
    mnoId: id,
    apiKey: apiKeyField(),
    es2Url: httpUrl.optional(),
    es2ApiKey: apiKeyField().optional(),
    smsrId: id.optional(),
    acceptsTransfers: z.boolean().optional(),
  }),
);

/** Every setting of the owner registry (RSP_ENV, RSP_DATA_DIR, RSP_MQTT_*, RSP_DATABASE_*, RSP_CONSENT_* from the shared groups). */
export const ownerRegistrySettings = {
  ...runtimeSettings,
  RSP_OWNER_REGISTRY_HTTP_PORT: port(8084),
  RSP_OWNER_REGISTRY_HTTP_HOST: host('127.0.0.1'),
  /** Public base URL: device URLs and the consents' `iss` (default the HTTP URL). */
  RSP_OWNER_REGISTRY_URL: url(HTTP).optional(),
  ...mqttSettings,
  ...databaseSettings,
  RSP_OIDC_ISSUERS: json(issuersSchema, '[{ "issuer": URL, "audience": client id, "jwksUri"?: URL }]').optional(),
  /** The development IdP's port, when RSP_OIDC_ISSUERS is unset (development only). */
  RSP_DEV_IDP_PORT: port(8085),
  RSP_MAKERS: json(makersSchema, '[{ "makerId", "makerDomain", "apiKey" }]').optional(),
  RSP_MNOS: json(mnosSchema, '[{ "mnoId", "apiKey", "es2Url"?, "es2ApiKey"?, "smsrId"?, "acceptsTransfers"? }]').optional(),
  RSP_DEMO_MAKER_API_KEY: apiKey().optional(),
  RSP_DEMO_MNO_API_KEY: apiKey().optional(),
  ...consentKeySettings,
};
export const ownerRegistrySchema = z.object(ownerRegistrySettings);

export interface OwnerRegistryConfig {
  mode: Mode;
  dataDir: string;
  http: { port: number; host: string };
  registryUrl?: string;
  mqtt: MqttConfig;
  database: DatabaseConfig;
  /** Configured issuers, or the development IdP to start (never in production). */
  identity: { kind: 'issuers'; trustedIssuers: TrustedIssuer[] } | { kind: 'dev-idp'; port: number };
  /** @secret apiKey */
  makers: MakerConfig[];
  /** @secret apiKey, es2ApiKey */
  mnos: MnoConfig[];
  /** Files holding the demo API keys generated in development (printed instead of the keys). */
  apiKeyFiles: Array<{ clientId: string; file: string }>;
  /** @secret signingKey */
  consentKeys: ConsentKeys;
  /** Start-up lines (development files used or generated: paths only). */
  notices: string[];
}

/** The owner registry's configuration from `env`; throws a ConfigError naming the setting. */
export function loadOwnerRegistryConfig(env: Environment = process.env): OwnerRegistryConfig {
  const settings = parseSettings(ownerRegistrySchema, env);
  const source = secretSource(settings);
  if (source.mode === 'production' && !settings.RSP_OIDC_ISSUERS) {
    // The development IdP signs anyone in as alice or bob: never in production.
    throw new ConfigError.MissingSetting('RSP_OIDC_ISSUERS', '[{ "issuer": URL, "audience": client id }] (the development IdP is not started in production)');
  }
  const notices: string[] = [];
  const apiKeyFiles: OwnerRegistryConfig['apiKeyFiles'] = [];
  const demoKey = (setting: string, configured: string | undefined, file: string, clientId: string): string => {
    const resolved = apiKeyFrom(source, setting, configured, file);
    const notice = secretNotice(setting, resolved);
    if (notice) notices.push(notice);
    if (resolved.file) apiKeyFiles.push({ clientId, file: resolved.file });
    return resolved.value;
  };
  const makers = settings.RSP_MAKERS ?? [
    { makerId: 'oven-maker', makerDomain: 'oven-maker.example', apiKey: demoKey('RSP_DEMO_MAKER_API_KEY', settings.RSP_DEMO_MAKER_API_KEY, 'demo-maker-api-key', 'oven-maker') },
  ];
  const mnos = settings.RSP_MNOS ?? [{ mnoId: 'mno.demo', apiKey: demoKey('RSP_DEMO_MNO_API_KEY', settings.RSP_DEMO_MNO_API_KEY, 'demo-mno-api-key', 'mno.demo') }];
  const consent = loadConsentKeys(source, settings);
  const consentNotice = secretNotice('RSP_CONSENT_SIGNING_KEY_FILE', consent);
  if (consentNotice) notices.push(consentNotice);
  return {
    mode: settings.RSP_ENV,
    dataDir: settings.RSP_DATA_DIR,
    http: { port: settings.RSP_OWNER_REGISTRY_HTTP_PORT, host: settings.RSP_OWNER_REGISTRY_HTTP_HOST },
    ...(settings.RSP_OWNER_REGISTRY_URL ? { registryUrl: settings.RSP_OWNER_REGISTRY_URL } : {}),
    // The registry's broker identity is `owner-registry` (the principal npm start and mosquitto:config list).
    mqtt: mqttConfig(settings, DEFAULT_MQTT_URL, mqttIdentity(source, settings, 'owner-registry', join(settings.RSP_DATA_DIR, 'pki', 'nist'), notices)),
    database: databaseConfig(settings, sqliteFileUrl(settings.RSP_DATA_DIR, 'owner-registry.db')),
    identity: settings.RSP_OIDC_ISSUERS ? { kind: 'issuers', trustedIssuers: settings.RSP_OIDC_ISSUERS } : { kind: 'dev-idp', port: settings.RSP_DEV_IDP_PORT },
    makers,
    mnos,
    apiKeyFiles,
    consentKeys: consent.keys,
    notices,
  };
}
