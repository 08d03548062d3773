/**
 * The attacker review's restart: `npm start`, SIGTERM, `npm start` again on the same data directory.
 * Every demo card must come back as the same card (EID, CERT.ECASD.ECKA and its key), matching the EIS
 * the SM-SR registered at the first start (ES1), so ES2 / ES4 keep working on ALL of them — the BBQ,
 * which nobody touched, included. Run three times; after the second restart a download (Scenario#3 with
 * the registered certificate, then the profile) succeeds on the oven and the BBQ.
 */
import { afterAll, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MnoClient, type FunctionResult } from './support';

const dataDir = mkdtempSync(join(tmpdir(), 'rsp-restart-identity-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const PORTS = { RSP_MQTT_PORT: '0', RSP_SIM_API_PORT: '0', RSP_SMDP_HTTP_PORT: '0', RSP_SMSR_HTTP_PORT: '0', RSP_OWNER_REGISTRY_HTTP_PORT: '0', RSP_DEV_IDP_PORT: '0', RSP_CONSOLE_PORT: '0' };
const ECASD_AID = 'A0000005591010FFFFFFFF8900000200';

interface Running {
  output: string;
  smdpUrl: string;
  smsrUrl: string;
  apiUrl: string;
  cards: Record<'oven' | 'bbq', string>;
}

/** One `npm start` (scripts/start.ts under tsx) until "ready", `whileRunning`, then SIGTERM. */
function npmStart<T>(whileRunning: (running: Running) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/start.ts'], {
      env: { ...process.env, RSP_DATA_DIR: dataDir, ...PORTS },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let result: { value: T } | { error: unknown } | undefined;
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`npm start timed out:\n${output}`))), 120_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (result !== undefined || !/^ready/m.test(output)) return;
      result = { error: new Error('pending') };
      const match = (pattern: RegExp): string => {
        const found = pattern.exec(output)?.[1];
        if (!found) throw new Error(`${pattern} not in the output:\n${output}`);
        return found;
      };
      Promise.resolve()
        .then(() =>
          whileRunning({
            output,
            smdpUrl: match(/sm-dp +\S+: ES2 on (http:\/\/\S+?)\/gsma/),
            smsrUrl: match(/sm-sr +\S+: ES1\/ES4 on (http:\/\/\S+?)\/gsma/),
            apiUrl: match(/api +device and raw APDU API on (http:\/\/\S+)/),
            cards: { oven: match(/device +oven +EID (\d{32})/), bbq: match(/device +bbq +EID (\d{32})/) },
          }),
        )
        .then(
          (value) => (result = { value }),
          (error: unknown) => (result = { error }),
        )
        .finally(() => child.kill('SIGTERM'));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (result && 'value' in result) resolve(result.value);
      else reject(result ? result.error : new Error(`npm start exited (${code}) before ready:\n${output}`));
    });
  });
}

async function apdu(running: Running, eid: string, hex: string): Promise<{ response: string; sw: string }> {
  const response = await fetch(`${running.apiUrl}/euicc/${eid}/apdu`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apdu: hex }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { response: string; sw: string };
}

/** SELECT ECASD, GET DATA 7F21: the certificate the card presents (hex, upper case as in the EIS). */
async function cardCertificate(running: Running, eid: string): Promise<string> {
  expect((await apdu(running, eid, `00A4040010${ECASD_AID}00`)).sw).toBe('9000');
  const answer = await apdu(running, eid, '80CA7F2100');
  expect(answer.sw).toBe('9000');
  return answer.response.slice(0, -4).toUpperCase();
}

interface Identity {
  oven: string;
  bbq: string;
  certificates: Record<string, string>;
}

/** The cards, their certificates, and that the SM-SR's registered EIS holds the same certificate. */
async function identityOf(running: Running, mno: MnoClient): Promise<Identity> {
  const certificates: Record<string, string> = {};
  for (const eid of Object.values(running.cards)) {
    certificates[eid] = await cardCertificate(running, eid);
    const eis = await mno.es4('getEIS', { eid });
    expect(eis.header.functionExecutionStatus.status).toBe('Executed-Success');
    expect((eis.eis as { ecasd: { certificate: string } }).ecasd.certificate.toUpperCase()).toBe(certificates[eid]);
  }
  return { ...running.cards, certificates };
}

const mnoFor = (running: Running): MnoClient =>
  new MnoClient('mno.demo', readFileSync(join(dataDir, 'demo-mno-api-key'), 'utf8').trim(), running.smdpUrl, running.smsrUrl);

it('npm start restarted twice on one data directory: same cards, and a download succeeds on the oven and the BBQ', async () => {
  const first = await npmStart((running) => identityOf(running, mnoFor(running)));
  const second = await npmStart((running) => identityOf(running, mnoFor(running)));
  expect(second).toEqual(first);

  const third = await npmStart(async (running) => {
    const mno = mnoFor(running);
    const identity = await identityOf(running, mno);
    const downloads: Record<string, FunctionResult> = {};
    for (const eid of [running.cards.oven, running.cards.bbq]) {
      downloads[eid] = await mno.es2('downloadProfile', { eid, smsrId: 'smsr.demo', profileType: 'demo-iot', enableProfile: true });
    }
    return { identity, downloads };
  });
  expect(third.identity).toEqual(first);
  for (const [eid, result] of Object.entries(third.downloads)) {
    expect({ eid, status: result.header.functionExecutionStatus }).toMatchObject({ eid, status: { status: 'Executed-Success' } });
  }
}, 300_000);
