/** Shared fixtures of the owner registry tests: dev IdP, embedded broker, a stub ES2 server, HTTP helpers. */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import { VerifiedDeviceStatusCache } from '@rsp/identity';
import { generateEid } from '@rsp/pki';
import { connectMqtt } from '@rsp/mqtt-transport';
import { principal, startTestBroker, type TestBroker } from '../../../test/support/brokers';
import { OWNER_CLI_CLIENT_ID, startDevIdp, type DevIdp } from '../src/dev-idp/dev-idp';
import { startOwnerRegistry, type OwnerRegistryHandle, type OwnerRegistryOptions } from '../src/app';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const AUDIENCE = 'owner-portal';
export const MAKER_KEY = `maker-${randomUUID()}`;
export const MNO_A_KEY = `mno-a-${randomUUID()}`;
export const MNO_B_KEY = `mno-b-${randomUUID()}`;

let serial = Math.floor(Math.random() * 1e9);
export const newEid = (): string => generateEid('89049032', serial++);

export const logLines: string[] = [];
export const captureLogger = {
  log: (message: string) => void logLines.push(String(message)),
  warn: (message: string) => void logLines.push(String(message)),
  error: (message: string) => void logLines.push(String(message)),
};

export interface Es2Call {
  mnoId: string;
  fn: string;
  apiKey: string | undefined;
  consent: string | undefined;
  body: Json;
}

/** A local HTTP server standing in for the MNOs' SM-DPs: records calls, answers from `answer`. */
export interface StubEs2 {
  url: string;
  calls: Es2Call[];
  answer: (call: Es2Call) => Json;
  close(): Promise<void>;
}

