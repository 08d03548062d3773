/**
 * `npm run mosquitto:config -- [--data-dir data] [--pki-dir DIR] [--out DIR] [--port 8883] [--host 127.0.0.1]
 *                                [--principals extra.json] [--persistence]`
 *
 * Writes a ready Mosquitto configuration (docs/security.md, deploy/mosquitto/README.md) for the PKI that
 * `npm start` made in the data directory (default data/pki/nist) and the principals `npm start` lists (the
 * demo services, MNOs, the `npm run sim` gateway and the monitor), plus any in --principals (a JSON array
 * of { name, role, serviceId }). Then: `mosquitto -c DIR/mosquitto.conf` and
 * `RSP_MQTT_URL=mqtts://127.0.0.1:8883 npm start`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { assertBrokerPrincipal, type BrokerPrincipal } from '@rsp/contracts';
import { isRspError } from '@rsp/errors';
import { readTestPki } from '@rsp/pki';
import { userWhenRoot, writeMosquittoConfig } from './mosquitto-config';
import { demoStackPrincipals } from './stack';

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('a port number 1–65535');
  return n;
};

function main(argv: string[]): void {
  const o = new Command('mosquitto:config')
    .description('Mosquitto configuration with TLS client certificates and the broker ACL of libs/contracts')
    .option('--data-dir <dir>', 'npm start\'s data directory', process.env.RSP_DATA_DIR ?? 'data')
    .option('--pki-dir <dir>', 'the test PKI to use (default <data-dir>/pki/nist)')
    .option('--out <dir>', 'where to write mosquitto.conf, acl and the TLS files (default <data-dir>/mosquitto)')
    .option('--port <port>', 'TLS listener port', port, 8883)
    .option('--host <host>', 'listener address', '127.0.0.1')
    .option('--principals <file>', 'more principals, a JSON array of { name, role, serviceId }')
    .option('--persistence', 'keep sessions and retained messages across broker restarts', false)
    .parse(argv)
    .opts<{ dataDir: string; pkiDir?: string; out?: string; port: number; host: string; principals?: string; persistence: boolean }>();
  const pkiDir = resolve(o.pkiDir ?? join(o.dataDir, 'pki', 'nist'));
  if (!existsSync(pkiDir)) throw new Error(`no test PKI in ${pkiDir}: run npm start once, or npm run certs -- --out ${pkiDir}`);
  const extra = o.principals ? (JSON.parse(readFileSync(o.principals, 'utf8')) as BrokerPrincipal[]) : [];
  extra.forEach(assertBrokerPrincipal);
  const out = resolve(o.out ?? join(o.dataDir, 'mosquitto'));
  const user = userWhenRoot();
  const conf = writeMosquittoConfig({
    dir: out,
    pki: readTestPki(pkiDir, 'P-256'),
    principals: [...demoStackPrincipals(), ...extra],
    port: o.port,
    host: o.host,
    persistence: o.persistence,
    ...(user ? { user } : {}),
  });
  process.stdout.write(`wrote ${conf}\nrun:  mosquitto -c ${conf}\nthen: RSP_MQTT_URL=mqtts://${o.host}:${o.port} npm start\n`);
}

try {
  main(process.argv);
} catch (error) {
  process.stderr.write(`mosquitto:config: ${isRspError(error) ? `${error.code}: ` : ''}${(error as Error).message}\n`);
  process.exit(1);
}
