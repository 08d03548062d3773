/**
 * The whole-stack configuration of `npm start` (scripts/start.ts), composed from the apps' schemas: the
 * same setting names, checks and defaults as each service run alone (apps/{sm-sr,sm-dp,owner-registry}/
 * src/config.ts), plus what only the in-process stack has (embedded broker, device API, shared keys).
 * docs/configuration.md lists them all.
 */
import { z } from 'zod';
import {
  apiKeyFrom,
  consentKeySettings,
  databaseSettings,
  host,
  loadConsentKeys,
  mqttConfig,
  mqttSettings,
  parseSettings,
  port,
  runtimeSettings,
  secretBoxKeysFrom,
  secretNotice,
  secretSource,
  url,
  type ConsentKeys,
  type Environment,
  type Mode,
} from '@rsp/config';
import { ownerRegistrySettings } from '../apps/owner-registry/src/config';
import { smDpSettings } from '../apps/sm-dp/src/config';
import { smSrSettings } from '../apps/sm-sr/src/config';
import type { StackDatabase } from './stack';

export const stackSettings = {
  ...runtimeSettings,
  ...mqttSettings,
  /** Unset RSP_MQTT_URL: the embedded aedes broker listens here. */
  RSP_MQTT_PORT: port(8883), // TLS (client certificates): the MQTT-over-TLS port
  RSP_MQTT_HOST: host('127.0.0.1'),
  /** Unset: SQLite files in the data directory; PostgreSQL: one schema per service. */
  RSP_DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  RSP_DATABASE_PREPARED_STATEMENTS: databaseSettings.RSP_DATABASE_PREPARED_STATEMENTS,
  RSP_SMSR_ID: smSrSettings.RSP_SMSR_ID,
  RSP_SMSR_HTTP_PORT: smSrSettings.RSP_SMSR_HTTP_PORT,
  RSP_SMDP_ID: smDpSettings.RSP_SMDP_ID,
  RSP_SMDP_HTTP_PORT: smDpSettings.RSP_SMDP_HTTP_PORT,
  RSP_OWNER_REGISTRY_HTTP_PORT: ownerRegistrySettings.RSP_OWNER_REGISTRY_HTTP_PORT,
  RSP_OWNER_REGISTRY_URL: ownerRegistrySettings.RSP_OWNER_REGISTRY_URL,
  RSP_DEV_IDP_PORT: ownerRegistrySettings.RSP_DEV_IDP_PORT,
  RSP_SIM_API_PORT: port(8083),
  /** The operator console (docs/console.md). */
  RSP_CONSOLE_PORT: port(8086),
  /** One SecretBox configuration for both services. */
  RSP_SECRET_BOX_KEYS: smSrSettings.RSP_SECRET_BOX_KEYS,
  RSP_DEMO_MNO_API_KEY: smDpSettings.RSP_DEMO_MNO_API_KEY,
  RSP_DEMO_MAKER_API_KEY: ownerRegistrySettings.RSP_DEMO_MAKER_API_KEY,
  /** The second demo MNO (porting's recipient); production has none unless this is set. */
  RSP_DEMO_SECOND_MNO_API_KEY: smDpSettings.RSP_DEMO_MNO_API_KEY,
  ...consentKeySettings,
};
export const stackSchema = z.object(stackSettings);

export interface StackConfig {
  mode: Mode;
  dataDir: string;
  /** `url` set: that broker; else the embedded one on `embedded`. */
  mqtt: { url: string | undefined; protocolVersion: 4 | 5; embedded: { port: number; host: string } };
  database: StackDatabase;
  ids: { smsrId: string; smdpId: string };
  ports: { smdp: number; smsr: number; simApi: number; registry: number; devIdp: number; console: number };
  /** The registry's public URL: consents' `iss` and device URL base, fixed before anything starts. */
  registryUrl: string;
  /** @secret */
  secretBoxKeys: string;
  /** @secret apiKey */
  demoMno: { apiKey: string; apiKeyFile?: string };
  /** @secret apiKey */
  demoMaker: { apiKey: string; apiKeyFile?: string };
  /** The second demo MNO, so porting can be tried (none in production unless RSP_DEMO_SECOND_MNO_API_KEY is set). @secret apiKey */
  secondMno?: { apiKey: string; apiKeyFile?: string };
  /** @secret signingKey */
  consentKeys: ConsentKeys;
  /** Start-up lines (development files used or generated: paths only). */
  notices: string[];
}

