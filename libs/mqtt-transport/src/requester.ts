/**
 * RspRequester: the request/reply client on mqtt.js without NestJS (used by RspMqttClient, the simulator
 * and CLIs). One connection, ONE reply subscription made at connect and kept for the life of the
 * requester: Nest's built-in MQTT client subscribes/unsubscribes a reply topic per pattern, and under
 * concurrency a reply published between UNSUBSCRIBE and the next SUBSCRIBE is dropped by the broker
 * (measured here: 1 of 20 replies lost). Replies are routed by the envelope id from an in-memory map.
 */
import { randomUUID } from 'node:crypto';
import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import { disableNagle, mqttClientOptions, type MqttCredentials } from './connection';
import type { RspError } from '@rsp/errors';
import { TRANSPORT_ERROR_CLASSES, TransportError } from './errors';
import {
  DEFAULT_TOPIC_PREFIX,
  ENVELOPE_VERSION,
  assertTopicPrefix,
  decodeReply,
  encodeRequest,
  replyTopic,
  requestTopic,
  type ReplyEnvelope,
  type RequestEnvelope,
} from './rsp-envelope';

export interface RspRequesterOptions {
  /**
   * The service id this requester calls as (e.g. the SM-DP id). Requests go out on
   * `{prefix}/svc/{caller}/{pattern}`, which the broker lets only that service publish to, and replies come
   * back under `{prefix}/reply/{caller}/` (broker-acl.ts).
   */
  caller: string;
  /** A connected client to share (one connection per broker identity, connection.ts); not closed by close(). */
  client?: MqttClient;
  /** Broker URL, e.g. `mqtts://127.0.0.1:8883`, when the requester opens its own connection. */
  url?: string;
  /** The broker identity of its own connection (required unless `allowAnonymous`). */
  credentials?: MqttCredentials;
  /** Own connection without an identity: transport unit tests on an insecure broker only. */
  allowAnonymous?: boolean;
  /** Names the reply topic; default `req-{uuid}`. Several requesters of one caller share a connection. */
  instanceId?: string;
  /** Default `rsp/v1`. Must match the servers'. */
  topicPrefix?: string;
  /** 4 = MQTT 3.1.1 (default, works on aedes), 5 = MQTT 5 (adds responseTopic/correlationData). */
  protocolVersion?: 4 | 5;
  /** Per-request timeout in ms (default 10 000); also sets the request's `deadline`. */
  timeoutMs?: number;
  /** MQTT 5 only: how long the broker keeps the session (and queued replies) after a drop. Default 300 s. */
  sessionExpirySeconds?: number;
}

export interface RequestOptions {
  /** Overrides the requester's default timeout for this request. */
  timeoutMs?: number;
  /** Epoch ms sent as the envelope deadline; default now + timeout (the caller gives up then anyway). */
  deadline?: number;
  /** Correlation id; default a fresh UUID. Only tests and replays set it. */
  id?: string;
}

/** Reply callback: `error` set on failure (typed RspError), otherwise `data`. */
export type ReplyCallback = (error: RspError | undefined, data?: unknown) => void;

