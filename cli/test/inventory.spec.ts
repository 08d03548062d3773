/**
 * `rsp mno stock` / `rsp mno subscriptions` (cli/inventory.ts) against a fake SM-DP: what is sent, what is
 * printed, and where generated Ki / OPc go (a mode-600 file created before sending, never stdout).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { STATUS_CODE, failed } from '@rsp/contracts';
import { FakeService, ok, runCli, type CliRun } from './support';

const smdp = new FakeService();
let workDir: string;

const GENERATED = [
  { iccid: '89499990000000000027', imsi: '001010000000002', ki: '000102030405060708090a0b0c0d0e0f', opc: '101112131415161718191a1b1c1d1e1f' },
  { iccid: '89499990000000000019', imsi: '001010000000001', ki: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf', opc: 'b0b1b2b3b4b5b6b7b8b9babbbcbdbebf' },
];

/** The CLI against the fake SM-DP, as MNO `key-a`. */
const rsp = (args: string[]): Promise<CliRun> => runCli(['--smdp-url', smdp.url, '--api-key', 'key-a'], args);

beforeAll(async () => {
  await smdp.start();
  workDir = mkdtempSync(join(tmpdir(), 'rsp-cli-inventory-'));
});
afterAll(async () => {
  await smdp.stop();
  rmSync(workDir, { recursive: true, force: true });
});
beforeEach(() => {
  smdp.requests.length = 0;
  smdp.next = ok();
});

describe('rsp mno stock --generate', () => {
  it('asks the SM-DP for N records and writes them, Ki and OPc included, to a new mode-600 file; stdout and --json carry no key', async () => {
    smdp.next = ok({ subscriptions: GENERATED });
    const out = join(workDir, 'hss.json');
    const run = await rsp(['mno', 'stock', '--profile-type', 'demo-iot', '--generate', '2', '--iccid-prefix', '8949999', '--out', out]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(smdp.requests).toEqual([
      expect.objectContaining({ method: 'POST', path: '/mno/subscriptions', headers: expect.objectContaining({ 'x-api-key': 'key-a' }), body: { profileType: 'demo-iot', generate: 2, iccidPrefix: '8949999' } }),
    ]);
    expect(run.stdout.split('\n')).toEqual([
      'Executed-Success  stock  2 subscriptions of type demo-iot generated, ICCID 89499990000000000019 … 89499990000000000027',
      `  Ki and OPc of each in ${out} (mode 600): the SM-DP will not show them again`,
      '',
    ]);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(GENERATED);
    expect(statSync(out).mode & 0o777).toBe(0o600);

    const again = join(workDir, 'hss-json.json');
    const json = await rsp(['--json', 'mno', 'stock', '--profile-type', 'demo-iot', '--generate', '2', '--out', again]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      header: { functionExecutionStatus: { status: 'Executed-Success' } },
      subscriptions: GENERATED.map(({ iccid, imsi }) => ({ iccid, imsi })),
      keysFile: again,
    });
    for (const { ki, opc } of GENERATED) expect(`${run.stdout}${json.stdout}`).not.toMatch(new RegExp(`${ki}|${opc}`, 'i'));
  });

  it('refuses before sending: no --out, an --out that exists (it may hold earlier keys, and is left untouched), a count out of range', async () => {
    const existing = join(workDir, 'earlier.json');
    writeFileSync(existing, 'earlier keys\n');
    const cases = [
      [['--generate', '5'], /give --out <file>/],
      [['--generate', '5', '--out', existing], /exists: generated keys never overwrite a file/],
      [['--generate', '0', '--out', join(workDir, 'x.json')], /from 1 to 10000/],
      [['--generate', '5', '--file', existing], /give --generate <count> \(with --out <file>\) or --file/],
    ] as const;
    for (const [args, message] of cases) {
      const run = await rsp(['mno', 'stock', '--profile-type', 'demo-iot', ...args]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
    }
    expect(smdp.requests).toHaveLength(0);
    expect(readFileSync(existing, 'utf8')).toBe('earlier keys\n');
    expect(existsSync(join(workDir, 'x.json'))).toBe(false);
  });

  it('leaves no key file behind when the SM-DP refuses (exit 2) or cannot be reached (exit 1)', async () => {
    smdp.next = ok({}, failed(STATUS_CODE.CONDITIONAL_ELEMENT_MISSING, 'profileType'));
    const refused = join(workDir, 'refused.json');
    const run = await rsp(['mno', 'stock', '--profile-type', 'nope', '--generate', '2', '--out', refused]);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^Failed {2}1\.6\/2\.3/);
    expect(existsSync(refused)).toBe(false);

    const unreachable = join(workDir, 'unreachable.json');
    const { code, stderr } = await runCli(['--smdp-url', 'http://127.0.0.1:1'], ['mno', 'stock', '--profile-type', 'demo-iot', '--generate', '2', '--out', unreachable]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot call http:\/\/127\.0\.0\.1:1\/mno\/subscriptions/);
    expect(existsSync(unreachable)).toBe(false);
  });
});