/** The API key files `npm start` writes into its data directory in development (and tools read back). */
export const DEMO_KEY_FILES = { mno: 'demo-mno-api-key', secondMno: 'demo-second-mno-api-key', maker: 'demo-maker-api-key' } as const;

/** `npm start`'s configuration from `env`; throws a ConfigError naming the setting. */
export function loadStackConfig(env: Environment = process.env): StackConfig {
  const settings = parseSettings(stackSchema, env);
  const source = secretSource(settings);
  const secretBox = secretBoxKeysFrom(source, settings.RSP_SECRET_BOX_KEYS, 'secret-box-keys');
  const mnoKey = apiKeyFrom(source, 'RSP_DEMO_MNO_API_KEY', settings.RSP_DEMO_MNO_API_KEY, DEMO_KEY_FILES.mno);
  const makerKey = apiKeyFrom(source, 'RSP_DEMO_MAKER_API_KEY', settings.RSP_DEMO_MAKER_API_KEY, DEMO_KEY_FILES.maker);
  const secondKey =
    settings.RSP_ENV === 'production' && settings.RSP_DEMO_SECOND_MNO_API_KEY === undefined
      ? undefined
      : apiKeyFrom(source, 'RSP_DEMO_SECOND_MNO_API_KEY', settings.RSP_DEMO_SECOND_MNO_API_KEY, DEMO_KEY_FILES.secondMno);
  const consent = loadConsentKeys(source, settings);
  const registryPort = settings.RSP_OWNER_REGISTRY_HTTP_PORT;
  return {
    mode: settings.RSP_ENV,
    dataDir: settings.RSP_DATA_DIR,
    mqtt: { ...mqttConfig(settings), embedded: { port: settings.RSP_MQTT_PORT, host: settings.RSP_MQTT_HOST } },
    database: settings.RSP_DATABASE_URL
      ? { kind: 'postgres', url: settings.RSP_DATABASE_URL, ...(settings.RSP_DATABASE_PREPARED_STATEMENTS ? {} : { preparedStatements: false as const }) }
      : { kind: 'sqlite', dir: settings.RSP_DATA_DIR },
    ids: { smsrId: settings.RSP_SMSR_ID, smdpId: settings.RSP_SMDP_ID },
    ports: { smdp: settings.RSP_SMDP_HTTP_PORT, smsr: settings.RSP_SMSR_HTTP_PORT, simApi: settings.RSP_SIM_API_PORT, registry: registryPort, devIdp: settings.RSP_DEV_IDP_PORT, console: settings.RSP_CONSOLE_PORT },
    registryUrl: settings.RSP_OWNER_REGISTRY_URL ?? (registryPort === 0 ? 'https://owner-registry.rsp.invalid' : `http://127.0.0.1:${registryPort}`),
    secretBoxKeys: secretBox.value,
    demoMno: { apiKey: mnoKey.value, ...(mnoKey.file ? { apiKeyFile: mnoKey.file } : {}) },
    demoMaker: { apiKey: makerKey.value, ...(makerKey.file ? { apiKeyFile: makerKey.file } : {}) },
    ...(secondKey ? { secondMno: { apiKey: secondKey.value, ...(secondKey.file ? { apiKeyFile: secondKey.file } : {}) } } : {}),
    consentKeys: consent.keys,
    notices: [
      secretNotice('RSP_SECRET_BOX_KEYS', secretBox),
      secretNotice('RSP_DEMO_MNO_API_KEY', mnoKey),
      secretNotice('RSP_DEMO_MAKER_API_KEY', makerKey),
      secondKey ? secretNotice('RSP_DEMO_SECOND_MNO_API_KEY', secondKey) : undefined,
      secretNotice('RSP_CONSENT_SIGNING_KEY_FILE', consent),
    ].filter((line) => line !== undefined),
  };
}
