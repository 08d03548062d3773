/**
 * The shipped Mosquitto configuration (deploy/mosquitto) is what the generator writes from the one broker
 * ACL table, and `npm run mosquitto:config` writes a complete, working directory for npm start's PKI.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderMosquittoAcl } from '@rsp/contracts';
import { generateTestPki, writeTestPki } from '@rsp/pki';
import { renderMosquittoConf } from '../../scripts/mosquitto-config';
import { demoStackPrincipals } from '../../scripts/stack';

const shipped = (name: string) => readFileSync(new URL(`../../deploy/mosquitto/${name}`, import.meta.url), 'utf8');

describe('deploy/mosquitto', () => {
  it('acl is the broker ACL table rendered for the principals of npm start', () => {
    expect(shipped('acl')).toBe(renderMosquittoAcl(demoStackPrincipals()));
  });

  it('mosquitto.conf is the generated reference: client certificates, CN as username and client id, ACL, no Nagle', () => {
    const conf = shipped('mosquitto.conf');
    expect(conf).toBe(renderMosquittoConf({ dir: '/etc/mosquitto/rsp', port: 8883, host: '0.0.0.0', persistence: true }));
    for (const line of ['require_certificate true', 'use_identity_as_username true', 'use_username_as_clientid true', 'allow_anonymous false', 'set_tcp_nodelay true']) {
      expect(conf.split('\n')).toContain(line);
    }
  });

  it('npm run mosquitto:config writes a complete directory for a data directory\u2019s PKI', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rsp-mosq-cli-'));
    try {
      writeTestPki(generateTestPki({ curve: 'P-256', euiccCount: 0 }), join(dataDir, 'pki', 'nist'));
      const out = execFileSync('npx', ['tsx', 'scripts/mosquitto-config-cli.ts', '--data-dir', dataDir, '--port', '18999'], { encoding: 'utf8' });
      expect(out).toContain('mosquitto -c');
      const dir = join(dataDir, 'mosquitto');
      for (const file of ['mosquitto.conf', 'acl', 'ca.pem', 'broker.crt', 'broker.key']) expect(existsSync(join(dir, file))).toBe(true);
      expect(statSync(join(dir, 'broker.key')).mode & 0o077).toBe(0);
      expect(readFileSync(join(dir, 'mosquitto.conf'), 'utf8')).toContain('listener 18999 127.0.0.1');
      // A missing PKI is a clear error, not a half-written directory.
      expect(() => execFileSync('npx', ['tsx', 'scripts/mosquitto-config-cli.ts', '--data-dir', join(dataDir, 'none')], { encoding: 'utf8', stdio: 'pipe' })).toThrow(/no test PKI/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
