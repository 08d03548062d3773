/**
 * The CLI end to end against a tiny local HTTP service (port 0) that records each request and answers
 * canned SGP.02 responses: output lines, exit codes, --json, errors before and after the network.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { STATUS_CODE, expired, failed } from '@rsp/contracts';
import { generateEid } from '@rsp/pki';
import { signedEis } from '../../libs/contracts/test/support';
import { FakeService, ok, runCli, type CliRun } from './support';

const EID = generateEid('89049032', 4242n);
const ICCID = '89882119900000000012';
const REPO = resolve(import.meta.dirname, '../..');

const smdp = new FakeService();
const smsr = new FakeService();
let workDir: string;

/** The CLI against the two fake services. */
const rsp = (args: string[], env: Record<string, string> = {}): Promise<CliRun> => runCli(['--smdp-url', smdp.url, '--smsr-url', smsr.url], args, env);

beforeAll(async () => {
  await Promise.all([smdp.start(), smsr.start()]);
  workDir = mkdtempSync(join(tmpdir(), 'rsp-cli-'));
});
afterAll(async () => {
  await Promise.all([smdp.stop(), smsr.stop()]);
  rmSync(workDir, { recursive: true, force: true });
});
beforeEach(() => {
  smdp.requests.length = 0;
  smsr.requests.length = 0;
  smdp.next = ok();
  smsr.next = ok();
});

describe('rsp es2 against an SM-DP', () => {
  it('download-profile: one POST with the header, the API key and a human line; exit 0', async () => {
    smdp.next = ok({ iccid: ICCID });
    const run = await rsp(['--api-key', 'k3y', '--call-id', 'call-42', '--validity', '300', 'es2', 'download-profile', '--eid', EID, '--profile-type', 'demo', '--enable']);
    expect(run).toEqual({ code: 0, stdout: `Executed-Success  downloadProfile  iccid ${ICCID}\n`, stderr: '' });
    expect(smdp.requests).toHaveLength(1);
    const [request] = smdp.requests;
    expect(request?.path).toBe('/gsma/es2/downloadProfile');
    expect(request?.headers['x-api-key']).toBe('k3y');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.body).toEqual({
      header: { functionRequesterIdentifier: 'mno.demo', functionCallIdentifier: 'call-42', validityPeriod: 300 },
      eid: EID,
      smsrId: 'smsr.demo',
      profileType: 'demo',
      enableProfile: true,
    });
    expect(smsr.requests).toHaveLength(0);
  });

  it('Failed → the codes, message and subject on one line; exit 2', async () => {
    smdp.next = ok({}, failed(STATUS_CODE.EID_UNKNOWN, EID));
    const run = await rsp(['es2', 'enable-profile', '--eid', EID, '--iccid', ICCID]);
    expect(run).toEqual({ code: 2, stdout: `Failed  8.1.1/3.9  Unknown EID (subjectIdentifier ${EID})\n`, stderr: '' });
    expect(smdp.requests[0]?.path).toBe('/gsma/es2/enableProfile');
  });

  it('Expired → exit 3', async () => {
    smdp.next = ok({}, expired());
    const run = await rsp(['--validity', '1', 'es2', 'download-profile', '--eid', EID, '--iccid', ICCID]);
    expect(run).toEqual({ code: 3, stdout: 'Expired  1.6/5.3  Time to live expired\n', stderr: '' });
  });

  it('Executed-WithWarning → exit 0 with the warning codes', async () => {
    smdp.next = ok({}, { status: 'Executed-WithWarning', statusCodeData: { subjectCode: '8.4', reasonCode: '4.2', message: 'cleanup pending' } });
    const run = await rsp(['es2', 'delete-profile', '--eid', EID, '--iccid', ICCID]);
    expect(run).toEqual({ code: 0, stdout: 'Executed-WithWarning  deleteProfile  8.4/4.2  cleanup pending\n', stderr: '' });
  });

  it('--json prints the raw response; the exit code still follows the status', async () => {
    const answer = ok({ iccid: ICCID, euiccResponseData: 'AB'.repeat(100) }, failed(STATUS_CODE.ICCID_IN_USE, ICCID));
    smdp.next = answer;
    const run = await rsp(['--json', 'es2', 'download-profile', '--eid', EID, '--iccid', ICCID]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual(answer.body);
  });

  it('the other ES2 functions reach their lowerCamelCase paths', async () => {
    const calls: [string[], string][] = [
      [['get-eis', '--eid', EID], '/gsma/es2/getEIS'],
      [['update-policy-rules', '--eid', EID, '--iccid', ICCID, '--rule', 'DELETE:Not-Allowed'], '/gsma/es2/updatePolicyRules'],
      [['update-subscription-address', '--eid', EID, '--iccid', ICCID, '--msisdn', '4915112345678'], '/gsma/es2/updateSubscriptionAddress'],
      [['disable-profile', '--eid', EID, '--iccid', ICCID, '--smsr-id', 'smsr.other'], '/gsma/es2/disableProfile'],
    ];
    for (const [args] of calls) expect((await rsp(['es2', ...args])).code).toBe(0);
    expect(smdp.requests.map((r) => r.path)).toEqual(calls.map(([, path]) => path));
    expect(smdp.requests[1]?.body.pol2).toEqual([{ subject: 'PROFILE', action: 'DELETE', qualification: 'Not-Allowed' }]);
    expect(smdp.requests[3]?.body.smsrId).toBe('smsr.other');
  });

  it('environment: RSP_API_KEY, RSP_REQUESTER_ID, RSP_SMSR_ID; no key → no X-API-Key header', async () => {
    await rsp(['es2', 'get-eis', '--eid', EID], { RSP_API_KEY: 'from-env', RSP_REQUESTER_ID: 'mno.other', RSP_SMSR_ID: 'smsr.env' });
    await rsp(['es2', 'get-eis', '--eid', EID]);
    expect(smdp.requests[0]?.headers['x-api-key']).toBe('from-env');
    expect(smdp.requests[0]?.body).toMatchObject({ header: { functionRequesterIdentifier: 'mno.other' }, smsrId: 'smsr.env' });
    expect(smdp.requests[1]?.headers).not.toHaveProperty('x-api-key');
  });

  it('a 401 with a Failed body is a Failed result (exit 2), not a transport error', async () => {
    smdp.next = { status: 401, body: ok({}, failed(STATUS_CODE.REQUESTER_UNKNOWN)).body };
    const run = await rsp(['es2', 'get-eis', '--eid', EID]);
    expect(run).toEqual({ code: 2, stdout: 'Failed  1.1/1.1  Unknown function requester\n', stderr: '' });
  });
});

