/**
 * Broker identities from a test PKI (docs/security.md): a TLS client certificate under the Test TLS CA per
 * principal (CN = principal name = client id), and the broker's own TLS material. Development issues them
 * from the data directory's PKI once and keeps them there ({@link MqttCredentialStore}); production mounts
 * its own files (RSP_MQTT_CA_FILE / RSP_MQTT_CERT_FILE / RSP_MQTT_KEY_FILE).
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isId } from '@rsp/contracts';
import { certificateToPem, issueTlsClientCertificate, tlsTrustPem, type TestPki } from '@rsp/pki';
import { RspError } from '@rsp/errors';
import type { MqttCredentials } from './connection';
import type { BrokerTls } from './embedded-broker';

/** A credential file that exists but does not hold what it should: never silently replaced. */
export class MqttCredentialInvalid extends RspError {
  static override readonly code = 'ERR_MQTT_CREDENTIAL_INVALID';
}

type TlsPki = Pick<TestPki, 'tls' | 'ci'>;

/** Issues a fresh client identity for `principal` under the PKI's Test TLS CA. */
export function issueMqttCredentials(pki: TlsPki, principal: string): MqttCredentials {
  const leaf = issueTlsClientCertificate(pki.tls.ca, principal);
  return {
    principal,
    ca: tlsTrustPem(pki),
    cert: certificateToPem(leaf.der),
    key: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** The embedded broker's TLS: its server certificate and the CA whose clients it accepts. */
export function brokerTlsFromPki(pki: TlsPki): BrokerTls {
  return {
    ca: tlsTrustPem(pki),
    cert: certificateToPem(pki.tls.broker.der),
    key: pki.tls.broker.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/**
 * Client identities kept as `{dir}/{principal}.crt` / `.key` (mode 600): issued on first use, read back on
 * every later start, so `mosquitto_sub --cert …` lines keep working and nothing is re-issued silently. A file
 * that no longer matches the CA (another PKI) or the principal is an error naming it.
 */
export class MqttCredentialStore {
  constructor(
    private readonly dir: string,
    private readonly pki: TlsPki,
  ) {}

  /** Paths of a principal's files (what `npm start` prints for mosquitto_sub). */
  paths(principal: string): { cert: string; key: string; ca: string } {
    if (!isId(principal)) throw new MqttCredentialInvalid(`not a principal name: ${JSON.stringify(principal)}`);
    return { cert: join(this.dir, `${principal}.crt`), key: join(this.dir, `${principal}.key`), ca: join(this.dir, 'ca.pem') };
  }

  get(principal: string): MqttCredentials {
    const paths = this.paths(principal);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const ca = tlsTrustPem(this.pki);
    if (!existsSync(paths.ca) || readFileSync(paths.ca, 'utf8') !== ca) writeAtomically(paths.ca, ca, 0o644);
    if (existsSync(paths.cert) || existsSync(paths.key)) return this.read(principal, paths, ca);
    const issued = issueMqttCredentials(this.pki, principal);
    writeAtomically(paths.key, issued.key, 0o600);
    writeAtomically(paths.cert, issued.cert, 0o644);
    return issued;
  }

  private read(principal: string, paths: { cert: string; key: string }, ca: string): MqttCredentials {
    let cert: string;
    let key: string;
    try {
      cert = readFileSync(paths.cert, 'utf8');
      key = readFileSync(paths.key, 'utf8');
    } catch (cause) {
      throw new MqttCredentialInvalid(`${paths.cert} / ${paths.key}: unreadable (delete both to issue new ones)`, { cause });
    }
    let parsed: X509Certificate;
    try {
      parsed = new X509Certificate(cert);
    } catch (cause) {
      throw new MqttCredentialInvalid(`${paths.cert}: not a certificate`, { cause });
    }
    const caCert = new X509Certificate(certificateToPem(this.pki.tls.ca.der));
    if (!parsed.checkIssued(caCert) || !parsed.verify(caCert.publicKey)) {
      throw new MqttCredentialInvalid(`${paths.cert}: not issued by this data directory's Test TLS CA (delete it to issue a new one)`);
    }
    if (!parsed.subject.split('\n').includes(`CN=${principal}`)) throw new MqttCredentialInvalid(`${paths.cert}: its CN is not ${principal}`);
    if (!parsed.checkPrivateKey(createKey(key, paths.key))) throw new MqttCredentialInvalid(`${paths.key}: does not match ${paths.cert}`);
    return { principal, ca, cert, key };
  }
}

function createKey(pem: string, path: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (cause) {
    throw new MqttCredentialInvalid(`${path}: not a private key`, { cause });
  }
}

function writeAtomically(path: string, text: string, mode: number): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode });
  renameSync(temporary, path);
}
