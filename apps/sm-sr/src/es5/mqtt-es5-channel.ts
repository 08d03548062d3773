/**
 * ES5 over MQTT (docs/topics.md): command scripts go to `rsp/v1/euicc/{eid}/es5/cmd` as
 * `{ id, replyTo, script }` (QoS 1); cards answer on this instance's ONE reply topic
 * `rsp/v1/reply/{instanceId}`, subscribed once at connect (no per-request subscribe/unsubscribe, which
 * loses replies under load), and replies are routed by envelope id. Works on MQTT 3.1.1 (aedes) and 5.
 * Card notifications (`…/es5/notify`) are offered to {@link MqttScriptCarrier.onNotification}.
 */
import { randomUUID } from 'node:crypto';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { es5, es5CommandTopic, parse, replyTopic, sharedSubscription, TOPIC_FILTERS } from '@rsp/contracts';
import { disableNagle } from '@rsp/mqtt-transport';
import { Es5Error } from './errors';
import { ScriptEs5Channel, type IsdRKeyProvider, type ScriptCarrier } from './script-es5-channel';

export interface MqttEs5Options {
  url: string;
  /** Names the reply topic and the MQTT client id; default a fresh UUID. */
  instanceId?: string;
  protocolVersion?: 4 | 5;
  /** MQTT 5: instances of one SM-SR share notifications through `$share/{group}/…`. Default `smsr`. */
  notificationGroup?: string;
  mqtt?: IClientOptions;
}

interface Pending {
  resolve: (script: Buffer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export type NotificationHandler = (notification: es5.Es5NotificationEnvelope) => void;

export class MqttScriptCarrier implements ScriptCarrier {
  readonly instanceId: string;
  private readonly replyTopic: string;
  private readonly pending = new Map<string, Pending>();
  private readonly notificationHandlers: NotificationHandler[] = [];

  private constructor(
    private readonly client: MqttClient,
    private readonly options: MqttEs5Options,
    instanceId: string,
  ) {
    this.instanceId = instanceId;
    this.replyTopic = replyTopic(instanceId);
  }

  static async connect(options: MqttEs5Options): Promise<MqttScriptCarrier> {
    const instanceId = options.instanceId ?? `smsr-${randomUUID()}`;
    let client: MqttClient;
    try {
      client = await connectAsync(options.url, {
        clientId: instanceId,
        protocolVersion: options.protocolVersion ?? 4,
        clean: true,
        reconnectPeriod: 1000,
        ...options.mqtt,
      });
    } catch (cause) {
      throw new Es5Error.CardUnreachable(`cannot reach the MQTT broker for ES5`, { cause });
    }
    disableNagle(client);
    client.on('connect', () => disableNagle(client));
    const carrier = new MqttScriptCarrier(client, options, instanceId);
    client.on('message', (topic, payload) => carrier.onMessage(topic, payload));
    await client.subscribeAsync(carrier.replyTopic, { qos: 1 });
    return carrier;
  }

  /** Receives card notifications from now on (one subscription; shared between instances under MQTT 5). */
  async onNotification(handler: NotificationHandler): Promise<void> {
    this.notificationHandlers.push(handler);
    if (this.notificationHandlers.length > 1) return;
    const filter =
      (this.options.protocolVersion ?? 4) === 5
        ? sharedSubscription(this.options.notificationGroup ?? 'smsr', TOPIC_FILTERS.allNotifications)
        : TOPIC_FILTERS.allNotifications;
    await this.client.subscribeAsync(filter, { qos: 1 });
  }

  exchange(eid: string, script: Buffer, deadline: number): Promise<Buffer> {
    const id = randomUUID();
    const envelope: es5.Es5CommandEnvelope = { id, replyTo: this.replyTopic, script: script.toString('hex') };
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Es5Error.Timeout(`no answer from ${eid} before the deadline`));
      }, Math.max(0, deadline - Date.now()));
      this.pending.set(id, { resolve, reject, timer });
      this.client.publish(es5CommandTopic(eid), JSON.stringify(envelope), { qos: 1 }, (error) => {
        if (!error) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new Es5Error.CardUnreachable('the broker refused the ES5 command', { cause: error }));
      });
    });
  }

  async close(): Promise<void> {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new Es5Error.CardUnreachable('the ES5 channel closed'));
      this.pending.delete(id);
    }
    await this.client.endAsync();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (payload.length === 0) return;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return; // not ours to answer: a garbage payload carries no id
    }
    if (topic === this.replyTopic) return this.onReply(body);
    if (topic.endsWith('/es5/notify')) {
      try {
        const notification = parse(es5.es5NotificationEnvelope, body);
        for (const handler of this.notificationHandlers) handler(notification);
      } catch {
        // A malformed notification is dropped; the card repeats unacknowledged ones.
      }
    }
  }

  private onReply(body: unknown): void {
    let reply: es5.Es5ReplyEnvelope;
    try {
      reply = parse(es5.es5ReplyEnvelope, body);
    } catch {
      return;
    }
    const pending = this.pending.get(reply.id);
    if (!pending) return; // late or duplicate reply (the card's replay cache answers twice)
    this.pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.script !== undefined) pending.resolve(Buffer.from(reply.script, 'hex'));
    else pending.reject(new Es5Error.CardError(`the card reported ${reply.error?.code ?? 'an error'}`));
  }
}

export class MqttEs5Channel extends ScriptEs5Channel {
  private constructor(readonly carrier: MqttScriptCarrier, keys: IsdRKeyProvider, defaultTimeoutMs?: number) {
    super({ carrier, keys, ...(defaultTimeoutMs === undefined ? {} : { defaultTimeoutMs }) });
  }

  static async connect(options: MqttEs5Options & { keys: IsdRKeyProvider; defaultTimeoutMs?: number }): Promise<MqttEs5Channel> {
    const carrier = await MqttScriptCarrier.connect(options);
    return new MqttEs5Channel(carrier, options.keys, options.defaultTimeoutMs);
  }

  onNotification(handler: NotificationHandler): Promise<void> {
    return this.carrier.onNotification(handler);
  }
}
