/**
 * `npm run start:sm-dp`: the SM-DP from the environment.
 *
 *   RSP_MQTT_URL          broker (default mqtt://127.0.0.1:1883)
 *   RSP_DATABASE_URL      sqlite:///abs/path.db | postgres://… (default sqlite under RSP_DATA_DIR)
 *   RSP_DATABASE_SCHEMA   Postgres schema (optional)
 *   RSP_SMDP_HTTP_PORT    ES2 / inventory / OpenAPI port (default 8081)
 *   RSP_SMDP_ID           default smdp.demo
 *   RSP_DATA_DIR          data directory (default ./data); the test PKI is read from {dir}/pki/nist
 *   RSP_SECRET_BOX_KEYS   id:base64key[,…] (default: a key generated once into {dir}/sm-dp-secret-box.key)
 *   RSP_DEMO_MNO_API_KEY  API key of mno.demo (default: a fresh random key, printed once)
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isRspError } from '@rsp/errors';
import { SecretBox } from '@rsp/persistence';
import { readTestPki } from '@rsp/pki';
import { startSmDp } from './app';

function port(setting: string, fallback: number): number {
  const value = Number(process.env[setting] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${setting} must be a port number, got "${process.env[setting]}"`);
  return value;
}

/** A SecretBox key generated once and kept in the data directory (demo only: production sets RSP_SECRET_BOX_KEYS). */
function secretBoxKeys(dataDir: string): string {
  if (process.env.RSP_SECRET_BOX_KEYS) return process.env.RSP_SECRET_BOX_KEYS;
  const file = join(dataDir, 'sm-dp-secret-box.key');
  if (!existsSync(file)) writeFileSync(file, `k1:${SecretBox.generateKey().toString('base64')}\n`, { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function main(): Promise<void> {
  const dataDir = resolve(process.env.RSP_DATA_DIR ?? 'data');
  mkdirSync(dataDir, { recursive: true });
  const pki = readTestPki(join(dataDir, 'pki', 'nist'), 'P-256');
  const apiKey = process.env.RSP_DEMO_MNO_API_KEY ?? randomBytes(18).toString('base64url');
  const smdp = await startSmDp({
    smdpId: process.env.RSP_SMDP_ID ?? 'smdp.demo',
    httpPort: port('RSP_SMDP_HTTP_PORT', 8081),
    httpHost: process.env.RSP_SMDP_HTTP_HOST ?? '127.0.0.1',
    mqttUrl: process.env.RSP_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
    databaseUrl: process.env.RSP_DATABASE_URL ?? `sqlite://${join(dataDir, 'sm-dp.db')}`,
    ...(process.env.RSP_DATABASE_SCHEMA ? { databaseSchema: process.env.RSP_DATABASE_SCHEMA } : {}),
    ciCertificate: pki.ci.der,
    eumCertificates: [pki.eum.der],
    smdpCertificate: pki.smDp.cert,
    smdpPrivateKey: pki.smDp.privateKey,
    mnos: [{ mnoId: 'mno.demo', apiKey }],
    secretBoxKeys: secretBoxKeys(dataDir),
  });
  // Demo stock: a default profile type and 10 subscriptions on first start (credentials not printed).
  if ((await smdp.inventory.listProfileTypes('mno.demo')).length === 0) {
    await smdp.inventory.putProfileType('mno.demo', { name: 'default' });
    await smdp.inventory.generateSubscriptions('mno.demo', 'default', 10);
  }
  console.log(`sm-dp    ${smdp.smdpId}: ES2 on ${smdp.httpUrl}/gsma/es2/{function}, OpenAPI ${smdp.httpUrl}/docs`);
  if (!process.env.RSP_DEMO_MNO_API_KEY) console.log(`sm-dp    mno.demo X-API-Key: ${apiKey}`);
  const stop = async (): Promise<void> => {
    await smdp.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(`sm-dp start failed: ${isRspError(error) ? `${error.code}: ` : ''}${(error as Error).message}`);
  process.exit(1);
});