describe('rsp mno stock --file', () => {
  it('loads the records of a file (a JSON array, or { subscriptions }) and says how many', async () => {
    const file = join(workDir, 'records.json');
    writeFileSync(file, JSON.stringify({ subscriptions: GENERATED }));
    smdp.next = ok({ loaded: 2 });
    const run = await rsp(['mno', 'stock', '--profile-type', 'demo-iot', '--file', file]);
    expect(run).toEqual({ code: 0, stdout: 'Executed-Success  stock  2 subscriptions of type demo-iot loaded\n', stderr: '' });
    expect(smdp.requests[0]?.body).toEqual({ profileType: 'demo-iot', subscriptions: GENERATED });
  });

  it('refuses a file that is not a non-empty array of records, before sending', async () => {
    const file = join(workDir, 'empty.json');
    writeFileSync(file, '[]');
    const run = await rsp(['mno', 'stock', '--profile-type', 'demo-iot', '--file', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/expected a non-empty JSON array/);
    expect(smdp.requests).toHaveLength(0);
  });
});

describe('rsp mno subscriptions', () => {
  it('GETs the list with its filters and prints a count by state and one line per record', async () => {
    smdp.next = ok({
      subscriptions: [
        { iccid: '89499990000000000019', imsi: '001010000000001', profileType: 'demo-iot', state: 'installed', eid: '89049032000000000000000000004242', isdpAid: 'A0000005591010FFFFFFFF8900001100' },
        { iccid: '89499990000000000027', imsi: '001010000000002', profileType: 'demo-iot', state: 'available' },
      ],
    });
    const run = await rsp(['mno', 'subscriptions', '--profile-type', 'demo-iot']);
    expect(run.code).toBe(0);
    expect(smdp.requests).toEqual([expect.objectContaining({ method: 'GET', path: '/mno/subscriptions?profileType=demo-iot' })]);
    expect(run.stdout.split('\n')).toEqual([
      'Executed-Success  subscriptions  2 (available 1, installed 1)',
      '  89499990000000000019  installed  type demo-iot  imsi 001010000000001  eid 89049032000000000000000000004242  isd-p A0000005591010FFFFFFFF8900001100',
      '  89499990000000000027  available  type demo-iot  imsi 001010000000002',
      '',
    ]);
  });

  it("never sends an owner's consent with an inventory call (it is for ES2 profile changes only)", async () => {
    smdp.next = ok({ subscriptions: [] });
    const run = await rsp(['--consent', 'owner-consent-token', 'mno', 'subscriptions']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('Executed-Success  subscriptions  none\n');
    expect(smdp.requests[0]?.headers['x-owner-consent']).toBeUndefined();
  });

  it('refuses a state it does not know, before sending', async () => {
    const run = await rsp(['mno', 'subscriptions', '--state', 'instaled']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('rsp: --state is one of available, reserved, installed, deleted\n');
    expect(smdp.requests).toHaveLength(0);
  });
});
