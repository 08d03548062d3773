/**
 * The SM-SR's configuration (`npm run start:sm-sr`), validated at start: the settings schema (environment
 * variables, docs/configuration.md) and the typed configuration main.ts starts the SM-SR with.
 */
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import {
  apiKey,
  apiKeyFrom,
  choice,
  ConfigError,
  databaseConfig,
  databaseSettings,
  DEFAULT_MQTT_URL,
  filePath,
  flag,
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
export const DEMO_EUM_ID = 'eum.demo';
const HTTP = ['http:', 'https:'] as const;

/** Every setting of the SM-SR (RSP_ENV, RSP_DATA_DIR, RSP_MQTT_*, RSP_DATABASE_* come from the shared groups). */
export const smSrSettings = {
  ...runtimeSettings,
  RSP_SMSR_ID: withDefault(identifier(), 'smsr.demo'),
  RSP_SMSR_HTTP_PORT: port(8082),
  RSP_SMSR_HTTP_HOST: host('127.0.0.1'),
  ...mqttSettings,
  ...databaseSettings,
  /** The test PKI used for the files below that are unset (development only); default {data}/pki/nist. */
  RSP_PKI_DIR: filePath().optional(),
  RSP_CI_CERTIFICATE_FILE: filePath().optional(),
  RSP_EUM_CERTIFICATE_FILE: filePath().optional(),
  /** CERT.SR.ECDSA (GP 7F21) and SK.SR.ECDSA (PEM) for the ISD-R handover (Scenario#3). */
  RSP_SMSR_CERTIFICATE_FILE: filePath().optional(),
  RSP_SMSR_PRIVATE_KEY_FILE: filePath().optional(),
  RSP_SMSR_ISD_R_HANDOVER: flag(true),
  /** single: the only instance on its database (memory caches, no card leases); shared: several on one PostgreSQL; auto: single on SQLite, shared on PostgreSQL. */
  RSP_SMSR_INSTANCES: choice(['auto', 'single', 'shared'], 'auto'),
  RSP_SECRET_BOX_KEYS: secretBoxKeys().optional(),
  RSP_DEMO_MNO_API_KEY: apiKey().optional(),
  RSP_DEMO_MNO_WEBHOOK_URL: url(HTTP).optional(),
  RSP_DEMO_EUM_API_KEY: apiKey().optional(),
  /** The owner registry whose consents ES4 requires (unset: no owner checks). */
  RSP_OWNER_REGISTRY_URL: url(HTTP).optional(),
  RSP_OWNER_REGISTRY_JWKS_URL: url(HTTP).optional(),
};
export const smSrSchema = z.object(smSrSettings);

export interface SmSrConfig {
  mode: Mode;
  dataDir: string;
  smsrId: string;
  http: { port: number; host: string };
  mqtt: MqttConfig;
  database: DatabaseConfig;
  /** RSP_SMSR_INSTANCES; undefined = auto (app.ts `instances`). */
  instances?: 'single' | 'shared';
  pki: {
    ciCertificate: Buffer;
    eumCertificate: Buffer;
    /** Present when the ISD-R handover is on (RSP_SMSR_ISD_R_HANDOVER=1). @secret privateKey */
    isdRHandover?: { certificate: Buffer; privateKey: KeyObject };
  };
  /** @secret */
  secretBoxKeys: string;
  /** @secret apiKey */
  demoMno: { mnoId: string; apiKey: string; apiKeyFile?: string; webhookUrl?: string };
  /** @secret apiKey */
  demoEum: { eumId: string; apiKey?: string };
  ownerRegistry?: { issuer: string; jwks: string };
  /** Start-up lines (development files used or generated: paths only). */
  notices: string[];
}

/** The SM-SR's configuration from `env`; throws a ConfigError naming the setting. */
export function loadSmSrConfig(env: Environment = process.env): SmSrConfig {
  const settings = parseSettings(smSrSchema, env);
  const source = secretSource(settings);
  const pkiDir = settings.RSP_PKI_DIR ?? join(settings.RSP_DATA_DIR, 'pki', 'nist');
  const pkiFile = pkiFileReader(source, pkiDir);
  const notices: string[] = [];
  const handover = settings.RSP_SMSR_ISD_R_HANDOVER
    ? (() => {
        const privateKey = pkiFile('RSP_SMSR_PRIVATE_KEY_FILE', settings.RSP_SMSR_PRIVATE_KEY_FILE, 'smsrPrivateKey', (setting, file) => readPrivateKeyFile(setting, file));
        const certificate = pkiFile('RSP_SMSR_CERTIFICATE_FILE', settings.RSP_SMSR_CERTIFICATE_FILE, 'smsrCertificate', (setting, file) =>
          readGpCertificateFile(setting, file, 'sm-sr', { setting: 'RSP_SMSR_PRIVATE_KEY_FILE', key: privateKey }),
        );
        return { certificate, privateKey };
      })()
    : undefined;
  const secretBox = secretBoxKeysFrom(source, settings.RSP_SECRET_BOX_KEYS, 'sm-sr.secret-box-keys');
  const mnoKey = apiKeyFrom(source, 'RSP_DEMO_MNO_API_KEY', settings.RSP_DEMO_MNO_API_KEY, 'demo-mno-api-key');
  const registryUrl = settings.RSP_OWNER_REGISTRY_URL?.replace(/\/+$/, '');
  if (settings.RSP_OWNER_REGISTRY_JWKS_URL && !registryUrl) {
    throw new ConfigError.InvalidSetting([{ setting: 'RSP_OWNER_REGISTRY_URL', expected: 'expected the registry URL (the consents\' iss) when RSP_OWNER_REGISTRY_JWKS_URL is set' }]);
  }
  return {
    mode: settings.RSP_ENV,
    dataDir: settings.RSP_DATA_DIR,
    smsrId: settings.RSP_SMSR_ID,
    http: { port: settings.RSP_SMSR_HTTP_PORT, host: settings.RSP_SMSR_HTTP_HOST },
    mqtt: mqttConfig(settings, DEFAULT_MQTT_URL, mqttIdentity(source, settings, settings.RSP_SMSR_ID, pkiDir, notices)),
    database: databaseConfig(settings, sqliteFileUrl(settings.RSP_DATA_DIR, 'sm-sr.db')),
    ...(settings.RSP_SMSR_INSTANCES === 'auto' ? {} : { instances: settings.RSP_SMSR_INSTANCES }),
    pki: {
      ciCertificate: pkiFile('RSP_CI_CERTIFICATE_FILE', settings.RSP_CI_CERTIFICATE_FILE, 'ciCertificate', readX509CertificateFile),
      eumCertificate: pkiFile('RSP_EUM_CERTIFICATE_FILE', settings.RSP_EUM_CERTIFICATE_FILE, 'eumCertificate', readX509CertificateFile),
      ...(handover ? { isdRHandover: handover } : {}),
    },
    secretBoxKeys: secretBox.value,
    demoMno: {
      mnoId: DEMO_MNO_ID,
      apiKey: mnoKey.value,
      ...(mnoKey.file ? { apiKeyFile: mnoKey.file } : {}),
      ...(settings.RSP_DEMO_MNO_WEBHOOK_URL ? { webhookUrl: settings.RSP_DEMO_MNO_WEBHOOK_URL } : {}),
    },
    demoEum: { eumId: DEMO_EUM_ID, ...(settings.RSP_DEMO_EUM_API_KEY ? { apiKey: settings.RSP_DEMO_EUM_API_KEY } : {}) },
    ...(registryUrl ? { ownerRegistry: { issuer: registryUrl, jwks: settings.RSP_OWNER_REGISTRY_JWKS_URL ?? `${registryUrl}/.well-known/jwks.json` } } : {}),
    notices: [...notices, secretNotice('RSP_SECRET_BOX_KEYS', secretBox), secretNotice('RSP_DEMO_MNO_API_KEY', mnoKey)].filter((line) => line !== undefined),
  };
}