describe('rsp es4 and es1 against an SM-SR', () => {
  it('es4 get-eis prints the EIS summary', async () => {
    const eis = signedEis();
    smsr.next = ok({ eis });
    const run = await rsp(['es4', 'get-eis', '--eid', eis.eid]);
    expect(run.code).toBe(0);
    expect(smsr.requests[0]?.path).toBe('/gsma/es4/getEIS');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Executed-Success  getEIS');
    expect(lines[1]).toContain(`eid ${eis.eid}`);
    expect(lines[2]).toBe(`  profile ${ICCID}  Enabled  mno MNO-1  fallback  pol2 DELETE:Not-Allowed`);
  });

  it('every ES4 function goes to the SM-SR', async () => {
    const calls: [string[], string][] = [
      [['audit-eis', '--eid', EID, '--iccid', ICCID], '/gsma/es4/auditEIS'],
      [['enable-profile', '--eid', EID, '--iccid', ICCID], '/gsma/es4/enableProfile'],
      [['disable-profile', '--eid', EID, '--iccid', ICCID], '/gsma/es4/disableProfile'],
      [['delete-profile', '--eid', EID, '--iccid', ICCID], '/gsma/es4/deleteProfile'],
      [['update-policy-rules', '--eid', EID, '--iccid', ICCID, '--pol2', '[]'], '/gsma/es4/updatePolicyRules'],
    ];
    for (const [args] of calls) expect((await rsp(['es4', ...args])).code).toBe(0);
    expect(smsr.requests.map((r) => r.path)).toEqual(calls.map(([, path]) => path));
    expect(smsr.requests[0]?.body.iccids).toEqual([ICCID]);
    expect(smdp.requests).toHaveLength(0);
  });

  it('es1 register-eis --file sends the signed EIS', async () => {
    const file = join(workDir, 'eis.json');
    writeFileSync(file, JSON.stringify(signedEis()));
    const run = await rsp(['--requester', 'eum.demo', 'es1', 'register-eis', '--file', file]);
    expect(run).toEqual({ code: 0, stdout: 'Executed-Success  registerEIS\n', stderr: '' });
    expect(smsr.requests[0]?.path).toBe('/gsma/es1/registerEIS');
    expect(smsr.requests[0]?.body).toMatchObject({ header: { functionRequesterIdentifier: 'eum.demo' }, eis: signedEis() });
  });
});

