/**
 * ES5 over MQTT (docs/topics.md): command scripts go to `rsp/v1/euicc/{eid}/es5/cmd` as
 * `{ id, replyTo, script }` (QoS 1); cards answer on `rsp/v1/euicc/{eid}/es5/reply/{smsrId}/{instanceId}`,
 * under their own tree, so the broker proves which card answered and only this SM-SR may read it
 * (broker-acl.ts). One filter for every card is subscribed once (no per-request subscribe/unsubscribe,
 * which loses replies under load); replies are routed by envelope id AND the EID of the topic. Works on
 * MQTT 3.1.1 (aedes) and 5. Card notifications (`…/es5/notify`) are offered to
 * {@link MqttScriptCarrier.onNotification}.
 */
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { es5, es5CommandTopic, es5ReplyFilter, es5ReplyTopic, parse, parseEs5ReplyTopic, sharedSubscription, TOPIC_FILTERS } from '@rsp/contracts';
import { connectMqtt, type MqttCredentials } from '@rsp/mqtt-transport';
import { Es5Error } from './errors';
import { ScriptEs5Channel, type IsdRKeyProvider, type ScriptCarrier } from './script-es5-channel';

export interface MqttEs5Options {
  /** The SM-SR id: cards answer on reply topics naming it. */
  smsrId: string;
  /** The service's one broker connection (connection.ts), shared and not closed by close(). */
  client?: MqttClient;
  /** Or a connection of its own: broker URL and identity (tests). */
  url?: string;
  credentials?: MqttCredentials;
  allowAnonymous?: boolean;
  /** Names this instance's reply topic; default a fresh `es5-{uuid}`. */
  instanceId?: string;
  protocolVersion?: 4 | 5;
  /** MQTT 5: instances of one SM-SR share notifications through `$share/{group}/…`. Default `smsr`. */
  notificationGroup?: string;
}

interface Pending {
  eid: string;
  resolve: (script: Buffer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export type NotificationHandler = (notification: es5.Es5NotificationEnvelope) => void;

export class MqttScriptCarrier implements ScriptCarrier {
  readonly instanceId: string;
  private readonly replyFilter: string;
  private readonly pending = new Map<string, Pending>();
  private readonly notificationHandlers: NotificationHandler[] = [];
  private readonly listener = (topic: string, payload: Buffer) => this.onMessage(topic, payload);

  private constructor(
    private readonly client: MqttClient,
    private readonly options: MqttEs5Options,
    instanceId: string,
    private readonly ownsClient: boolean,
  ) {
    this.instanceId = instanceId;
    this.replyFilter = es5ReplyFilter(options.smsrId, instanceId);
  }

  static async connect(options: MqttEs5Options): Promise<MqttScriptCarrier> {
    const instanceId = options.instanceId ?? `es5-${randomUUID()}`;
    let client = options.client;
    if (!client) {
      if (!options.url) throw new Es5Error.CardUnreachable('the ES5 channel needs a broker connection or URL');
      try {
        client = await connectMqtt({
          url: options.url,
          ...(options.credentials ? { credentials: options.credentials } : {}),
          ...(options.allowAnonymous ? { allowAnonymous: true, anonymousClientId: instanceId } : {}),
          protocolVersion: options.protocolVersion ?? 4,
        });
      } catch (cause) {
        throw new Es5Error.CardUnreachable('cannot reach the MQTT broker for ES5', { cause });
      }
    }
    const carrier = new MqttScriptCarrier(client, options, instanceId, options.client === undefined);
    client.on('message', carrier.listener);
    await client.subscribeAsync(carrier.replyFilter, { qos: 1 });
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
    const envelope: es5.Es5CommandEnvelope = { id, replyTo: es5ReplyTopic(eid, this.options.smsrId, this.instanceId), script: script.toString('hex') };
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Es5Error.Timeout(`no answer from ${eid} before the deadline`));
      }, Math.max(0, deadline - Date.now()));
      this.pending.set(id, { eid, resolve, reject, timer });
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
    this.client.off('message', this.listener);
    if (this.ownsClient) await this.client.endAsync();
    else if (this.client.connected) await this.client.unsubscribeAsync(this.replyFilter).catch(() => undefined);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const reply = parseEs5ReplyTopic(topic);
    const isNotification = reply === undefined && this.notificationHandlers.length > 0 && topic.endsWith('/es5/notify');
    if ((reply === undefined && !isNotification) || payload.length === 0) return;
    if (reply && (reply.smsrId !== this.options.smsrId || reply.instanceId !== this.instanceId)) return;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return; // not ours to answer: a garbage payload carries no id
    }
    if (reply) return this.onReply(reply.eid, body);
    try {
      const notification = parse(es5.es5NotificationEnvelope, body);
      for (const handler of this.notificationHandlers) handler(notification);
    } catch {
      // A malformed notification is dropped; the card repeats unacknowledged ones.
    }
  }

  /** `eid` is the card the broker proved answered (the topic's tree), not what the payload says. */
  private onReply(eid: string, body: unknown): void {
    let reply: es5.Es5ReplyEnvelope;
    try {
      reply = parse(es5.es5ReplyEnvelope, body);
    } catch {
      return;
    }
    const pending = this.pending.get(reply.id);
    // Late, duplicate (the card's replay cache answers twice) or from another card than the one asked.
    if (!pending || pending.eid !== eid || reply.eid !== eid) return;
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
