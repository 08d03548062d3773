/**
 * The SM-DP's configuration (`npm run start:sm-dp`), validated at start: the settings schema (environment
 * variables, docs/configuration.md) and the typed configuration main.ts starts the SM-DP with.
 */
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import {
  apiKey,
  apiKeyFrom,
  ConfigError,
  databaseConfig,
  databaseSettings,
  DEFAULT_MQTT_URL,
  filePath,
  host,
  identifier,
  mqttConfig,
  mqttIdentity,
  mqttSettings,
  parseSettings,
  pkiFileReader,
  port,
  readGpCertificateFile,
  readPrivateKeyFile,
  readX509CertificateFile,
  runtimeSettings,
  secretBoxKeys,
  secretBoxKeysFrom,
  secretNotice,
  secretSource,
  sqliteFileUrl,
  url,
  withDefault,
  type DatabaseConfig,
  type Environment,
  type Mode,
  type MqttConfig,
} from '@rsp/config';

export const DEMO_MNO_ID = 'mno.demo';
const HTTP = ['http:', 'https:'] as const;

/** Every setting of the SM-DP (RSP_ENV, RSP_DATA_DIR, RSP_MQTT_*, RSP_DATABASE_* come from the shared groups). */
export const smDpSettings = {
  ...runtimeSettings,
  RSP_SMDP_ID: withDefault(identifier(), 'smdp.demo'),
  RSP_SMDP_HTTP_PORT: port(8081),
  RSP_SMDP_HTTP_HOST: host('127.0.0.1'),
  ...mqttSettings,
  ...databaseSettings,
  /** The test PKI used for the files below that are unset (development only); default {data}/pki/nist. */
  RSP_PKI_DIR: filePath().optional(),
  RSP_CI_CERTIFICATE_FILE: filePath().optional(),
  RSP_EUM_CERTIFICATE_FILE: filePath().optional(),
  /** CERT.DP.ECDSA (GP 7F21) and SK.DP.ECDSA (PEM), sent and used in ES8 key establishment (Scenario#3). */
  RSP_SMDP_CERTIFICATE_FILE: filePath().optional(),
  RSP_SMDP_PRIVATE_KEY_FILE: filePath().optional(),
  RSP_SECRET_BOX_KEYS: secretBoxKeys().optional(),
  RSP_DEMO_MNO_API_KEY: apiKey().optional(),
  /** The owner registry whose consents ES2 requires (unset: no owner checks). */
  RSP_OWNER_REGISTRY_URL: url(HTTP).optional(),
  RSP_OWNER_REGISTRY_JWKS_URL: url(HTTP).optional(),
};
export const smDpSchema = z.object(smDpSettings);

export interface SmDpConfig {
  mode: Mode;
  dataDir: string;
  smdpId: string;
  http: { port: number; host: string };
  mqtt: MqttConfig;
  database: DatabaseConfig;
  /** @secret privateKey */
  pki: { ciCertificate: Buffer; eumCertificates: Buffer[]; certificate: Buffer; privateKey: KeyObject };
  /** @secret */
  secretBoxKeys: string;
  /** @secret apiKey */
  demoMno: { mnoId: string; apiKey: string; apiKeyFile?: string };
  ownerRegistry?: { issuer: string; jwks: string };
  /** Start-up lines (development files used or generated: paths only). */
  notices: string[];
}