export async function startStubEs2(mnoId: string, sink: Es2Call[]): Promise<StubEs2> {
  const stub: StubEs2 = {
    url: '',
    calls: sink,
    answer: (call) => ({ header: { functionExecutionStatus: { status: 'Executed-Success' } }, ...(call.fn === 'downloadProfile' ? { iccid: '8988299000000000017' } : {}) }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const call: Es2Call = {
        mnoId,
        fn: (request.url ?? '').replace('/gsma/es2/', ''),
        apiKey: request.headers['x-api-key'] as string | undefined,
        consent: request.headers['x-owner-consent'] as string | undefined,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json,
      };
      sink.push(call);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stub.answer(call)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}

export interface Fixture {
  idp: DevIdp;
  broker: TestBroker;
  registry: OwnerRegistryHandle;
  es2Calls: Es2Call[];
  stubs: Record<'mno.a' | 'mno.b', StubEs2>;
  /** Latest retained status per EID seen on the broker, verified as the services do (registry JWKS). */
  statuses: VerifiedDeviceStatusCache;
  /** Raw status payloads as received, oldest first. */
  statusPayloads: Array<{ eid: string; payload: string }>;
  subscriber: MqttClient;
  notifications: Array<{ topic: string; payload: Json }>;
  close(): Promise<void>;
}

export async function startFixture(overrides: Partial<OwnerRegistryOptions> = {}): Promise<Fixture> {
  const idp = await startDevIdp({ port: 0, clients: [{ clientId: AUDIENCE, redirectUris: ['http://127.0.0.1/callback'] }] });
  // The registry and a monitor (reading what the registry publishes) on the embedded broker with TLS identities.
  const broker = await startTestBroker({ principals: [principal('owner-registry', 'owner-registry'), principal('registry-test-monitor', 'monitor')] });
  const es2Calls: Es2Call[] = [];
  const stubs = { 'mno.a': await startStubEs2('mno.a', es2Calls), 'mno.b': await startStubEs2('mno.b', es2Calls) };
  const registry = await startOwnerRegistry({
    registryUrl: 'https://registry.test',
    httpPort: 0,
    databaseUrl: 'sqlite::memory:',
    mqttUrl: broker.url,
    mqttCredentials: broker.credentialsFor('owner-registry'),
    // The portal's client and `npx rsp login`'s (CIBA), as npm start configures them.
    trustedIssuers: [{ issuer: idp.issuer, audience: [AUDIENCE, OWNER_CLI_CLIENT_ID] }],
    makers: [{ makerId: 'oven-maker', makerDomain: 'oven-maker.example', apiKey: MAKER_KEY }],
    mnos: [
      { mnoId: 'mno.a', apiKey: MNO_A_KEY, es2Url: stubs['mno.a'].url, es2ApiKey: 'es2-key-a', smsrId: 'smsr.test', acceptsTransfers: false },
      { mnoId: 'mno.b', apiKey: MNO_B_KEY, es2Url: stubs['mno.b'].url, es2ApiKey: 'es2-key-b', smsrId: 'smsr.test', acceptsTransfers: true },
    ],
    logger: captureLogger,
    outboxIntervalMs: 50,
    outboxBackoff: { baseDelayMs: 50, maxDelayMs: 200, maxAttempts: 5 },
    ...overrides,
  });
  const statuses = new VerifiedDeviceStatusCache({ issuer: registry.registryUrl, jwks: registry.jwksUrl, logger: captureLogger });
  const statusPayloads: Fixture['statusPayloads'] = [];
  const notifications: Fixture['notifications'] = [];
  const subscriber = await connectMqtt({ url: broker.url, credentials: broker.credentialsFor('registry-test-monitor') });
  subscriber.on('message', (topic, payload) => {
    const match = /^rsp\/v1\/owner\/device\/(\d{32})\/status$/.exec(topic);
    if (match) {
      statusPayloads.push({ eid: match[1] as string, payload: payload.toString('latin1') });
      void statuses.applySigned(payload, match[1] as string);
    } else notifications.push({ topic, payload: JSON.parse(payload.toString('utf8')) as Json });
  });
  await subscriber.subscribeAsync(['rsp/v1/owner/#'], { qos: 1 });
  return {
    idp,
    broker,
    registry,
    es2Calls,
    stubs,
    statuses,
    statusPayloads,
    subscriber,
    notifications,
    close: async () => {
      await subscriber.endAsync();
      await registry.close();
      await stubs['mno.a'].close();
      await stubs['mno.b'].close();
      await broker?.close();
      await idp.close();
    },
  };
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** An ID token of the dev IdP for `sub`; `fresh` adds auth_time = now (step-up). */
export function tokenFor(idp: DevIdp, sub: string, options: { fresh?: boolean; authTime?: number; aud?: string; expiresInSeconds?: number } = {}): Promise<string> {
  return idp.issueIdToken({
    sub,
    aud: options.aud ?? AUDIENCE,
    authTime: options.authTime ?? (options.fresh ? nowSeconds() : nowSeconds() - 3600),
    amr: ['pwd'],
    ...(options.expiresInSeconds !== undefined ? { expiresInSeconds: options.expiresInSeconds } : {}),
  });
}

export interface Reply {
  status: number;
  body: Json;
  headers: Headers;
}

export async function call(
  registry: OwnerRegistryHandle,
  method: string,
  path: string,
  options: { token?: string; apiKey?: string; body?: unknown } = {},
): Promise<Reply> {
  const response = await fetch(`${registry.httpUrl}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json, headers: response.headers };
}

/** Registers an oven and returns its EID, URL and claim code. */
export async function registerOven(registry: OwnerRegistryHandle, model = 'oven-x1'): Promise<{ eid: string; deviceUrl: string; claimCode: string }> {
  const eid = newEid();
  const claimCode = `CLAIM-${randomUUID().slice(0, 8)}`;
  const deviceId = `oven-${eid.slice(-8)}`;
  const reply = await call(registry, 'POST', '/makers/devices', { apiKey: MAKER_KEY, body: { eid, deviceId, model, claimCode } });
  if (reply.status !== 201) throw new Error(`register: ${reply.status} ${JSON.stringify(reply.body)}`);
  return { eid, deviceUrl: reply.body.deviceUrl as string, claimCode };
}

export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
