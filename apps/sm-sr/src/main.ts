/**
 * `npm run start:sm-sr`: one SM-SR from the environment (docs/services.md).
 *
 *   RSP_SMSR_ID                 SM-SR id (default smsr.demo)
 *   RSP_MQTT_URL                broker (default mqtt://127.0.0.1:1883); RSP_MQTT_PROTOCOL_VERSION 4 | 5 (default 4)
 *   RSP_DATABASE_URL            sqlite:///abs/path.db | postgres://… (default sqlite://{RSP_DATA_DIR}/sm-sr.db)
 *   RSP_DATABASE_SCHEMA         Postgres schema (optional)
 *   RSP_SMSR_HTTP_PORT          HTTP port (default 8082); RSP_SMSR_HTTP_HOST (default 127.0.0.1)
 *   RSP_DATA_DIR                data directory (default ./data); the test PKI is read from {dir}/pki/nist
 *   RSP_SECRET_BOX_KEYS         id:base64key[,…] sealing ISD-R keys at rest. Unset: a development key is
 *                               generated once in {dir}/sm-sr.secret-box-keys (never do that in production)
 *   RSP_DEMO_MNO_API_KEY        API key of the demo MNO `mno.demo` (unset: a random one, printed)
 *   RSP_DEMO_MNO_WEBHOOK_URL    webhook for the demo MNO's ES4 notifications (optional)
 *   RSP_DEMO_EUM_API_KEY        API key the demo EUM `eum.demo` must send on ES1 (unset: its EIS signature authenticates it)
 *   RSP_SMSR_ISD_R_HANDOVER     1 (default): replace each card's EUM ISD-R key set by the SM-SR's own (Scenario#3
 *                               with CERT.SR.ECDSA of the test PKI) before its first ES5 exchange; 0: keep the EUM's
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isRspError } from '@rsp/errors';
import { SecretBox } from '@rsp/persistence';
import { readTestPki } from '@rsp/pki';
import { startSmSr } from './app';

function port(setting: string, fallback: number): number {
  const value = Number(process.env[setting] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${setting} must be a port number, got "${process.env[setting]}"`);
  return value;
}

function secretBoxKeys(dataDir: string): string {
  const configured = process.env.RSP_SECRET_BOX_KEYS;
  if (configured) return configured;
  const file = join(dataDir, 'sm-sr.secret-box-keys');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `dev:${SecretBox.generateKey().toString('base64')}\n`, { mode: 0o600 });
  }
  console.warn(`sm-sr    RSP_SECRET_BOX_KEYS unset: using the development key in ${file}`);
  return readFileSync(file, 'utf8').trim();
}

async function main(): Promise<void> {
  const dataDir = resolve(process.env.RSP_DATA_DIR ?? 'data');
  const pki = readTestPki(join(dataDir, 'pki', 'nist'), 'P-256');
  const mnoApiKey = process.env.RSP_DEMO_MNO_API_KEY ?? randomBytes(18).toString('base64url');
  const version = Number(process.env.RSP_MQTT_PROTOCOL_VERSION ?? 4);
  const handle = await startSmSr({
    smsrId: process.env.RSP_SMSR_ID ?? 'smsr.demo',
    httpPort: port('RSP_SMSR_HTTP_PORT', 8082),
    httpHost: process.env.RSP_SMSR_HTTP_HOST ?? '127.0.0.1',
    mqttUrl: process.env.RSP_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
    mqttProtocolVersion: version === 5 ? 5 : 4,
    databaseUrl: process.env.RSP_DATABASE_URL ?? `sqlite://${join(dataDir, 'sm-sr.db')}`,
    ...(process.env.RSP_DATABASE_SCHEMA ? { databaseSchema: process.env.RSP_DATABASE_SCHEMA } : {}),
    ciCertificate: pki.ci.der,
    eums: [{ eumId: 'eum.demo', certificate: pki.eum.der, ...(process.env.RSP_DEMO_EUM_API_KEY ? { apiKey: process.env.RSP_DEMO_EUM_API_KEY } : {}) }],
    mnos: [{ mnoId: 'mno.demo', apiKey: mnoApiKey, ...(process.env.RSP_DEMO_MNO_WEBHOOK_URL ? { webhookUrl: process.env.RSP_DEMO_MNO_WEBHOOK_URL } : {}) }],
    secretBoxKeys: secretBoxKeys(dataDir),
    ...(process.env.RSP_SMSR_ISD_R_HANDOVER === '0' ? {} : { smsrCertificate: pki.smSr.cert, smsrPrivateKey: pki.smSr.privateKey }),
    logger: console,
  });
  console.log(`sm-sr    ${handle.smsrId} on ${handle.httpUrl} (OpenAPI ${handle.httpUrl}/docs)`);
  if (!process.env.RSP_DEMO_MNO_API_KEY) console.log(`sm-sr    ES4 API key of mno.demo: ${mnoApiKey}`);
  const stop = async (): Promise<void> => {
    await handle.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(`sm-sr failed: ${isRspError(error) ? `${error.code}: ` : ''}${(error as Error).message}`);
  process.exit(1);
});
