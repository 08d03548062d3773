/**
 * `npx rsp es2 download-profiles` (cli/bulk-download.ts) against a whole stack: a fleet listed by its
 * device API, more eUICCs than the MNO has stock for, N calls in flight. Every eUICC gets an outcome (the
 * ones without stock fail with their SGP.02 codes, the others are downloaded and enabled), the summary
 * and the JSONL report say so, and the same run id again replays the answers instead of downloading twice.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTestPki } from '@rsp/pki';
import { runRsp } from '../../cli/rsp';
import { startStack, type Stack } from '../../scripts/stack';
import { MnoClient } from './support';

const SMSR_ID = 'smsr.bulk';
const MNO = 'mno.bulk';

describe('npx rsp es2 download-profiles', () => {
  let stack: Stack;
  let dir: string;
  const apiKey = randomBytes(16).toString('hex');
  const rsp = async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runRsp(['es2', 'download-profiles', '--smsr-id', SMSR_ID, ...args], {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      env: { RSP_SMDP_URL: stack.smdp.httpUrl, RSP_API_KEY: apiKey, RSP_REQUESTER_ID: MNO },
    });
    return { code, stdout, stderr };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rsp-bulk-'));
    stack = await startStack({
      pki: generateTestPki({ curve: 'P-256', euiccCount: 0 }),
      database: { kind: 'sqlite-memory' },
      ids: { smsrId: SMSR_ID, smdpId: 'smdp.bulk' },
      mnos: [{ mnoId: MNO, apiKey }],
      devices: [{ model: 'generic', count: 12, firstSerial: 57_000_000 }],
      deviceApi: { port: 0 },
    });
    await new MnoClient(MNO, apiKey, stack.smdp.httpUrl, stack.smsr.httpUrl).stock('bulk', 10, '8949075');
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads to every eUICC a device API lists, 4 in flight; those past the stock fail with their codes; summary, report, exit 2', async () => {
    const report = join(dir, 'run.jsonl');
    const run = await rsp(['--eids-from', stack.deviceApiUrl as string, '--profile-type', 'bulk', '--enable', '--concurrency', '4', '--run-id', 'run-1', '--report', report]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/download-profiles: 12 eUICCs, 4 in flight, run id run-1/);
    expect(run.stdout).toMatch(/^12 eUICCs: (?=.*10 Executed-Success)(?=.*2 Failed)/m);
    expect(run.stdout).toMatch(/calls\/s over [\d.]+ s; a call p50 \d+ ms, p99 \d+ ms/);
    const failedLines = run.stdout.split('\n').filter((line) => line.startsWith('Failed  '));
    expect(failedLines).toHaveLength(2);
    for (const line of failedLines) expect(line).toMatch(/^Failed {2}\d{32} {2}\d+(\.\d+)*\/\d+(\.\d+)*/);
    const outcomes = readFileSync(report, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { eid: string; status: string; iccid?: string; functionCallIdentifier: string });
    expect(outcomes.map((outcome) => outcome.eid)).toEqual(stack.eids);
    const downloaded = outcomes.filter((outcome) => outcome.status === 'Executed-Success');
    expect(downloaded).toHaveLength(10);
    for (const outcome of downloaded) expect(outcome.iccid).toMatch(/^8949075/);
    expect(new Set(downloaded.map((outcome) => outcome.iccid)).size).toBe(10);
    expect(outcomes[0]?.functionCallIdentifier).toBe(`run-1-${stack.eids[0]}`);

    // The same run id again: every answer replayed, the same ICCIDs, nothing downloaded twice.
    const again = join(dir, 'again.jsonl');
    const resumed = await rsp(['--eids-from', stack.deviceApiUrl as string, '--profile-type', 'bulk', '--enable', '--concurrency', '4', '--run-id', 'run-1', '--report', again]);
    expect(resumed.code).toBe(2);
    const replayed = readFileSync(again, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { status: string; iccid?: string });
    expect(replayed.map((outcome) => `${outcome.status} ${outcome.iccid ?? ''}`)).toEqual(outcomes.map((outcome) => `${outcome.status} ${outcome.iccid ?? ''}`));
  }, 120_000);

  it('refuses a bad EID list before any call: the line named, exit 1; one source of EIDs, not two or none', async () => {
    const file = join(dir, 'eids.txt');
    writeFileSync(file, `# two good ones and a typo\n${stack.eids[0]}\n${stack.eids[1]}\n8904903212345\n`);
    const bad = await rsp(['--eids-file', file, '--profile-type', 'bulk']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/eids\.txt line 4: not an EID \(32 digits\)/);
    const none = await rsp(['--profile-type', 'bulk']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/--eids-file or --eids-from/);
    const both = await rsp(['--eids-file', file, '--eids-from', stack.deviceApiUrl as string, '--profile-type', 'bulk']);
    expect(both.code).toBe(1);
  });
});
