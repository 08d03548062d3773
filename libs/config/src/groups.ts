/**
 * Setting groups every app's schema spreads in (`z.object({ ...runtimeSettings, ...mqttSettings, … })`),
 * with the functions that turn a group's parsed settings into the options the apps take.
 */
import type { MqttCredentials } from '@rsp/mqtt-transport';
import type { SettingsOf } from './load';
import { mqttIdentityFrom } from './mqtt-identity';
import type { SecretSource } from './secrets';
import { choice, databaseUrl, directory, filePath, flag, mode, sqlIdentifier, url } from './settings';

/** RSP_ENV and RSP_DATA_DIR: what may be generated, and where. */
export const runtimeSettings = {
  RSP_ENV: mode(),
  RSP_DATA_DIR: directory('data'),
};
export type RuntimeSettings = SettingsOf<typeof runtimeSettings>;

export const secretSource = (settings: RuntimeSettings): SecretSource => ({ mode: settings.RSP_ENV, dataDir: settings.RSP_DATA_DIR });

export const MQTT_PROTOCOLS = ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'] as const;
/** The broker a service alone connects to by default: `npm start`'s embedded broker (TLS, port 8883). */
export const DEFAULT_MQTT_URL = 'mqtts://127.0.0.1:8883';

/**
 * The broker connection, the same in every app: the URL, the protocol, and the service's broker identity
 * (a TLS client certificate, its key and the broker's CA; mqtt-identity.ts).
 */
export const mqttSettings = {
  RSP_MQTT_URL: url(MQTT_PROTOCOLS).optional(),
  RSP_MQTT_PROTOCOL_VERSION: choice(['4', '5'], '4'),
  RSP_MQTT_CA_FILE: filePath().optional(),
  RSP_MQTT_CERT_FILE: filePath().optional(),
  RSP_MQTT_KEY_FILE: filePath().optional(),
};
export type MqttSettings = SettingsOf<typeof mqttSettings>;

export interface MqttConfig {
  url: string;
  protocolVersion: 4 | 5;
  /** @secret key — the service's broker identity. */
  credentials: MqttCredentials;
}

/**
 * The service's broker identity (principal = its id): the RSP_MQTT_*_FILE settings, or in development one
 * issued once from the test PKI in `pkiDir` into `{data}/mqtt/`. Notices go to `notices` (paths only).
 */
export function mqttIdentity(source: SecretSource, settings: MqttSettings, principal: string, pkiDir: string, notices: string[]): MqttCredentials {
  const resolved = mqttIdentityFrom(source, settings, principal, pkiDir);
  if (resolved.notice) notices.push(resolved.notice);
  return resolved.credentials;
}

/** The `mqtt` group of an app's configuration; `defaultUrl` when RSP_MQTT_URL is unset. */
export function mqttConfig(settings: MqttSettings, defaultUrl: string, credentials: MqttCredentials): MqttConfig;
/** The same without a default or identity (the whole stack starts its embedded broker and issues its identities). */
export function mqttConfig(settings: MqttSettings): { url: string | undefined; protocolVersion: 4 | 5 };
export function mqttConfig(settings: MqttSettings, defaultUrl?: string, credentials?: MqttCredentials): Omit<MqttConfig, 'url' | 'credentials'> & { url: string | undefined; credentials?: MqttCredentials } {
  return { url: settings.RSP_MQTT_URL ?? defaultUrl, protocolVersion: settings.RSP_MQTT_PROTOCOL_VERSION === '5' ? 5 : 4, ...(credentials ? { credentials } : {}) };
}

/** RSP_DATABASE_URL, RSP_DATABASE_SCHEMA and RSP_DATABASE_PREPARED_STATEMENTS. */
export const databaseSettings = {
  RSP_DATABASE_URL: databaseUrl().optional(),
  RSP_DATABASE_SCHEMA: sqlIdentifier().optional(),
  RSP_DATABASE_PREPARED_STATEMENTS: flag(true),
};
export type DatabaseSettings = SettingsOf<typeof databaseSettings>;

export interface DatabaseConfig {
  url: string;
  schema?: string;
  /** false: PostgreSQL statements all unnamed (a pooler that cannot keep prepared statements); absent: prepared. */
  preparedStatements?: false;
}

/** The `database` group; `defaultUrl` (a SQLite file in the data directory) when RSP_DATABASE_URL is unset. */
export function databaseConfig(settings: DatabaseSettings, defaultUrl: string): DatabaseConfig {
  return {
    url: settings.RSP_DATABASE_URL ?? defaultUrl,
    ...(settings.RSP_DATABASE_SCHEMA ? { schema: settings.RSP_DATABASE_SCHEMA } : {}),
    ...(settings.RSP_DATABASE_PREPARED_STATEMENTS === false ? { preparedStatements: false as const } : {}),
  };
}
