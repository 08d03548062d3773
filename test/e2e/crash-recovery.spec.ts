/**
 * Crash recovery of ES2.DownloadProfile with a real `kill -9` (docs/services.md "Crash recovery"): the
 * whole stack runs in a child process on SQLite files and file-backed cards; the download is paused
 * before its `download` step (RSP_TEST_PAUSE_AT_STEP), the process is SIGKILLed, restarted on the same
 * files, and the resumed flow must finish: profile enabled on the card, one ISD-P for it, the row
 * succeeded, the MNO's repeat of the call answered with the final result, the notification delivered.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { enabledIsdp, type CardState } from '@rsp/card';
import { SecretBox } from '@rsp/persistence';
import { eventually, MnoClient, startWebhookServer, type FunctionResult, type WebhookServer } from './support';

interface ChildInfo {
  smdpUrl: string;
  smsrUrl: string;
  eids: string[];
}

interface Child {
  process: ChildProcess;
  info: ChildInfo;
  output: string[];
  exited: Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'rsp-crash-'));
const apiKey = randomBytes(16).toString('hex');
const secretBoxKeys = `k1:${SecretBox.generateKey().toString('base64')}`;
const firstSerial = 70_000_000 + (process.pid % 1000) * 3;
let mqttPort = 0;
let webhook: WebhookServer;
let child: Child | undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts test/e2e/fixtures/crash-stack.ts under tsx in its own process group (so SIGKILL takes tsx's child too). */
async function startChild(extraEnv: Record<string, string> = {}): Promise<Child> {
  const proc = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'test/e2e/fixtures/crash-stack.ts'], {
    cwd: process.cwd(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CRASH_DIR: dir,
      CRASH_MQTT_PORT: String(mqttPort),
      CRASH_API_KEY: apiKey,
      CRASH_SECRET_BOX_KEYS: secretBoxKeys,
      CRASH_FIRST_SERIAL: String(firstSerial),
      CRASH_WEBHOOK_URL: webhook.url,
      ...extraEnv,
    },
  });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let buffered = '';
  const info = await new Promise<ChildInfo>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack did not start:\n${output.join('\n')}`)), 60_000);
    proc.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        output.push(line);
        if (line.startsWith('{"ready":true')) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as ChildInfo);
        }
      }
    });
    proc.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`stack exited:\n${output.join('\n')}`));
    });
  });
  return { process: proc, info, output, exited };
}

async function killGroup(target: Child, signal: NodeJS.Signals): Promise<void> {
  if (target.process.exitCode === null && target.process.signalCode === null && target.process.pid) {
    try {
      process.kill(-target.process.pid, signal);
    } catch {
      // already gone
    }
  }
  await target.exited;
}

function transactionRow(): { status: string; step_name: string | null; attempts: number; context: string } | undefined {
  const db = new Database(join(dir, 'sm-dp.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT status, step_name, attempts, context FROM rsp_transaction_record WHERE flow = 'es2.DownloadProfile'").get() as
      | { status: string; step_name: string | null; attempts: number; context: string }
      | undefined;
  } finally {
    db.close();
  }
}

const card = (eid: string): CardState => JSON.parse(readFileSync(join(dir, 'cards', `${eid}.json`), 'utf8')) as CardState;

beforeAll(async () => {
  mqttPort = await freePort();
  webhook = await startWebhookServer();
});

afterAll(async () => {
  if (child) await killGroup(child, 'SIGTERM');
  await webhook?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('resumes a download interrupted by kill -9 and answers the repeated ES2 call with the final result', async () => {
  child = await startChild({ RSP_TEST_PAUSE_AT_STEP: 'download' });
  const [eid] = child.info.eids;
  if (!eid) throw new Error('no card');
  let mno = new MnoClient('mno.crash', apiKey, child.info.smdpUrl, child.info.smsrUrl);
  const [subscription] = await mno.stock('crash-iot', 1, '8949007');
  if (!subscription) throw new Error('no subscription');

  const callId = randomUUID();
  const request = { eid, smsrId: 'smsr.demo', iccid: subscription.iccid, enableProfile: true };
  // The first call never answers: its process dies mid-flow.
  const first = mno.es2('downloadProfile', request, { functionCallIdentifier: callId }).catch((error: unknown) => error);
  const running = child;
  await eventually(() => running.output.some((line) => line.includes('paused before download')), Boolean, 60_000);
  expect(running.output.some((line) => line.includes('paused before download'))).toBe(true);
  // The ISD-P exists and is keyed (the card file is written from the first change on): a resumed
  // download cannot re-key it.
  const atPause = card(eid);
  const isdpsAtPause = atPause.isdps.length;
  expect(atPause.isdps.filter((isdp) => isdp.keySet !== undefined && isdp.profile === undefined)).toHaveLength(1);

  await killGroup(running, 'SIGKILL');
  expect(running.process.signalCode ?? 'SIGKILL').toBe('SIGKILL');
  await first;
  expect(transactionRow()).toMatchObject({ status: 'running', step_name: 'download', attempts: 1 });

  child = await startChild();
  mno = new MnoClient('mno.crash', apiKey, child.info.smdpUrl, child.info.smsrUrl);
  // The repeat waits for the resumed flow (docs/services.md "Crash recovery") and gets its final answer.
  const repeat: FunctionResult = await mno.es2('downloadProfile', request, { functionCallIdentifier: callId });
  expect(repeat.header.functionExecutionStatus.status).toBe('Executed-Success');
  expect(repeat.iccid).toBe(subscription.iccid);

  expect(child.output.some((line) => line.includes('resuming at step download'))).toBe(true);
  const row = transactionRow();
  expect(row).toMatchObject({ status: 'succeeded', step_name: null, attempts: 2 });
  const state = card(eid);
  expect(enabledIsdp(state)?.profile?.iccid).toBe(subscription.iccid);
  expect(state.isdps.filter((isdp) => isdp.profile?.iccid === subscription.iccid)).toHaveLength(1);
  expect(state.isdps.length).toBe(isdpsAtPause); // the interrupted ISD-P was replaced, not left behind

  // A third call with the same id is a plain replay; the SM-SR agrees on the profile state.
  const again = await mno.es2('downloadProfile', request, { functionCallIdentifier: callId });
  expect(again).toEqual(repeat);
  const eis = await mno.es4('getEIS', { eid });
  const profiles = (eis.eis as { profiles: Array<{ iccid: string; state: string }> }).profiles.filter((profile) => profile.iccid === subscription.iccid);
  expect(profiles).toEqual([expect.objectContaining({ state: 'Enabled' })]);

  // The resumed flow's enable is reported: the SM-SR's ES3 notification reaches the MNO's webhook on ES2.
  const notified = await eventually(
    () => webhook.received.filter((entry) => entry.function === 'HandleProfileEnabledNotification' && entry.body?.iccid === subscription.iccid),
    (entries) => entries.length > 0,
    20_000,
  );
  expect(notified.length).toBeGreaterThan(0);
}, 180_000);
