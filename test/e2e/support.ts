/**
 * End-to-end helpers: an MNO's view of the system (ES2 / ES4 calls with its API key, its inventory, a
 * webhook server receiving its notifications) and recorders for the secrets test.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import { connectMqtt } from '@rsp/mqtt-transport';
import { STACK_PRINCIPALS, stackPrincipals, startStack, type Stack, type StackOptions } from '../../scripts/stack';
import { startSecureMosquitto } from '../support/brokers';

export interface ExecutionStatus {
  status: string;
  statusCodeData?: { subjectCode: string; reasonCode: string; subjectIdentifier?: string; message?: string };
}
export type FunctionResult = { header: { functionExecutionStatus: ExecutionStatus } } & Record<string, unknown>;

/** A webhook endpoint recording every notification POSTed to it. */
export interface WebhookServer {
  url: string;
  received: Array<{ interface?: string; function?: string; body?: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startWebhookServer(): Promise<WebhookServer> {
  const received: WebhookServer['received'] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        received.push({});
      }
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/notifications`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** One MNO calling ES2 (SM-DP) and ES4 (SM-SR) with its API key. */
export class MnoClient {
  constructor(
    readonly mnoId: string,
    readonly apiKey: string,
    private readonly smdpUrl: string,
    private readonly smsrUrl: string,
  ) {}

  /** Consent token sent as `X-Owner-Consent` with every ES2 / ES4 call (docs/owner-registry.md), when set. */
  consent?: string;

  es2(functionName: string, params: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<FunctionResult> {
    return this.post(`${this.smdpUrl}/gsma/es2/${functionName}`, params, header);
  }

  es4(functionName: string, params: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<FunctionResult> {
    return this.post(`${this.smsrUrl}/gsma/es4/${functionName}`, params, header);
  }

  async inventory(path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.smdpUrl}/mno/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': this.apiKey },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await response.json()) as Record<string, unknown>;
  }

  /** A profile type with the default SAIP template and `count` generated subscriptions (returned with Ki/OPc). */
  async stock(profileType: string, count: number, iccidPrefix: string): Promise<Array<{ iccid: string; imsi: string; ki: string; opc: string }>> {
    await this.inventory('profileTypes', { name: profileType });
    const result = await this.inventory('subscriptions', { profileType, generate: count, iccidPrefix });
    return result.subscriptions as Array<{ iccid: string; imsi: string; ki: string; opc: string }>;
  }

  private async post(url: string, params: Record<string, unknown>, header: Record<string, unknown>): Promise<FunctionResult> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': this.apiKey, ...(this.consent ? { 'x-owner-consent': this.consent } : {}) },
      body: JSON.stringify({ header: { functionRequesterIdentifier: this.mnoId, functionCallIdentifier: randomUUID(), ...header }, ...params }),
    });
    return (await response.json()) as FunctionResult;
  }
}

/** Records every MQTT message under `rsp/v1/#` as the stack's read-only monitor identity (the secrets test reads them all). */
export async function recordMqtt(stack: Pick<Stack, 'mqttUrl' | 'credentialsFor'>, protocolVersion: 4 | 5 = 4): Promise<{ payloads: Buffer[]; close(): Promise<void> }> {
  const client: MqttClient = await connectMqtt({ url: stack.mqttUrl, credentials: stack.credentialsFor(STACK_PRINCIPALS.monitor), protocolVersion });
  const payloads: Buffer[] = [];
  client.on('message', (_topic, payload) => payloads.push(Buffer.from(payload)));
  await client.subscribeAsync('rsp/v1/#', { qos: 1 });
  return { payloads, close: () => client.endAsync() };
}

export type E2eStack = Stack & {
  /** Stops and starts the broker; neither keeps sessions or retained messages across it. */
  restartBroker(): Promise<void>;
};

/**
 * A stack on the embedded broker (`embedded`) or on a private Mosquitto with the shipped configuration
 * for exactly this stack's principals and PKI (`real`; the database comes from `options`).
 */
export async function startE2eStack(kind: 'embedded' | 'real', options: StackOptions): Promise<E2eStack> {
  if (kind === 'embedded') {
    const stack = await startStack(options);
    if (!stack.restartBroker) throw new Error('the embedded stack restarts its broker');
    return stack as E2eStack;
  }
  const mosquitto = await startSecureMosquitto({ principals: stackPrincipals(options), pki: options.pki });
  try {
    const stack = await startStack({ ...options, mqttUrl: mosquitto.url });
    const closeStack = stack.close;
    return Object.assign(stack, {
      restartBroker: () => mosquitto.restart(),
      close: async () => {
        await closeStack();
        await mosquitto.close();
      },
    });
  } catch (error) {
    await mosquitto.close();
    throw error;
  }
}

export async function eventually<T>(probe: () => T | Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() - start > timeoutMs) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
