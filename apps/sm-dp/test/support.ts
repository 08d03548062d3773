/**
 * Shared fixtures of the SM-DP tests: an SM-DP on the embedded broker (TLS identities and the broker ACL,
 * test/support/brokers.ts) with the fake SM-SR, and an ES2 client.
 */
import { randomUUID } from 'node:crypto';
import type { BrokerPrincipal } from '@rsp/contracts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretBox } from '@rsp/persistence';
import type { TestPki } from '@rsp/pki';
import type { SmDpHandle, SmDpOptions } from '../src/app';
import type { FakeSmSr } from './fake-sm-sr';
import { principal, startTestBroker, type TestBroker } from '../../../test/support/brokers';

export const KEY_A = `key-a-${randomUUID()}`;
export const KEY_B = `key-b-${randomUUID()}`;
export const SMSR_ID = 'smsr.test';
export const SMDP_ID = 'smdp.test';

/** The broker identities of the SM-DP tests (broker-acl.ts roles). */
export const PRINCIPALS: BrokerPrincipal[] = [
  principal(SMDP_ID, 'sm-dp'),
  principal('smdp.foreign', 'sm-dp'),
  principal(SMSR_ID, 'sm-sr'),
  principal('mno.a', 'mno'),
  principal('mno.b', 'mno'),
  principal('owner-registry', 'owner-registry'),
];

/** The embedded broker with the SM-DP tests' identities. */
export function startBroker(pki: TestPki): Promise<TestBroker> {
  return startTestBroker({ principals: PRINCIPALS, pki });
}

/** Log lines, kept so tests can check that no secret is ever logged. */
export const logLines: string[] = [];
export const captureLogger = {
  log: (message: string) => void logLines.push(String(message)),
  warn: (message: string) => void logLines.push(String(message)),
  error: (message: string) => void logLines.push(String(message)),
};

export interface Webhook {
  url: string;
  received: Array<{ interface: string; function: string; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startWebhook(): Promise<Webhook> {
  const received: Webhook['received'] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/es2`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** SM-DP options on `broker`, connecting as its `smdpId` (default {@link SMDP_ID}). */
export function smDpOptions(pki: TestPki, fake: FakeSmSr, broker: TestBroker, overrides: Partial<SmDpOptions> & Pick<SmDpOptions, 'databaseUrl'>): SmDpOptions {
  const smdpId = overrides.smdpId ?? SMDP_ID;
  return {
    smdpId,
    httpPort: 0,
    mqttUrl: broker.url,
    mqttCredentials: broker.credentialsFor(smdpId),
    ciCertificate: pki.ci.der,
    eumCertificates: [pki.eum.der],
    smdpCertificate: pki.smDp.cert,
    smdpPrivateKey: pki.smDp.privateKey,
    mnos: [
      { mnoId: 'mno.a', apiKey: KEY_A },
      { mnoId: 'mno.b', apiKey: KEY_B },
    ],
    secretBoxKeys: `k1:${SecretBox.generateKey().toString('base64')}`,
    es3: fake,
    logger: captureLogger,
    outboxIntervalMs: 50,
    ...overrides,
  };
}

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** POST with an optional X-API-Key; returns HTTP status and JSON body. */
export async function post(smdp: SmDpHandle, path: string, body: unknown, apiKey?: string): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${smdp.httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

export function header(requester = 'mno.a', validityPeriod?: number, callId = randomUUID()) {
  return { functionRequesterIdentifier: requester, functionCallIdentifier: callId, ...(validityPeriod ? { validityPeriod } : {}) };
}

/** Waits until `check` holds (polling), or fails after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
