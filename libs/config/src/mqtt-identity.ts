/**
 * The broker identity of a service (docs/security.md): a TLS client certificate whose CN is the service's
 * principal, its private key, and the CA the broker's certificate must chain to.
 *
 * - RSP_MQTT_CA_FILE, RSP_MQTT_CERT_FILE, RSP_MQTT_KEY_FILE (PEM): all three, or none. The principal is the
 *   certificate's CN; the key must match the certificate and the certificate must chain to the CA.
 * - None, in development: an identity named after the service is issued once under the data directory's
 *   test PKI (its Test TLS CA) and kept in `{data}/mqtt/` (MqttCredentialStore), never re-issued.
 * - None, in production: the start stops naming RSP_MQTT_CERT_FILE.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isId } from '@rsp/contracts';
import { MqttCredentialStore, type MqttCredentials } from '@rsp/mqtt-transport';
import { readTestPki } from '@rsp/pki';
import { ConfigError } from './errors';
import { readSecretFile, type SecretSource } from './secrets';

export interface MqttIdentitySettings {
  RSP_MQTT_CA_FILE?: string | undefined;
  RSP_MQTT_CERT_FILE?: string | undefined;
  RSP_MQTT_KEY_FILE?: string | undefined;
}

export interface ResolvedMqttIdentity {
  /** @secret key */
  credentials: MqttCredentials;
  /** A start-up line (paths only). */
  notice?: string;
}

const FILES = ['RSP_MQTT_CA_FILE', 'RSP_MQTT_CERT_FILE', 'RSP_MQTT_KEY_FILE'] as const;

/** The identity of `principal` (the service id) from the settings, or in development from the test PKI in `pkiDir`. */
export function mqttIdentityFrom(source: SecretSource, settings: MqttIdentitySettings, principal: string, pkiDir: string): ResolvedMqttIdentity {
  const given = FILES.filter((setting) => settings[setting] !== undefined);
  if (given.length > 0) {
    const missing = FILES.filter((setting) => settings[setting] === undefined);
    if (missing.length > 0) throw new ConfigError.InvalidSetting(missing.map((setting) => ({ setting, expected: `expected a PEM file, with ${given.join(' and ')}` })));
    return { credentials: readIdentityFiles(settings as Required<MqttIdentitySettings>) };
  }
  if (source.mode === 'production') throw new ConfigError.MissingSetting('RSP_MQTT_CERT_FILE', 'the service\u2019s TLS client certificate for the broker (with RSP_MQTT_KEY_FILE and RSP_MQTT_CA_FILE)');
  const manifest = join(pkiDir, 'MANIFEST_NIST.json');
  if (!existsSync(manifest)) {
    throw new ConfigError.KeyFile('RSP_MQTT_CERT_FILE', manifest, 'does not exist: no test PKI to issue a development broker identity from (npm start makes one; or set RSP_MQTT_CERT_FILE, RSP_MQTT_KEY_FILE, RSP_MQTT_CA_FILE)');
  }
  const store = new MqttCredentialStore(join(source.dataDir, 'mqtt'), readTestPki(pkiDir, 'P-256'));
  return { credentials: store.get(principal), notice: `broker identity ${principal}: ${store.paths(principal).cert}` };
}

function readIdentityFiles(settings: Required<MqttIdentitySettings>): MqttCredentials {
  const ca = readSecretFile('RSP_MQTT_CA_FILE', settings.RSP_MQTT_CA_FILE);
  const cert = readSecretFile('RSP_MQTT_CERT_FILE', settings.RSP_MQTT_CERT_FILE);
  const key = readSecretFile('RSP_MQTT_KEY_FILE', settings.RSP_MQTT_KEY_FILE);
  const parse = (setting: string, file: string, text: string): X509Certificate => {
    try {
      return new X509Certificate(text);
    } catch (cause) {
      throw new ConfigError.KeyFile(setting, file, 'is not a PEM certificate', { cause });
    }
  };
  const caCertificate = parse('RSP_MQTT_CA_FILE', settings.RSP_MQTT_CA_FILE, ca);
  const certificate = parse('RSP_MQTT_CERT_FILE', settings.RSP_MQTT_CERT_FILE, cert);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (cause) {
    throw new ConfigError.KeyFile('RSP_MQTT_KEY_FILE', settings.RSP_MQTT_KEY_FILE, 'is not a PEM private key', { cause });
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new ConfigError.KeyFile('RSP_MQTT_KEY_FILE', settings.RSP_MQTT_KEY_FILE, `does not match RSP_MQTT_CERT_FILE`);
  if (!certificate.checkIssued(caCertificate) || !certificate.verify(caCertificate.publicKey)) {
    throw new ConfigError.KeyFile('RSP_MQTT_CERT_FILE', settings.RSP_MQTT_CERT_FILE, 'is not issued by the CA of RSP_MQTT_CA_FILE');
  }
  const principal = /(?:^|\n)CN=([^\n]+)/.exec(certificate.subject)?.[1];
  if (!isId(principal)) {
    throw new ConfigError.KeyFile('RSP_MQTT_CERT_FILE', settings.RSP_MQTT_CERT_FILE, 'has no CN that can be a broker principal (letters, digits, _ . : -)');
  }
  return { principal, ca, cert, key };
}