/** The SM-DP's configuration from `env`; throws a ConfigError naming the setting. */
export function loadSmDpConfig(env: Environment = process.env): SmDpConfig {
  const settings = parseSettings(smDpSchema, env);
  const source = secretSource(settings);
  const pkiDir = settings.RSP_PKI_DIR ?? join(settings.RSP_DATA_DIR, 'pki', 'nist');
  const pkiFile = pkiFileReader(source, pkiDir);
  const notices: string[] = [];
  const privateKey = pkiFile('RSP_SMDP_PRIVATE_KEY_FILE', settings.RSP_SMDP_PRIVATE_KEY_FILE, 'smdpPrivateKey', (setting, file) => readPrivateKeyFile(setting, file));
  const certificate = pkiFile('RSP_SMDP_CERTIFICATE_FILE', settings.RSP_SMDP_CERTIFICATE_FILE, 'smdpCertificate', (setting, file) =>
    readGpCertificateFile(setting, file, 'sm-dp', { setting: 'RSP_SMDP_PRIVATE_KEY_FILE', key: privateKey }),
  );
  const secretBox = secretBoxKeysFrom(source, settings.RSP_SECRET_BOX_KEYS, 'sm-dp-secret-box.key');
  const mnoKey = apiKeyFrom(source, 'RSP_DEMO_MNO_API_KEY', settings.RSP_DEMO_MNO_API_KEY, 'demo-mno-api-key');
  const registryUrl = settings.RSP_OWNER_REGISTRY_URL?.replace(/\/+$/, '');
  if (settings.RSP_OWNER_REGISTRY_JWKS_URL && !registryUrl) {
    throw new ConfigError.InvalidSetting([{ setting: 'RSP_OWNER_REGISTRY_URL', expected: "expected the registry URL (the consents' iss) when RSP_OWNER_REGISTRY_JWKS_URL is set" }]);
  }
  return {
    mode: settings.RSP_ENV,
    dataDir: settings.RSP_DATA_DIR,
    smdpId: settings.RSP_SMDP_ID,
    http: { port: settings.RSP_SMDP_HTTP_PORT, host: settings.RSP_SMDP_HTTP_HOST },
    mqtt: mqttConfig(settings, DEFAULT_MQTT_URL, mqttIdentity(source, settings, settings.RSP_SMDP_ID, pkiDir, notices)),
    database: databaseConfig(settings, sqliteFileUrl(settings.RSP_DATA_DIR, 'sm-dp.db')),
    pki: {
      ciCertificate: pkiFile('RSP_CI_CERTIFICATE_FILE', settings.RSP_CI_CERTIFICATE_FILE, 'ciCertificate', readX509CertificateFile),
      eumCertificates: [pkiFile('RSP_EUM_CERTIFICATE_FILE', settings.RSP_EUM_CERTIFICATE_FILE, 'eumCertificate', readX509CertificateFile)],
      certificate,
      privateKey,
    },
    secretBoxKeys: secretBox.value,
    demoMno: { mnoId: DEMO_MNO_ID, apiKey: mnoKey.value, ...(mnoKey.file ? { apiKeyFile: mnoKey.file } : {}) },
    ...(registryUrl ? { ownerRegistry: { issuer: registryUrl, jwks: settings.RSP_OWNER_REGISTRY_JWKS_URL ?? `${registryUrl}/.well-known/jwks.json` } } : {}),
    notices: [...notices, secretNotice('RSP_SECRET_BOX_KEYS', secretBox), secretNotice('RSP_DEMO_MNO_API_KEY', mnoKey)].filter((line) => line !== undefined),
  };
}

/**
 * RSP_TEST_PAUSE_AT_STEP, the hook test/e2e/crash-recovery.spec.ts kills the SM-DP at (a download's first
 * run of that step waits forever). Read where the SM-DP's module is built, so every way of starting it
 * (its main, `npm start`, the stack) sees it; refused under RSP_ENV=production, where it would stall
 * downloads, so it can never be left on there.
 */
export function testPauseAtStep(env: Environment): string | undefined {
  const step = env['RSP_TEST_PAUSE_AT_STEP'];
  if (!step) return undefined;
  if (parseSettings(z.object({ RSP_ENV: runtimeSettings.RSP_ENV }), env).RSP_ENV === 'production') {
    throw new ConfigError.InvalidSetting([{ setting: 'RSP_TEST_PAUSE_AT_STEP', expected: 'unset in production (RSP_ENV=production): a test hook that stops downloads' }]);
  }
  return step;
}
