/**
 * SM-SR test fixtures: a simulator fleet reached in process (LocalEs5Channel, real SCP03), the embedded
 * broker for ES3 / notifications (TLS identities and the broker ACL, test/support/brokers.ts), a local
 * webhook server, and the EUM side (simulator/src/eum.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { defaultIsdRKeySet } from '@rsp/offcard';
import { topicLevel, type BrokerPrincipal, type Eis } from '@rsp/contracts';
import { connectMqtt, decodeRequest, encodeReply, parseRequestTopic } from '@rsp/mqtt-transport';
import { generateTestPki, type TestPki } from '@rsp/pki';
import { buildSignedEis } from '../../../simulator/src/eum';
import { Fleet } from '../../../simulator/src/fleet';
import { startSmSr, type SmSrHandle, type SmSrOptions } from '../src/app';
import { LocalEs5Channel } from './local-es5-channel';
import { principal, startTestBroker, type TestBroker } from '../../../test/support/brokers';

export const SMSR_ID = 'smsr.test';
export const EUM_ID = 'eum.test';
export const MNO = { mnoId: 'mno.test', apiKey: 'mno-test-key-0123456789' };
export const OTHER_MNO = { mnoId: 'mno.other', apiKey: 'mno-other-key-9876543210' };
export const SMDP_ID = 'smdp.test';
export const OTHER_SMDP_ID = 'smdp.other';

/** The broker identities the SM-SR tests use (broker-acl.ts roles). */
export const PRINCIPALS: BrokerPrincipal[] = [
  principal(SMSR_ID, 'sm-sr'),
  principal(SMDP_ID, 'sm-dp'),
  principal(OTHER_SMDP_ID, 'sm-dp'),
  principal('smdp.one', 'sm-dp'),
  principal(MNO.mnoId, 'mno'),
  principal(OTHER_MNO.mnoId, 'mno'),
  principal('owner-registry', 'owner-registry'),
  principal('auditor', 'monitor'),
];

export const pki: TestPki = generateTestPki({ curve: 'P-256', euiccCount: 0 });

let calls = 0;
/** A fresh request header. */
export const header = (requester: string, extra: { validityPeriod?: number; callId?: string } = {}) => ({
  functionRequesterIdentifier: requester,
  functionCallIdentifier: extra.callId ?? `call-${(calls += 1)}-${randomUUID()}`,
  ...(extra.validityPeriod !== undefined ? { validityPeriod: extra.validityPeriod } : {}),
});

/** Webhook receiver collecting JSON bodies. */
export interface Webhook {
  url: string;
  received: unknown[];
  /** Answer this many requests with HTTP 503 first (retry tests). */
  failNext: number;
  close(): Promise<void>;
}

export async function startWebhook(): Promise<Webhook> {
  const hook = { received: [] as unknown[], failNext: 0 } as Webhook;
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => {
      if (hook.failNext > 0) {
        hook.failNext -= 1;
        response.writeHead(503).end();
        return;
      }
      hook.received.push(JSON.parse(text));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
  hook.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return hook;
}

/** Connects as `name` (one of {@link PRINCIPALS}, or an EID) to a test broker. */
export function connectAs(broker: TestBroker, name: string): Promise<MqttClient> {
  return connectMqtt({ url: broker.url, credentials: broker.credentialsFor(name) });
}

/** A stand-in SM-DP answering the SM-SR's ES3 notification requests on `smdp/{smdpId}/es3/…`. */
export async function startSmdpStub(
  broker: TestBroker,
  smdpId: string,
): Promise<{ client: MqttClient; received: Array<{ pattern: string; caller: string; data: unknown }>; close(): Promise<void> }> {
  const client = await connectAs(broker, smdpId);
  const received: Array<{ pattern: string; caller: string; data: unknown }> = [];
  const callbacks = parseRequestTopic.bind(undefined, 'rsp/v1');
  client.on('message', (topic, payload) => {
    const request = callbacks(topic);
    if (!request?.pattern.startsWith(`smdp/${topicLevel(smdpId)}/`)) return; // e.g. replies to this SM-DP's own requests
    const envelope = decodeRequest(payload);
    received.push({ pattern: envelope.pattern, caller: request.caller, data: envelope.data });
    if (envelope.replyTo) void client.publishAsync(envelope.replyTo, encodeReply({ v: 1, id: envelope.id, ok: true, data: null }), { qos: 1 });
  });
  await client.subscribeAsync(`rsp/v1/svc/+/smdp/${topicLevel(smdpId)}/es3/+`, { qos: 1 });
  return { client, received, close: () => client.endAsync() };
}

export interface TestBed {
  fleet: Fleet;
  broker: TestBroker;
  es5: LocalEs5Channel;
  smsr: SmSrHandle;
  webhook: Webhook;
  /** The signed EIS of fleet card `eid` (as the demo EUM would send it). */
  eisOf(eid: string, overrides?: Partial<Parameters<typeof buildSignedEis>[1]>): Eis;
  close(): Promise<void>;
}

export async function startTestBed(options: { size?: number; firstSerial?: number; database?: { url: string; schema?: string } } = {}): Promise<TestBed> {
  const fleet = await Fleet.create({ size: options.size ?? 3, model: 'oven', pki, firstSerial: options.firstSerial ?? 70_000_000 + Math.floor(Math.random() * 1e6) * 10 });
  const broker = await startTestBroker({ principals: PRINCIPALS, pki });
  const webhook = await startWebhook();
  const dir = mkdtempSync(join(tmpdir(), 'rsp-smsr-'));
  const es5 = new LocalEs5Channel(fleet.pool, defaultIsdRKeySet, { defaultTimeoutMs: 3000 });
  const smsrOptions: SmSrOptions = {
    smsrId: SMSR_ID,
    httpPort: 0,
    mqttUrl: broker.url,
    mqttCredentials: broker.credentialsFor(SMSR_ID),
    databaseUrl: options.database?.url ?? `sqlite://${join(dir, 'smsr.db')}`,
    ...(options.database?.schema ? { databaseSchema: options.database.schema } : {}),
    ciCertificate: pki.ci.der,
    eums: [{ eumId: EUM_ID, certificate: pki.eum.der }],
    mnos: [
      { ...MNO, webhookUrl: webhook.url },
      { ...OTHER_MNO },
    ],
    secretBoxKeys: `k1:${randomBytes(32).toString('base64')}`,
    es5Channel: es5,
    outboxPollMs: 25,
    outboxBackoff: { baseDelayMs: 30, maxDelayMs: 100, maxAttempts: 6 },
  };
  const smsr = await startSmSr(smsrOptions);
  return {
    fleet,
    broker,
    es5,
    smsr,
    webhook,
    eisOf: (eid, overrides = {}) =>
      buildSignedEis(fleet.pool.snapshot(eid), { eumId: EUM_ID, smsrId: SMSR_ID, eumPrivateKey: pki.eum.privateKey, ...overrides }),
    async close() {
      await smsr.close();
      await es5.close();
      await webhook.close();
      await broker.close();
      await fleet.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POST JSON to the SM-SR; returns the status and the parsed body (loosely typed: tests probe any field). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function post(url: string, body: unknown, apiKey?: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
