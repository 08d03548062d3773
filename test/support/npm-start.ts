/**
 * `npm start` as a child process (the README's start line: tsx scripts/start.ts), for the tests that need
 * the real thing: its output until `until` matches, then `whileRunning`, then SIGTERM.
 */
import { spawn } from 'node:child_process';

/** Every port `npm start` opens, ephemeral (its settings accept 0 = any free port). */
export const EPHEMERAL_START_PORTS = { RSP_MQTT_PORT: '0', RSP_SIM_API_PORT: '0', RSP_SMDP_HTTP_PORT: '0', RSP_SMSR_HTTP_PORT: '0', RSP_OWNER_REGISTRY_HTTP_PORT: '0', RSP_DEV_IDP_PORT: '0', RSP_CONSOLE_PORT: '0' } as const;

export function runStart(
  env: Record<string, string>,
  until: RegExp,
  whileRunning: (output: string) => Promise<void> = async () => undefined,
  timeoutMs = 60_000,
): Promise<{ output: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/start.ts'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`start timed out:\n${output}`))), timeoutMs);
    let reached = false;
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (reached || !until.test(output)) return;
      reached = true;
      // A failed start exits by itself (code 1): killing it as soon as its line shows would race that exit.
      if (/start failed/.test(until.source)) return;
      whileRunning(output)
        .catch((error: unknown) => (output += `\nwhileRunning failed: ${(error as Error).message}`))
        .finally(() => child.kill('SIGTERM'));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    // 'close' (after stdout and stderr have ended), not 'exit': a failed start's last line may still be in the pipe.
    child.on('close', (code) => (clearTimeout(timer), resolve({ output, code })));
  });
}

/** The URLs `npm start` printed (each line of its start-up report), or an error naming the missing one. */
export function printedUrls(output: string): { smdp: string; smsr: string; sim: string; registry: string; idp: string; mqtt: string } {
  const find = (name: string, pattern: RegExp): string => {
    const found = pattern.exec(output)?.[1];
    if (!found) throw new Error(`npm start printed no ${name} URL:\n${output}`);
    return found;
  };
  return {
    smdp: find('SM-DP', /sm-dp +\S+: ES2 on (http:\/\/[\d.]+:\d+)/),
    smsr: find('SM-SR', /sm-sr +\S+: ES1\/ES4 on (http:\/\/[\d.]+:\d+)/),
    sim: find('device API', /device and raw APDU API on (http:\/\/[\d.]+:\d+)/),
    registry: find('registry', /owners +registry (http:\/\/[\d.]+:\d+)/),
    idp: find('dev IdP', /dev IdP (http:\/\/[\d.]+:\d+)/),
    mqtt: find('broker', /^mqtt .* on (mqtts?:\/\/[\d.]+:\d+)/m),
  };
}