interface Pending {
  callback: ReplyCallback;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class RspRequester {
  readonly prefix: string;
  /** The stable reply topic `{prefix}/reply/{caller}/{instanceId}`, subscribed once at connect. */
  readonly replyTopic: string;
  readonly caller: string;
  readonly instanceId: string;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners: Array<[string, (...args: never[]) => void]> = [];
  private readonly onMessageListener = (topic: string, payload: Buffer, packet: IPublishPacket) => this.onMessage(topic, payload, packet);
  private client: MqttClient | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: RspRequesterOptions) {
    this.prefix = options.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
    assertTopicPrefix(this.prefix);
    this.caller = options.caller;
    this.instanceId = options.instanceId ?? `req-${randomUUID()}`;
    if (!options.client && !options.url) throw new TransportError.InvalidOptions('a requester needs a shared client or a url');
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeout) || timeout <= 0) throw new TransportError.InvalidOptions('timeoutMs must be a positive integer');
    this.replyTopic = replyTopic(this.prefix, this.caller, this.instanceId);
  }

  /** Requests awaiting a reply (the routing map's size; 0 when nothing is in flight). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Connects and subscribes the reply topic (QoS 1). Idempotent: concurrent calls share one attempt. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError.Closed('requester is closed'));
    this.connecting ??= this.open().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  /** Sends a request and resolves with the handler's result, or rejects with a typed error. */
  async request<T = unknown>(pattern: string, data: unknown, options: RequestOptions = {}): Promise<T> {
    await this.connect();
    return new Promise<T>((resolve, reject) => {
      this.start(pattern, data, (error, value) => (error ? reject(error) : resolve(value as T)), options);
    });
  }

  /**
   * Low-level send: publishes the envelope and calls `callback` exactly once (reply, error or timeout).
   * Requires a connected requester. Returns a cancel function that forgets the request.
   */
  start(pattern: string, data: unknown, callback: ReplyCallback, options: RequestOptions = {}): () => void {
    const client = this.requireClient();
    const topic = requestTopic(this.prefix, this.caller, pattern);
    const id = options.id ?? randomUUID();
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const envelope: RequestEnvelope = {
      v: ENVELOPE_VERSION,
      id,
      pattern,
      replyTo: this.replyTopic,
      data: data ?? null,
      deadline: options.deadline ?? Date.now() + timeoutMs,
    };
    const timer = setTimeout(
      () => this.settle(id, new TransportError.Timeout(`no reply to ${pattern} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    this.pending.set(id, { callback, timer });
    const properties = this.isV5() ? { responseTopic: this.replyTopic, correlationData: Buffer.from(id) } : undefined;
    client.publish(topic, encodeRequest(envelope), { qos: 1, properties }, (error) => {
      if (error) this.settle(id, new TransportError.Broker(`publish to ${topic} failed: ${error.message}`, { cause: error }));
    });
    return () => this.forget(id);
  }

  /** Publishes an event (no reply); resolves when the broker acknowledged it (QoS 1). */
  async emit(pattern: string, data: unknown): Promise<void> {
    await this.connect();
    const topic = requestTopic(this.prefix, this.caller, pattern);
    const envelope: RequestEnvelope = { v: ENVELOPE_VERSION, id: randomUUID(), pattern, data: data ?? null };
    try {
      await this.requireClient().publishAsync(topic, encodeRequest(envelope), { qos: 1 });
    } catch (cause) {
      throw new TransportError.Broker(`publish to ${topic} failed`, { cause });
    }
  }

  /** Attaches an mqtt.js client event listener (now, or at connect). */
  on(event: string, listener: (...args: never[]) => void): void {
    this.listeners.push([event, listener]);
    this.client?.on(event as 'error', listener as () => void);
  }

  /** The underlying mqtt.js client. */
  unwrap(): MqttClient {
    return this.requireClient();
  }

  /** Fails every pending request with ERR_TRANSPORT_CLOSED and disconnects (a shared client stays open). */
  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.settle(id, new TransportError.Closed('requester closed'));
    const client = this.client;
    this.client = undefined;
    this.connecting = undefined;
    if (!client) return;
    client.off('message', this.onMessageListener);
    if (this.options.client) {
      if (client.connected) await client.unsubscribeAsync(this.replyTopic).catch(() => undefined);
      return;
    }
    if (this.isV5()) {
      // A deliberate close ends the session now instead of after sessionExpirySeconds (MQTT 5 §3.14.2.2.2).
      await client.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
      return;
    }
    // MQTT 3.1.1 keeps a clean:false session forever: leave it without subscriptions at least.
    if (client.connected) await client.unsubscribeAsync(this.replyTopic).catch(() => undefined);
    await client.endAsync();
  }

  private async open(): Promise<void> {
    const shared = this.options.client;
    const v5 = this.isV5();
    // Own connection: clean:false keeps the reply subscription (and queued QoS 1 replies) across
    // reconnects; mqtt.js also re-subscribes by itself when the broker lost the session.
    const client =
      shared ??
      connect(this.options.url as string, {
        ...mqttClientOptions({
          url: this.options.url as string,
          ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
          ...(this.options.allowAnonymous ? { allowAnonymous: true, anonymousClientId: `rsp-req-${this.instanceId}` } : {}),
          protocolVersion: this.options.protocolVersion ?? 4,
          clean: false,
          ...(v5 ? { properties: { sessionExpiryInterval: this.options.sessionExpirySeconds ?? 300 } } : {}),
        }),
        resubscribe: true,
      });
    if (!shared) for (const [event, listener] of this.listeners) client.on(event as 'error', listener as () => void);
    client.on('message', this.onMessageListener);
    if (!shared) client.on('connect', () => disableNagle(client));
    try {
      if (!client.connected) {
        await new Promise<void>((resolve, reject) => {
          client.once('connect', () => resolve());
          client.once('error', reject);
        });
      }
      const granted = await client.subscribeAsync(this.replyTopic, { qos: 1 });
      if (granted.some((g) => g.qos === 128)) throw new Error(`broker refused subscription to ${this.replyTopic}`);
    } catch (cause) {
      client.off('message', this.onMessageListener);
      if (!shared) client.end(true);
      throw new TransportError.Broker(`cannot connect requester to the broker: ${(cause as Error).message}`, { cause });
    }
    if (!shared) client.on('error', () => undefined); // mqtt.js reconnects by itself; an unhandled 'error' would crash
    this.client = client;
  }

  private onMessage(topic: string, payload: Buffer, _packet: IPublishPacket): void {
    if (topic !== this.replyTopic) return;
    let reply: ReplyEnvelope;
    try {
      reply = decodeReply(payload);
    } catch {
      return; // a malformed reply names no request we could fail; the request will time out
    }
    if (reply.ok) this.settle(reply.id, undefined, reply.data);
    else {
      const Known = TRANSPORT_ERROR_CLASSES.get(reply.error.code);
      this.settle(reply.id, Known ? new Known(reply.error.message) : new TransportError.Remote(reply.error.code, reply.error.message, reply.error.details));
    }
  }

  /** Delivers the outcome once; late or duplicate replies find no entry and are ignored. */
  private settle(id: string, error: RspError | undefined, data?: unknown): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.forget(id);
    entry.callback(error, data);
  }

  private forget(id: string): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(id);
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new TransportError.Closed('requester is not connected; await connect() first');
    return this.client;
  }

  private isV5(): boolean {
    return this.options.protocolVersion === 5;
  }
}