describe('errors: one line on stderr, exit 1, never a stack trace', () => {
  const expectOneLine = (run: CliRun, pattern: RegExp) => {
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd()).toMatch(pattern);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  };

  it('a typo fails with the contract text before any network call', async () => {
    expectOneLine(await rsp(['es2', 'download-profile', '--eid', '8904903200000000000000000000424', '--iccid', ICCID]), /^rsp: invalid parameter eid: expected a 32-digit EID with valid check digits \(1\.6\/2\.1; nothing sent\)$/);
    expectOneLine(await rsp(['es4', 'enable-profile', '--eid', EID]), /^rsp: mandatory element missing: iccid \(1\.6\/2\.2; nothing sent\)$/);
    expectOneLine(await rsp(['es2', 'download-profile', '--eid', EID]), /conditional element missing: iccid\|profileType/);
    expectOneLine(await rsp(['--validity', 'soon', 'es4', 'get-eis', '--eid', EID]), /invalid parameter header\.validityPeriod/);
    expect(smdp.requests).toHaveLength(0);
    expect(smsr.requests).toHaveLength(0);
  });

  it('usage errors of commander and unreadable files', async () => {
    expectOneLine(await rsp(['es2', 'download-profile', '--eid', EID, '--bogus']), /^error: unknown option '--bogus'/);
    expectOneLine(await rsp(['es2', 'enable']), /^error: unknown command 'enable'/);
    expectOneLine(await rsp(['es1', 'register-eis']), /required option '--file <path>'/);
    expectOneLine(await rsp(['es1', 'register-eis', '--file', join(workDir, 'missing.json')]), /^rsp: cannot read .*missing\.json \(ENOENT\)$/);
    expectOneLine(await rsp(['--timeout', '-3', 'es4', 'get-eis', '--eid', EID]), /--timeout/);
  });

  it('transport errors: not an SGP.02 answer, refused connection, timeout', async () => {
    smsr.next = { status: 500, body: '<html>oops</html>' };
    expectOneLine(await rsp(['es4', 'get-eis', '--eid', EID]), /^rsp: unexpected answer from .*\/gsma\/es4\/getEIS: HTTP 500/);
    const closed = new FakeService();
    await closed.start();
    await closed.stop();
    expectOneLine(await runCapture(['--smdp-url', closed.url, 'es2', 'get-eis', '--eid', EID]), /^rsp: cannot call http:\/\/127\.0\.0\.1:\d+\/gsma\/es2\/getEIS: ECONNREFUSED$/);
    smsr.next = { body: {}, hang: true };
    expectOneLine(await rsp(['--timeout', '0.2', 'es4', 'get-eis', '--eid', EID]), /no answer within 0\.2 s$/);
    expectOneLine(await runCapture(['--smdp-url', 'ftp://x', 'es2', 'get-eis', '--eid', EID]), /must be http/);
  });
});

/** The CLI with only the arguments given (no service URLs). */
const runCapture = (args: string[]): Promise<CliRun> => runCli([], args);

describe('the installed launcher', () => {
  const spawnRun = (file: string, args: string[], cwd: string): Promise<CliRun> =>
    new Promise((done) => {
      const env = { ...process.env, RSP_SMDP_URL: smdp.url, RSP_API_KEY: '' };
      execFile(file, args, { cwd, env, timeout: 60_000 }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      });
    });

  it('node cli/bin/rsp.js propagates the exit code (Failed → 2) from any directory', async () => {
    smdp.next = ok({}, failed(STATUS_CODE.ICCID_UNKNOWN, ICCID));
    const run = await spawnRun(process.execPath, [join(REPO, 'cli/bin/rsp.js'), 'es2', 'delete-profile', '--eid', EID, '--iccid', ICCID], workDir);
    expect(run).toEqual({ code: 2, stdout: `Failed  8.2.1/3.9  Unknown profile ICCID (subjectIdentifier ${ICCID})\n`, stderr: '' });
  });

  it('`npx rsp --help` resolves the package bin inside the repo', async () => {
    const run = await spawnRun('npx', ['--offline', 'rsp', 'es2', '--help'], join(REPO, 'docs'));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('download-profile');
    expect(run.stdout).toContain('update-subscription-address');
  });
});

