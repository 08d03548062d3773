/**
 * RspMqttServer: a NestJS custom transport strategy on mqtt.js for service-to-service requests (ES3
 * SM-DP → SM-SR and others). Topics, envelope and reply routing: see `rsp-envelope.ts` and docs/topics.md.
 *
 * Delivery semantics: requests arrive with QoS 1 (at-least-once). The server answers a redelivered id
 * from a bounded cache of recent replies instead of running the handler again, so a handler runs at most
 * once per id *while that id is in the cache* (default the last 10 000 ids, per server instance).
 */
import { BaseRpcContext, Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import { lastValueFrom } from 'rxjs';
import { isTopicLevel } from '@rsp/contracts';
import { disableNagle, mqttClientOptions, type MqttCredentials } from './connection';
import { TransportError } from './errors';
import {
  DEFAULT_TOPIC_PREFIX,
  ENVELOPE_VERSION,
  assertHandlerPattern,
  assertTopicPrefix,
  decodeRequest,
  encodeReply,
  errorReply,
  isReplyTopicOf,
  parseRequestTopic,
  requestFilter,
  toReplyError,
  type ReplyEnvelope,
  type RequestEnvelope,
} from './rsp-envelope';

export interface RspMqttServerOptions {
  /** A connected client to share (one connection per broker identity, connection.ts); not closed by close(). */
  client?: MqttClient;
  /** Broker URL, e.g. `mqtts://127.0.0.1:8883`, when the server opens its own connection. */
  url?: string;
  /** The broker identity of its own connection (required unless `allowAnonymous`). */
  credentials?: MqttCredentials;
  /** Own connection without an identity: transport unit tests on an insecure broker only. */
  allowAnonymous?: boolean;
  /**
   * Shared-subscription group: instances with the same group split the requests (`$share/{group}/…`).
   * ASSUMPTION: a broker spoken to with MQTT 5 supports shared subscriptions (Mosquitto ≥ 1.6, EMQX,
   * HiveMQ do; aedes speaks 3.1.1 only). With protocolVersion 4 the group is ignored and every instance
   * receives every request, so run one instance per prefix on such a broker.
   */
  group?: string;
  /** Default `rsp/v1`. */
  topicPrefix?: string;
  /** 4 = MQTT 3.1.1 (default), 5 = MQTT 5 (shared subscriptions, responseTopic/correlationData). */
  protocolVersion?: 4 | 5;
  /** How many recent reply ids to remember for duplicate suppression. Default 10 000. */
  dedupeCacheSize?: number;
}

/** The RPC context handlers receive (`@Ctx() ctx: RspMqttContext`). */
export class RspMqttContext extends BaseRpcContext<[topic: string, envelope: RequestEnvelope, packet: IPublishPacket, caller: string]> {
  getTopic(): string {
    return this.args[0];
  }
  getEnvelope(): RequestEnvelope {
    return this.args[1];
  }
  getPacket(): IPublishPacket {
    return this.args[2];
  }
  /**
   * The service id that sent the request, read from the request topic's caller level: the broker lets a
   * principal publish only under its own (broker-acl.ts), so this is proven, unlike anything in the payload.
   */
  getCaller(): string {
    return this.args[3];
  }
}

type Listener = (...args: never[]) => void;

/** mqtt.js client events `on()` forwards. */
export type RspMqttServerEvents = {
  error: (error: Error) => void;
  connect: () => void;
  reconnect: () => void;
  offline: () => void;
  close: () => void;
};

export class RspMqttServer extends Server<RspMqttServerEvents> implements CustomTransportStrategy {
  override readonly transportId = Symbol.for('RSP_MQTT');
  readonly prefix: string;
  private readonly cacheSize: number;
  /** replyTo + id → reply (or the reply being computed, so an early duplicate waits instead of re-running). */
  private readonly replies = new Map<string, Promise<ReplyEnvelope>>();
  private readonly listeners: Array<[string, Listener]> = [];
  private client: MqttClient | undefined;
  private executions = 0;

  constructor(private readonly options: RspMqttServerOptions) {
    super();
    this.prefix = options.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
    assertTopicPrefix(this.prefix);
    if (options.group !== undefined && !(isTopicLevel(options.group) && options.group.length <= 64)) {
      throw new TransportError.InvalidOptions('group must be a 1–64 character topic level (letters, digits, _ ~ : -)');
    }
    if (!options.client && !options.url) throw new TransportError.InvalidOptions('a server needs a shared client or a url');
    this.cacheSize = options.dedupeCacheSize ?? 10_000;
    if (!Number.isInteger(this.cacheSize) || this.cacheSize < 1) throw new TransportError.InvalidOptions('dedupeCacheSize must be ≥ 1');
  }

  /** How many times a handler was actually invoked (duplicates answered from the cache do not count). */
  get handlerExecutions(): number {
    return this.executions;
  }

  /** The topic filters this server subscribes (with `$share/{group}/` under MQTT 5 and a group). */
  subscriptionTopics(): string[] {
    const shared = this.options.group !== undefined && this.options.protocolVersion === 5;
    return [...this.messageHandlers.keys()].map((pattern) => {
      const filter = requestFilter(this.prefix, pattern);
      return shared ? `$share/${this.options.group}/${filter}` : filter;
    });
  }

  async listen(callback: (...optionalParams: unknown[]) => unknown): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.replies.clear();
    if (client) {
      client.off('message', this.onMessageListener);
      if (this.options.client) {
        if (client.connected) await client.unsubscribeAsync(this.subscriptionTopics()).catch(() => undefined);
      } else {
        await client.endAsync();
      }
    }
    this._status$.next('disconnected');
  }

  /** Attaches an mqtt.js client event listener (`error`, `reconnect`, `offline`, …), now or at listen. */
  on<K extends keyof RspMqttServerEvents = keyof RspMqttServerEvents, C extends RspMqttServerEvents[K] = RspMqttServerEvents[K]>(
    event: K,
    callback: C,
  ): void {
    this.listeners.push([event, callback as unknown as Listener]);
    this.client?.on(event as 'error', callback as unknown as () => void);
  }

  unwrap<T>(): T {
    if (!this.client) throw new TransportError.Closed('server is not listening');
    return this.client as T;
  }

  private readonly onMessageListener = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    if (this.client) void this.onMessage(this.client, topic, payload, packet);
  };

  private async start(): Promise<void> {
    for (const pattern of this.messageHandlers.keys()) assertHandlerPattern(pattern);
    if (this.options.group !== undefined && this.options.protocolVersion !== 5) {
      this.logger.warn?.(`group "${this.options.group}" ignored: shared subscriptions need protocolVersion 5`);
    }
    const shared = this.options.client;
    const client =
      shared ??
      connect(
        this.options.url as string,
        mqttClientOptions({
          url: this.options.url as string,
          ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
          ...(this.options.allowAnonymous ? { allowAnonymous: true } : {}),
          protocolVersion: this.options.protocolVersion ?? 4,
        }),
      );
    if (!shared) {
      for (const [event, listener] of this.listeners) client.on(event as 'error', listener as () => void);
      client.on('connect', () => disableNagle(client));
    }
    client.on('message', this.onMessageListener);
    client.on('connect', () => this._status$.next('connected'));
    client.on('reconnect', () => this._status$.next('reconnecting'));
    client.on('offline', () => this._status$.next('disconnected'));
    this.client = client;
    try {
      if (!client.connected) {
        await new Promise<void>((resolve, reject) => {
          client.once('connect', () => resolve());
          client.once('error', reject);
        });
      }
      this._status$.next('connected');
      const topics = this.subscriptionTopics();
      if (topics.length > 0) {
        const granted = await client.subscribeAsync(topics, { qos: 1 });
        const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
        if (refused.length > 0) throw new Error(`broker refused ${refused.join(', ')}`);
      }
    } catch (cause) {
      this.client = undefined;
      client.off('message', this.onMessageListener);
      if (!shared) client.end(true);
      throw new TransportError.Broker(`RSP MQTT server cannot start: ${(cause as Error).message}`, { cause });
    }
    if (!shared) client.on('error', (error) => this.logger.error(`MQTT error: ${error.message}`));
  }

  private async onMessage(client: MqttClient, topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const parsed = parseRequestTopic(this.prefix, topic);
    const handlerPattern = parsed === undefined ? undefined : this.handlerPatternOf(parsed.pattern);
    if (parsed === undefined || handlerPattern === undefined) return;
    const { caller, pattern } = parsed;
    let envelope: RequestEnvelope;
    try {
      envelope = decodeRequest(payload);
      if (envelope.pattern !== pattern) throw new TransportError.InvalidEnvelope(`envelope pattern differs from topic ${topic}`);
    } catch (error) {
      this.logger.warn?.(`dropped malformed request on ${topic}: ${(error as Error).message}`);
      return;
    }
    const context = new RspMqttContext([topic, envelope, packet, caller]);
    // handlerPatternOf found it registered; Nest's getHandlerByPattern would first JSON.parse the topic
    // pattern and throw, once per request (about 1 % of the services' CPU in the bench).
    const handler = this.messageHandlers.get(handlerPattern) ?? null;
    const replyTo = envelope.replyTo ?? packet.properties?.responseTopic;
    if (replyTo === undefined) {
      if (handler?.isEventHandler) await this.handleEvent(pattern, { pattern, data: envelope.data }, context);
      else this.logger.warn?.(`dropped event ${envelope.id} on ${topic}: no event handler`);
      return;
    }
    if (!isReplyTopicOf(this.prefix, caller, replyTo)) {
      // Never publish where a request says: only into the reply tree of the caller the topic proved.
      this.logger.warn?.(`dropped request ${envelope.id}: replyTo ${replyTo} is outside ${caller}'s reply tree`);
      return;
    }
    // Keyed by reply topic too: a cached reply only ever goes back to the caller that asked first.
    const key = `${replyTo}\n${envelope.id}`;
    let reply = this.replies.get(key);
    if (reply) {
      this.replies.delete(key); // LRU: refresh the entry
    } else {
      reply = this.execute(envelope, handler, context);
    }
    this.remember(key, reply);
    const correlationData = packet.properties?.correlationData;
    const properties = this.options.protocolVersion === 5 && correlationData ? { correlationData } : undefined;
    try {
      await client.publishAsync(replyTo, encodeReply(await reply), { qos: 1, properties });
    } catch (error) {
      this.logger.error(`reply to ${envelope.id} not published: ${(error as Error).message}`);
    }
  }

  /** The registered pattern serving `pattern`: itself, else a `…/+` pattern whose path it extends by one level. */
  private handlerPatternOf(pattern: string): string | undefined {
    if (this.messageHandlers.has(pattern)) return pattern;
    const slash = pattern.lastIndexOf('/');
    const wildcard = `${pattern.slice(0, slash + 1)}+`;
    return slash > 0 && this.messageHandlers.has(wildcard) ? wildcard : undefined;
  }

  private remember(key: string, reply: Promise<ReplyEnvelope>): void {
    this.replies.set(key, reply);
    if (this.replies.size > this.cacheSize) {
      const oldest = this.replies.keys().next().value;
      if (oldest !== undefined) this.replies.delete(oldest);
    }
  }

  /** Runs the handler once (between Nest's processing hooks) and always resolves to a reply. */
  private execute(envelope: RequestEnvelope, handler: MessageHandler | null, context: RspMqttContext): Promise<ReplyEnvelope> {
    const { id, pattern, deadline } = envelope;
    if (deadline !== undefined && deadline <= Date.now()) {
      return Promise.resolve(errorReply(id, new TransportError.Expired(`request ${pattern} reached the server after its deadline`)));
    }
    if (!handler || handler.isEventHandler) {
      return Promise.resolve(errorReply(id, new TransportError.NoHandler(`no handler for ${pattern}`)));
    }
    return new Promise<ReplyEnvelope>((resolve) => {
      this.runWithProcessingHooks(context, async (runEndHook) => {
        try {
          this.executions += 1;
          const result$ = this.transformToObservable(await handler(envelope.data, context));
          // One request, one reply: a stream answers with its last value.
          const data: unknown = await lastValueFrom(result$, { defaultValue: null });
          resolve({ v: ENVELOPE_VERSION, id, ok: true, data: data ?? null });
        } catch (error) {
          const body = toReplyError(error);
          if (body.code === TransportError.HandlerFailed.code) this.logger.error(`handler ${pattern} failed`, error);
          resolve({ v: ENVELOPE_VERSION, id, ok: false, error: body });
        } finally {
          runEndHook();
        }
      });
    });
  }
}
