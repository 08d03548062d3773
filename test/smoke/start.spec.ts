/**
 * The README's start line must keep working: `npm start` generates the PKI into the data directory
 * and brings up the embedded broker, the SM-SR, the SM-DP and the demo devices (on ephemeral ports here),
 * then reports ready; the curl it prints downloads a profile to the demo oven.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { EPHEMERAL_START_PORTS, runStart } from '../support/npm-start';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs docs/cli.md's tested block (the fenced sh block after its `run by test/smoke/start.spec.ts` marker)
 * as a newcomer would in the repository root, with the test's data directory and ports.
 */
function runCliDocExample(startOutput: string, dataDir: string): string {
  const doc = readFileSync('docs/cli.md', 'utf8');
  const block = /<!-- the block below is run by test\/smoke\/start\.spec\.ts[^\n]*\n```sh\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/cli.md lost its tested example block');
  const smdp = /sm-dp +smdp\.demo: ES2 on (http:\/\/127\.0\.0\.1:\d+)/.exec(startOutput)?.[1];
  const smsr = /sm-sr +smsr\.demo: ES1\/ES4 on (http:\/\/127\.0\.0\.1:\d+)/.exec(startOutput)?.[1];
  if (!smdp || !smsr) throw new Error('no service URLs printed');
  const script = block.replaceAll('data/', `${dataDir}/`).replaceAll('npx rsp ', `${process.execPath} cli/bin/rsp.js `);
  return execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, RSP_SMDP_URL: smdp, RSP_SMSR_URL: smsr },
  });
}

/** CI's machine has Mosquitto's clients; elsewhere the printed line is only checked for its form. */
const hasMosquittoSub = spawnSync('mosquitto_sub', ['--help']).error === undefined;

describe('npm start (embedded defaults)', () => {
  it('generates the PKI, starts the broker and reports ready; a busy port names its setting', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rsp-start-'));
    try {
      const ports = EPHEMERAL_START_PORTS;
      let curlAnswer = '';
      let docExample = '';
      let watched = '';
      const first = await runStart({ RSP_DATA_DIR: dataDir, ...ports }, /ready/, async (output) => {
        // The printed mosquitto_sub line: the demo MNO's own broker identity, waiting for its notifications.
        const sub = /^mosquitto_sub [^\n]*$/m.exec(output)?.[0];
        if (!sub) throw new Error('no mosquitto_sub line printed');
        // Two messages: the SM-SR's ES4 and the SM-DP's ES2 notification leave right after their commits, in either order.
        const watcher = hasMosquittoSub ? spawn('bash', ['-c', `${sub} -C 2 -W 30`], { stdio: ['ignore', 'pipe', 'pipe'] }) : undefined;
        const seen = new Promise<string>((resolve) => {
          let text = '';
          watcher?.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
          watcher?.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
          // 'close', not 'exit': the last lines can still be in the pipe when the process has exited.
          watcher?.on('close', () => resolve(text));
          if (!watcher) resolve('');
        });
        await new Promise((resolve) => setTimeout(resolve, 500)); // subscribed before the download starts
        // The newcomer's path: paste the printed curl, get a profile onto the oven.
        const curl = /^curl -s -X POST [^\n]*\\\n[^\n]*$/m.exec(output)?.[0];
        if (!curl) throw new Error('no curl printed');
        curlAnswer = execFileSync('bash', ['-c', curl], { encoding: 'utf8', timeout: 30_000 });
        watched = await seen;
        docExample = runCliDocExample(output, dataDir);
      });
      expect(first.output).toMatch(/sm-dp +smdp\.demo: ES2 on http:\/\/127\.0\.0\.1:\d+/);
      expect(first.output).toMatch(/sm-sr +smsr\.demo: ES1\/ES4 on http:\/\/127\.0\.0\.1:\d+/);
      expect(first.output).toMatch(/owners +registry http:\/\/127\.0\.0\.1:\d+ \(portal/);
      expect(first.output).toMatch(/claim +oven +\S+\/oven-maker\.example\/oven-\d+ \(claim code in \S+demo-claim-codes\.json\)/);
      // Claim codes are secrets: kept in the data directory, never printed.
      const codes = JSON.parse(readFileSync(join(dataDir, 'demo-claim-codes.json'), 'utf8')) as Record<string, { claimCode: string }>;
      for (const { claimCode } of Object.values(codes)) expect(first.output).not.toContain(claimCode);
      expect(JSON.parse(curlAnswer)).toMatchObject({ header: { functionExecutionStatus: { status: 'Executed-Success' } } });
      // docs/cli.md's example, as written (a second profile on the oven, then its EIS through ES4).
      expect(docExample).toMatch(/^Executed-Success {2}downloadProfile {2}iccid \d+/m);
      expect(docExample).toMatch(/^Executed-Success {2}getEIS/m);
      expect(docExample).toMatch(/profile \d+ {2}Enabled {2}mno mno\.demo {2}type demo-iot/);
      // …then stocks five more records (Ki / OPc only in the mode-600 file) and lists the installed ones.
      expect(docExample).toMatch(/^Executed-Success {2}stock {2}5 subscriptions of type demo-iot generated, ICCID \d+ … \d+$/m);
      expect(statSync(join(dataDir, 'hss-demo-iot.json')).mode & 0o777).toBe(0o600);
      for (const { ki } of JSON.parse(readFileSync(join(dataDir, 'hss-demo-iot.json'), 'utf8')) as Array<{ ki: string }>) expect(docExample).not.toContain(ki);
      expect(docExample).toMatch(/^Executed-Success {2}subscriptions {2}\d+ \(installed \d+\)$/m);
      expect(docExample).toMatch(/^ {2}\d+ {2}installed {2}type demo-iot {2}imsi \d+ {2}eid 89049032123451234512345678901235/m);
      expect(first.output).toMatch(/pki +P-256: generated \d+ files/);
      expect(first.output).toMatch(/embedded aedes broker on a thread of its own \(TLS client certificates, broker ACL\) on mqtts:\/\/127\.0\.0\.1:\d+/);
      // The mosquitto_sub line works as printed: it received the demo MNO's ES2 notification of the download.
      if (hasMosquittoSub) expect(watched).toMatch(/^rsp\/v1\/mno\/mno~demo\/es2\/notify \{.*"interface":"ES2"/m);
      expect(statSync(join(dataDir, 'mqtt', 'mno.demo.key')).mode & 0o777).toBe(0o600);
      expect(existsSync(join(dataDir, 'pki', 'nist', 'CERT_CI_ECDSA_NIST.der'))).toBe(true);
      expect(existsSync(join(dataDir, 'pki', 'brainpool', 'CERT_CI_ECDSA_BRP.der'))).toBe(true);
      expect(first.output).toMatch(/device +oven +EID 89049032123451234512345678901235/);
      expect(first.output).toMatch(/device +bbq +EID \d{32}/);
      expect(first.output).toMatch(/api +device and raw APDU API on http:\/\/127\.0\.0\.1:\d+/);
      // Development keys: generated once into the data directory (mode 600); their paths are printed, never the keys.
      // The second operator for porting (issue 12): its own key file, its path printed, never the key.
      expect(first.output).toMatch(/mno +mno\.beta \(porting's recipient\), API key in \S+demo-second-mno-api-key; profile type beta-iot/);
      for (const file of ['secret-box-keys', 'demo-mno-api-key', 'demo-second-mno-api-key', 'demo-maker-api-key', 'owner-registry-consent-key.pem']) {
        expect(statSync(join(dataDir, file)).mode & 0o777).toBe(0o600);
        expect(first.output).toContain(join(dataDir, file));
      }
      for (const file of ['secret-box-keys', 'demo-mno-api-key', 'demo-second-mno-api-key', 'demo-maker-api-key']) {
        const secret = readFileSync(join(dataDir, file), 'utf8').trim().replace(/^k1:/, '');
        expect(first.output).not.toContain(secret);
      }

      const port = /mqtts:\/\/127\.0\.0\.1:(\d+)/.exec(first.output)?.[1];
      expect(port).toBeDefined();
      // A second instance on a port that is taken (the still-running Mosquitto / a holder) fails clearly.
      const holder = await import('@rsp/mqtt-transport').then((m) => m.startEmbeddedBroker({ port: 0, insecure: true }));
      try {
        const second = await runStart({ RSP_DATA_DIR: dataDir, ...ports, RSP_MQTT_PORT: String(holder.port) }, /start failed/);
        expect(second.output).toMatch(/using .*nist/);
        expect(second.output).toMatch(/ERR_MQTT_BROKER_PORT_IN_USE.*RSP_MQTT_PORT/);
        expect(second.code).toBe(1);
      } finally {
        await holder.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);

  it('a bad setting, or a missing key in production, stops it before anything starts: one line naming the setting', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rsp-start-'));
    try {
      const badPort = await runStart({ RSP_DATA_DIR: dataDir, RSP_SIM_API_PORT: 'eighty' }, /start failed/);
      expect(badPort.code).toBe(1);
      expect(badPort.output).toMatch(/^start failed: ERR_CONFIG_INVALID_SETTING: RSP_SIM_API_PORT: expected a port number 0\.\.65535[^\n]*\n$/m);
      const production = await runStart({ RSP_DATA_DIR: dataDir, RSP_ENV: 'production' }, /start failed/);
      expect(production.code).toBe(1);
      expect(production.output).toMatch(/^start failed: ERR_CONFIG_MISSING_SETTING: RSP_SECRET_BOX_KEYS is required in production/m);
      expect(existsSync(join(dataDir, 'secret-box-keys'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