describe('owner consents and hints (issue 13: a claimed device could only be reached with curl)', () => {
  const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.consent.signature';

  // The SM-SR checks it on ES4 profile functions as the SM-DP does on ES2 (docs/owner-registry.md): an ES4
  // disable of an owned device could not succeed from the CLI while the token went to the SM-DP only.
  it('--consent goes as X-Owner-Consent with the ES2 and ES4 profile functions, never with the reads', async () => {
    const es2 = await rsp(['es2', 'disable-profile', '--eid', EID, '--iccid', ICCID, '--consent', TOKEN]);
    expect(es2.code).toBe(0);
    expect(smdp.requests[0]?.headers['x-owner-consent']).toBe(TOKEN);
    const es4 = await rsp(['es4', 'disable-profile', '--eid', EID, '--iccid', ICCID, '--consent', TOKEN]);
    expect(es4.code).toBe(0);
    expect(smsr.requests[0]?.headers['x-owner-consent']).toBe(TOKEN);
    await rsp(['es4', 'get-eis', '--eid', EID, '--consent', TOKEN]);
    expect(smsr.requests[1]?.headers['x-owner-consent']).toBeUndefined();
    await rsp(['es2', 'get-eis', '--eid', EID, '--consent', TOKEN]);
    expect(smdp.requests[1]?.headers['x-owner-consent']).toBeUndefined();
    expect(`${es2.stdout}${es2.stderr}${es4.stdout}${es4.stderr}`).not.toContain(TOKEN);
  });

  it('RSP_OWNER_CONSENT does the same; without either no header is sent', async () => {
    await rsp(['es2', 'delete-profile', '--eid', EID, '--iccid', ICCID], { RSP_OWNER_CONSENT: TOKEN });
    expect(smdp.requests[0]?.headers['x-owner-consent']).toBe(TOKEN);
    await rsp(['es2', 'delete-profile', '--eid', EID, '--iccid', ICCID]);
    expect(smdp.requests[1]?.headers['x-owner-consent']).toBeUndefined();
  });

  it('a consent refusal on an owned device says how to get past it; stdout keeps the SGP.02 line', async () => {
    smdp.next = ok({}, failed({ subjectCode: '8.1.1', reasonCode: '1.2', message: 'Owner consent required' }, EID));
    const run = await rsp(['es2', 'download-profile', '--eid', EID, '--profile-type', 'demo-iot']);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^Failed {2}8\.1\.1\/1\.2/);
    expect(run.stderr).toMatch(/hint: .*--consent/);
    smdp.next = ok({}, failed({ subjectCode: '8.1.1', reasonCode: '1.2', message: 'Owner consent required' }, EID));
    const withConsent = await rsp(['es2', 'download-profile', '--eid', EID, '--profile-type', 'demo-iot', '--consent', TOKEN]);
    expect(withConsent.stderr).not.toMatch(/--consent/);
  });

  it('deleting an enabled profile hints to disable it first', async () => {
    smsr.next = ok({}, failed({ subjectCode: '8.2.1', reasonCode: '1.2', message: 'enabled' }, ICCID));
    const run = await rsp(['es4', 'delete-profile', '--eid', EID, '--iccid', ICCID]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/hint: an enabled profile cannot be deleted: .*first/);
  });

  it('--json prints the body only, no hint', async () => {
    smsr.next = ok({}, failed({ subjectCode: '8.2.1', reasonCode: '1.2', message: 'enabled' }, ICCID));
    const run = await rsp(['--json', 'es4', 'delete-profile', '--eid', EID, '--iccid', ICCID]);
    expect(run.stderr).toBe('');
  });
});

describe('rsp mno profile-type: an MNO\'s profile types with POL1 and POL2, at the SM-DP', () => {
  it('sends the type with its rules to /mno/profileTypes with the API key', async () => {
    smdp.next = ok({ name: 'demo-locked' });
    const run = await rsp(['--api-key', 'key-a', 'mno', 'profile-type', '--name', 'demo-locked', '--pol1-rule', 'DISABLE:Not-Allowed', '--pol1-rule', 'delete:not-allowed', '--pol2-rule', 'DELETE:Not-Allowed']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Executed-Success {2}profileType {2}name demo-locked/);
    expect(smdp.requests).toEqual([
      expect.objectContaining({
        path: '/mno/profileTypes',
        headers: expect.objectContaining({ 'x-api-key': 'key-a' }),
        body: {
          name: 'demo-locked',
          pol1: [
            { subject: 'PROFILE', action: 'DISABLE', qualification: 'Not-Allowed' },
            { subject: 'PROFILE', action: 'DELETE', qualification: 'Not-Allowed' },
          ],
          pol2: [{ subject: 'PROFILE', action: 'DELETE', qualification: 'Not-Allowed' }],
        },
      }),
    ]);
  });

  it('refuses a rule POL1 cannot carry, or two rules for one action, before sending anything', async () => {
    const enable = await rsp(['mno', 'profile-type', '--name', 'x', '--pol1-rule', 'ENABLE:Not-Allowed']);
    expect(enable.code).toBe(1);
    expect(enable.stderr).toMatch(/^rsp: invalid parameter pol1\[0\].*DISABLE\/Not-Allowed, DELETE\/Not-Allowed or DISABLE\/Auto-Delete.*nothing sent\)\n$/);
    const twice = await rsp(['mno', 'profile-type', '--name', 'x', '--pol2-rule', 'DISABLE:Not-Allowed', '--pol2-rule', 'DISABLE:Auto-Delete']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/pol2\[1\]\.action/);
    expect(smdp.requests).toHaveLength(0);
  });
});
