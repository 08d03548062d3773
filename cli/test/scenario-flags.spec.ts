/**
 * `npx rsp scenario run`'s choice of stack (cli/scenario.ts): embedded by default, remote once a remote flag
 * is given; flags that contradict each other, a malformed --operator, or a data directory that is not a
 * stack's each stop the run with one line naming the flag and exit 1, before any scenario runs.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenarioCommand } from '../scenario';

const SCENARIO = 'scenarios/sgp02/es2-download-enable.yaml';

async function run(options: Parameters<typeof runScenarioCommand>[1]): Promise<{ code: number; output: string }> {
  let output = '';
  const code = await runScenarioCommand(SCENARIO, options, (text) => void (output += text));
  return { code, output };
}

describe('rsp scenario run: which stack', () => {
  it('refuses remote flags with --stack embedded, naming them', async () => {
    const result = await run({ stack: 'embedded', smdp: 'http://127.0.0.1:1', dataDir: 'data' });
    expect(result).toEqual({ code: 1, output: 'rsp: --stack embedded runs its own stacks: drop --smdp, --data-dir\n' });
  });

  it('refuses an unknown stack kind and a malformed --operator', async () => {
    expect((await run({ stack: 'mosquitto' })).output).toMatch(/^rsp: --stack mosquitto: embedded .* or remote/);
    const operator = await run({ operator: ['mno.a'] });
    expect(operator).toEqual({ code: 1, output: "rsp: --operator mno.a: expected <scenario operator>=<the stack's mnoId>, e.g. mno.a=mno.demo\n" });
  });

  it('a data directory without the stack PKI stops the run before any scenario, naming --data-dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rsp-not-a-stack-'));
    try {
      const result = await run({ smdp: 'http://127.0.0.1:1', dataDir: dir });
      expect(result.code).toBe(1);
      expect(result.output).toContain(`rsp: no stack PKI at ${join(dir, 'pki', 'nist')}: pass the running stack's data directory with --data-dir`);
      expect(result.output).not.toMatch(/passed|✘/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000); // the first remote run loads the whole stack's modules: slow on a busy CI machine
});
