/**
 * Secured brokers for tests, both with the rules of libs/contracts/src/broker-acl.ts and TLS client
 * certificates from a test PKI (docs/security.md):
 *
 * - {@link startTestBroker}: the embedded aedes broker, in process.
 * - {@link startSecureMosquitto}: a private Mosquitto on a free port with the shipped configuration
 *   (scripts/mosquitto-config.ts). In CI a missing `mosquitto` binary fails the suite; elsewhere it is
 *   skipped with a warning (the same policy as test/support/real-services.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrokerPrincipal } from '@rsp/contracts';
import { brokerTlsFromPki, issueMqttCredentials, startEmbeddedBroker, type EmbeddedBroker, type MqttCredentials } from '@rsp/mqtt-transport';
import { generateTestPki, type TestPki } from '@rsp/pki';
import { userWhenRoot, writeMosquittoConfig } from '../../scripts/mosquitto-config';
import { isCi } from './real-services';

export interface TestBroker {
  url: string;
  pki: TestPki;
  credentialsFor(principal: string): MqttCredentials;
  close(): Promise<void>;
}

/** A principal acting for the service id of the same name. */
export function principal(name: string, role: BrokerPrincipal['role']): BrokerPrincipal {
  return { name, role, serviceId: name };
}

function identities(pki: TestPki): (principal: string) => MqttCredentials {
  const issued = new Map<string, MqttCredentials>();
  return (name) => {
    let credentials = issued.get(name);
    if (!credentials) issued.set(name, (credentials = issueMqttCredentials(pki, name)));
    return credentials;
  };
}

/** The embedded broker with TLS and the ACL, on an ephemeral port. */
export async function startTestBroker(options: { principals: readonly BrokerPrincipal[]; pki?: TestPki }): Promise<TestBroker & { broker: EmbeddedBroker }> {
  const pki = options.pki ?? generateTestPki({ curve: 'P-256', euiccCount: 0 });
  const broker = await startEmbeddedBroker({ port: 0, tls: brokerTlsFromPki(pki), principals: options.principals });
  return { url: broker.url, pki, broker, credentialsFor: identities(pki), close: () => broker.close() };
}

/** Why a private Mosquitto cannot run here, or undefined when it can (never skipped in CI). */
export function secureMosquittoSkipReason(): string | undefined {
  const probe = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
  if (probe.error === undefined) return undefined;
  const reason = 'no mosquitto binary on PATH: skipping the tests on the shipped Mosquitto configuration (never in CI)';
  if (isCi()) throw new Error(`${reason.split(':')[0]}: .ci/run must provide Mosquitto`);
  console.warn(reason);
  return reason;
}

/** A Mosquitto with the shipped configuration for these principals, on a free port; `close` kills it. */
export async function startSecureMosquitto(options: { principals: readonly BrokerPrincipal[]; pki?: TestPki }): Promise<TestBroker & { restart(): Promise<void>; pid(): number | undefined }> {
  const pki = options.pki ?? generateTestPki({ curve: 'P-256', euiccCount: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'rsp-mosquitto-'));
  const port = await freePort();
  const user = userWhenRoot();
  const conf = writeMosquittoConfig({ dir, pki, principals: options.principals, port, ...(user ? { user } : {}) });
  let child: ChildProcess | undefined;
  const output: string[] = [];
  const start = async (): Promise<void> => {
    child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    await waitForPort(port, () => (child?.exitCode !== null ? `mosquitto exited ${child?.exitCode}: ${output.join('').slice(-500)}` : undefined));
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  };
  await start();
  return {
    url: `mqtts://127.0.0.1:${port}`,
    pki,
    credentialsFor: identities(pki),
    pid: () => child?.pid, // the bench reads its CPU from /proc
    restart: async () => {
      await stop();
      await start();
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, failed: () => string | undefined): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const reason = failed();
    if (reason) throw new Error(reason);
    const open = await new Promise<boolean>((resolve) => {
      const socket: Socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > end) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
