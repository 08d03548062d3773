/**
 * The scenario kit against a running stack (issue 12: `npx rsp scenario run … --smdp URL --smsr URL --sim URL
 * --registry URL`): `npm start` runs as a newcomer starts it (child process, ephemeral ports, its own data
 * directory), and the whole case library runs against it from the CLI, each scenario with fresh cards of its
 * own joined to the stack's broker and registered through ES1, the stack's operators, owners at its dev IdP.
 * Afterwards the demo devices are as they were and still provisionable; a scenario that expects the wrong
 * status fails with exit 2; a wrong data directory is one line naming --data-dir.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EPHEMERAL_START_PORTS, printedUrls, runStart } from '../support/npm-start';

function rsp(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['cli/bin/rsp.js', ...args], { timeout: 240_000, maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const WRONG_STATUS = `name: expects success where the SM-DP must refuse
covers:
  - { function: ES2.DownloadProfile, clause: "SGP.02 §5.3 (test of the runner)", outcome: error }
steps:
  - name: an unknown profile type cannot succeed
    es2: DownloadProfile
    with: { eid: "\${devices.oven.eid}", smsrId: "\${smsrId}", profileType: no-such-type, enableProfile: true }
    expect: { status: Executed-Success }
`;

const WAITING = `name: holds the stack's monitor identity for a while
covers:
  - { function: ES2.GetEIS, clause: "SGP.02 §5.3 (test of the runner)", outcome: nominal }
steps:
  - name: wait
    wait: 8000
`;

describe('npx rsp scenario run against npm start', () => {
  it('runs the whole library with fresh cards of its own; the demo devices are untouched and still work', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rsp-remote-'));
    const checks: string[] = [];
    try {
      const started = await runStart(
        { RSP_DATA_DIR: dataDir, ...EPHEMERAL_START_PORTS },
        /ready/,
        async (output) => {
          const urls = printedUrls(output);
          const oven = /device +oven +EID (\d{32})/.exec(output)?.[1] as string;
          const ovenBefore = await (await fetch(`${urls.sim}/devices/${oven}`)).json();
          const remote = ['--smdp', urls.smdp, '--smsr', urls.smsr, '--sim', urls.sim, '--registry', urls.registry, '--idp', urls.idp, '--mqtt-url', urls.mqtt, '--data-dir', dataDir];

          const library = await rsp(['scenario', 'run', 'scenarios/sgp02', ...remote, '--junit', join(dataDir, 'remote.xml')]);
          // A failure names the scenarios and steps that failed (the whole output is long).
          checks.push(library.code === 0 ? 'library exit 0' : `library exit ${library.code}:\n${library.output.split('\n').filter((line) => !line.startsWith('✔')).join('\n')}`);
          const cases = readdirSync('scenarios/sgp02').filter((name) => name.endsWith('.yaml')).length;
          expect(library.output).toMatch(new RegExp(`^${cases} passed, 0 failed`, 'm'));
          expect(library.code).toBe(0);
          const junit = readFileSync(join(dataDir, 'remote.xml'), 'utf8');
          expect(junit).toMatch(/<testsuites [^>]*failures="0"/);

          // Nothing of the stack's own devices was touched: the scenarios' cards were their own.
          expect(await (await fetch(`${urls.sim}/devices/${oven}`)).json()).toEqual(ovenBefore);
          const apiKey = readFileSync(join(dataDir, 'demo-mno-api-key'), 'utf8').trim();
          const download = await fetch(`${urls.smdp}/gsma/es2/downloadProfile`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
            body: JSON.stringify({ header: { functionRequesterIdentifier: 'mno.demo', functionCallIdentifier: `after-${Date.now()}` }, eid: oven, smsrId: 'smsr.demo', profileType: 'demo-iot', enableProfile: true }),
          });
          const answer = (await download.json()) as { header: { functionExecutionStatus: { status: string } } };
          expect(answer.header.functionExecutionStatus.status).toBe('Executed-Success');

          // A wrong expectation fails with exit 2, naming the step and the difference.
          const file = join(dataDir, 'wrong.yaml');
          writeFileSync(file, WRONG_STATUS);
          const wrong = await rsp(['scenario', 'run', file, ...remote]);
          expect(wrong.code).toBe(2);
          expect(wrong.output).toContain('step "an unknown profile type cannot succeed"');
          expect(wrong.output).toMatch(/functionExecutionStatus: expected Executed-Success, got Failed 1\.6\/3\.9/);

          // A data directory that is not the stack's: one line naming the flag, exit 1, no scenario run.
          const elsewhere = await rsp(['scenario', 'run', file, ...remote.slice(0, -1), join(dataDir, 'nowhere')]);
          expect(elsewhere.code).toBe(1);
          expect(elsewhere.output).toMatch(/no stack PKI at .*nowhere.*--data-dir/);
          // Two runs against one stack: the later one takes the monitor identity over; the earlier one stops at
          // once with exit 1, naming the cause (it must not hang, nor take the identity back in turn).
          const waiting = join(dataDir, 'waiting.yaml');
          writeFileSync(waiting, WAITING);
          const first = rsp(['scenario', 'run', waiting, ...remote]);
          await new Promise((resolve) => setTimeout(resolve, 2000)); // the first is inside its wait step by now
          const second = await rsp(['scenario', 'run', 'scenarios/sgp02/es2-download-enable.yaml', ...remote]);
          expect(second.code).toBe(0);
          const stopped = await first;
          expect(stopped.code).toBe(1);
          expect(stopped.output).toMatch(/rsp: the broker closed this run's monitor connection \(rsp-monitor\): is another `rsp scenario run` using this stack\?/);
          checks.push('done');
        },
        240_000,
      );
      expect(checks).toEqual(['library exit 0', 'done']);
      expect(started.output.match(/whileRunning failed: .*/)?.[0]).toBeUndefined();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});
