/**
 * The card side of ES5 over MQTT (topic scheme and reasoning: docs/topics.md, docs/architecture.md §5).
 *
 *   rsp/v1/euicc/{eid}/es5/cmd      SM-SR → card   { id, replyTo, script: hex AA… }         QoS 1
 *   {replyTo} = rsp/v1/euicc/{eid}/es5/reply/{smsr}/{instance}
 *                                   card → SM-SR   { id, eid, script: hex AB… } | { id, eid, error }
 *   rsp/v1/euicc/{eid}/es5/notify   card → SM-SR   { eid, seq, tlv: hex E1… }  resent until 3A08
 *   rsp/v1/euicc/{eid}/presence     retained       { status: 'online' | 'offline' } (last will)
 *
 * MQTT 5 extras: a command's responseTopic stands in for a missing `replyTo`, and its correlationData is
 * echoed on the reply. Everything else is plain MQTT 3.1.1, so aedes and Mosquitto both work.
 *
 * Modes: `single` opens one client per card (clientId = EID, its own last will — what a real device
 * does); `gateway` serves many cards through one client subscribed to `rsp/v1/euicc/+/es5/cmd`, since
 * 100k TCP connections from one process would measure the OS, not the simulator.
 *
 * Identity (docs/security.md): each connection proves itself with a TLS client certificate whose CN is the
 * EID (single) or the gateway id, which is also its client id. A card answers only on its own reply topic
 * for the SM-SR it serves (`smsrId`): a command naming any other reply topic is dropped unanswered, so a
 * forged command cannot make a card publish elsewhere.
 */
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import {
  TOPIC_FILTERS,
  TOPIC_ROOT,
  es5CommandTopic,
  es5NotifyTopic,
  gatewayPresenceTopic,
  parseCardTopic,
  parseEs5ReplyTopic,
  presenceTopic,
  type es5,
} from '@rsp/contracts';
import { isRspError } from '@rsp/errors';
import { disableNagle, mqttClientOptions, type MqttCredentials } from '@rsp/mqtt-transport';
import { PowerLoss } from '@rsp/offcard';
import type { CardPool } from './card-host';
import type { DeviceEventBody } from './device';
import { runScript } from '@rsp/card';
import { Es5ScriptMalformedError, decodeCommandScript, encodeResponseScript } from '@rsp/offcard';
import { corruptBytes, type FaultPlanRunner } from './faults';

// Topic names and envelopes are the contract shared with the SM-SR (libs/contracts, docs/topics.md).
export { TOPIC_ROOT };
export type Es5CommandEnvelope = es5.Es5CommandEnvelope;
export type Es5ReplyEnvelope = es5.Es5ReplyEnvelope;
export type Es5NotificationEnvelope = es5.Es5NotificationEnvelope;
export const topics = {
  command: es5CommandTopic,
  commandWildcard: TOPIC_FILTERS.allCommands,
  notify: es5NotifyTopic,
  presence: presenceTopic,
  gatewayPresence: gatewayPresenceTopic,
} as const;

export interface MqttEs5Options {
  url: string;
  pool: CardPool;
  mode: 'single' | 'gateway';
  /** The SM-SR these cards serve: the only one they answer (their reply topics name it). */
  smsrId: string;
  /**
   * The broker identity of each connection: a card's (principal = EID) in single mode, the gateway's
   * (principal = gatewayId) in gateway mode. Required unless `allowAnonymous`.
   */
  credentials?: (principal: string) => MqttCredentials;
  /** Connect without identities: tests against an insecure test broker only. */
  allowAnonymous?: boolean;
  /** Cards to serve (default: every card of the pool). */
  eids?: readonly string[];
  /** 4 = MQTT 3.1.1 (default), 5 = MQTT 5. */
  protocolVersion?: 4 | 5;
  gatewayId?: string;
  /** Notification resend backoff: first delay, doubling up to the maximum (default 2 s … 60 s). */
  notificationRetry?: { initialMs: number; maxMs: number };
  /** Send the pending notifications (e.g. the eUICC declaration) when a card comes online. Default true. */
  announce?: boolean;
  /** Gateway mode publishes per-card presence only up to this many cards (default 1000). */
  perCardPresenceLimit?: number;
  faults?: FaultPlanRunner;
  /** Device-level view of transport activity (wired to DeviceHandle.publish by the fleet). */
  onDeviceEvent?: (eid: string, event: DeviceEventBody) => void;
  /** False while the device has no path to the SM-SR: commands are lost, notifications wait. */
  reachable?: (eid: string) => boolean;
  /** Connection progress (single mode: cards connected so far; gateway mode: the one connection). */
  onProgress?: (done: number, total: number) => void;
  /** Replies remembered per card for duplicate envelope ids (default 8). */
  duplicateCacheSize?: number;
}

interface InFlight {
  timer: NodeJS.Timeout;
  delayMs: number;
  attempt: number;
}

const QOS = 1 as const;

export class MqttEs5Bridge {
  private readonly clients = new Map<string, MqttClient>();
  private gateway: MqttClient | undefined;
  private readonly replies = new Map<string, Map<string, string>>();
  private readonly inFlight = new Map<string, Map<number, InFlight>>();
  private readonly presenceEids: string[];
  private closed = false;
  private readonly onCardEvent: (eid: string, event: { type: string; seq?: number }) => void;

  private constructor(private readonly options: MqttEs5Options) {
    const eids = options.eids ?? [...options.pool.eids()];
    this.presenceEids = options.mode === 'single' || eids.length <= (options.perCardPresenceLimit ?? 1000) ? [...eids] : [];
    this.onCardEvent = (eid, event) => {
      if (event.type === 'notification-queued') this.pumpNotifications(eid);
      if (event.type === 'notification-acknowledged' && event.seq !== undefined) this.settle(eid, event.seq);
    };
    options.pool.on('card-event', this.onCardEvent);
  }

  /** Connects (one client per card, or one gateway client), subscribes and announces presence. */
  static async start(options: MqttEs5Options): Promise<MqttEs5Bridge> {
    const bridge = new MqttEs5Bridge(options);
    const eids = options.eids ?? [...options.pool.eids()];
    if (options.mode === 'single') {
      let connected = 0;
      await Promise.all(eids.map((eid) => bridge.connectCard(eid).then(() => options.onProgress?.((connected += 1), eids.length))));
    } else {
      await bridge.connectGateway();
      options.onProgress?.(1, 1);
    }
    if (options.announce ?? true) for (const eid of eids) bridge.pumpNotifications(eid);
    return bridge;
  }

  /** Graceful stop: presence goes 'offline' explicitly, timers are cleared, clients disconnect. */
  async close(): Promise<void> {
    this.closed = true;
    this.options.pool.off('card-event', this.onCardEvent);
    for (const flights of this.inFlight.values()) for (const f of flights.values()) clearTimeout(f.timer);
    this.inFlight.clear();
    const offline = JSON.stringify({ status: 'offline' });
    const ends: Promise<void>[] = [];
    for (const [eid, client] of this.clients) {
      ends.push(publishAsync(client, topics.presence(eid), offline, true).then(() => endAsync(client)));
    }
    if (this.gateway) {
      const gw = this.gateway;
      await Promise.all(this.presenceEids.map((eid) => publishAsync(gw, topics.presence(eid), offline, true)));
      await publishAsync(gw, topics.gatewayPresence(this.gatewayId), offline, true);
      ends.push(endAsync(gw));
    }
    await Promise.all(ends);
  }

  /** Drops the TCP connection(s) without DISCONNECT, as a power cut would: the broker sends the last will. */
  simulateCrash(eid?: string): void {
    this.closed = true;
    for (const flights of this.inFlight.values()) for (const f of flights.values()) clearTimeout(f.timer);
    const victims = eid ? [this.clients.get(eid)] : [...this.clients.values(), this.gateway];
    for (const client of victims) {
      if (!client) continue;
      client.options.reconnectPeriod = 0;
      client.stream.destroy();
      client.end(true);
    }
  }

  private get gatewayId(): string {
    return this.options.gatewayId ?? 'sim-gateway';
  }

  private clientOptions(principal: string, willTopic: string): IClientOptions {
    const credentials = this.options.credentials?.(principal);
    return mqttClientOptions({
      url: this.options.url,
      ...(credentials ? { credentials } : {}),
      ...(this.options.allowAnonymous ? { allowAnonymous: true, anonymousClientId: principal } : {}),
      protocolVersion: this.options.protocolVersion ?? 4,
      clean: true,
      will: { topic: willTopic, payload: Buffer.from(JSON.stringify({ status: 'offline' })), qos: QOS, retain: true },
    });
  }

  private async connectCard(eid: string): Promise<void> {
    const client = connect(this.options.url, this.clientOptions(eid, topics.presence(eid)));
    this.clients.set(eid, client);
    client.on('message', (_topic, payload, packet) => this.onCommand(client, eid, payload, packet));
    await onceConnected(client);
    await client.subscribeAsync(topics.command(eid), { qos: QOS });
    await publishAsync(client, topics.presence(eid), JSON.stringify({ status: 'online' }), true);
  }

  private async connectGateway(): Promise<void> {
    const client = connect(this.options.url, this.clientOptions(this.gatewayId, topics.gatewayPresence(this.gatewayId)));
    this.gateway = client;
    client.on('message', (topic, payload, packet) => {
      const card = parseCardTopic(topic);
      if (card?.kind === 'cmd' && this.options.pool.has(card.eid)) this.onCommand(client, card.eid, payload, packet);
    });
    await onceConnected(client);
    await client.subscribeAsync(topics.commandWildcard, { qos: QOS });
    const online = JSON.stringify({ status: 'online', via: this.gatewayId });
    await publishAsync(client, topics.gatewayPresence(this.gatewayId), JSON.stringify({ status: 'online' }), true);
    await Promise.all(this.presenceEids.map((eid) => publishAsync(client, topics.presence(eid), online, true)));
  }

  /** Transport faults first (drop / delay / duplicate / corrupt), then execution. */
  private onCommand(client: MqttClient, eid: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.closed || (this.options.reachable && !this.options.reachable(eid))) return;
    const decision = this.options.faults?.forDevice(eid).nextEs5() ?? { action: 'deliver' };
    switch (decision.action) {
      case 'drop':
        return;
      case 'delay':
        setTimeout(() => this.handleCommand(client, eid, payload, packet), decision.ms).unref();
        return;
      case 'corrupt':
        this.handleCommand(client, eid, payload, packet, decision.corruptAt);
        return;
      case 'duplicate':
        this.handleCommand(client, eid, payload, packet);
        this.handleCommand(client, eid, payload, packet); // the second is answered from the cache
        return;
      case 'deliver':
        this.handleCommand(client, eid, payload, packet);
    }
  }

  private handleCommand(client: MqttClient, eid: string, payload: Buffer, packet: IPublishPacket, corruptAt?: number): void {
    let envelope: Es5CommandEnvelope;
    try {
      envelope = JSON.parse(payload.toString('utf8')) as Es5CommandEnvelope;
    } catch {
      return; // not JSON: there is no id to answer to
    }
    const replyTo = typeof envelope.replyTo === 'string' ? envelope.replyTo : packet.properties?.responseTopic;
    if (typeof envelope.id !== 'string' || !replyTo) return;
    // Only the reply topic under this card's own tree, for the SM-SR it serves: anything else is dropped.
    const target = parseEs5ReplyTopic(replyTo);
    if (target?.eid !== eid || target.smsrId !== this.options.smsrId) {
      this.options.onDeviceEvent?.(eid, { type: 'es5-refused', id: envelope.id, reason: 'reply topic of another card or SM-SR' });
      return;
    }
    const correlationData = packet.properties?.correlationData;
    const cache = this.replyCache(eid);
    const cached = cache.get(envelope.id);
    if (cached !== undefined) return void this.reply(client, replyTo, cached, correlationData);

    let reply: Es5ReplyEnvelope;
    try {
      if (typeof envelope.script !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(envelope.script)) {
        throw new Es5ScriptMalformedError('script must be non-empty hex');
      }
      let script: Buffer = Buffer.from(envelope.script, 'hex');
      if (corruptAt !== undefined) script = corruptBytes(script, corruptAt);
      const decoded = decodeCommandScript(script);
      this.options.faults?.forDevice(eid).tamperEs8Segment(decoded.commands); // a man in the middle (fault plan)
      const result = this.options.pool.withCard(eid, (card) => runScript(card, decoded));
      reply = { id: envelope.id, eid, script: encodeResponseScript(result).toString('hex') };
      this.options.onDeviceEvent?.(eid, { type: 'es5-script', id: envelope.id, executed: result.executed });
    } catch (error) {
      if (error instanceof PowerLoss) return; // no power, no answer; the SM-SR times out
      reply = isRspError(error)
        ? { id: envelope.id, eid, error: { code: error.code, message: error.message } }
        : { id: envelope.id, eid, error: { code: 'ERR_SIM_INTERNAL', message: 'internal error' } };
    }
    const text = JSON.stringify(reply);
    cache.set(envelope.id, text);
    while (cache.size > (this.options.duplicateCacheSize ?? 8)) cache.delete(cache.keys().next().value as string);
    this.reply(client, replyTo, text, correlationData);
  }

  private reply(client: MqttClient, topic: string, text: string, correlationData?: Buffer): void {
    const v5 = (this.options.protocolVersion ?? 4) === 5;
    client.publish(topic, text, { qos: QOS, ...(v5 && correlationData ? { properties: { correlationData } } : {}) });
  }

  private replyCache(eid: string): Map<string, string> {
    let cache = this.replies.get(eid);
    if (!cache) this.replies.set(eid, (cache = new Map()));
    return cache;
  }

  private clientFor(eid: string): MqttClient | undefined {
    return this.clients.get(eid) ?? this.gateway;
  }

  /** Sends every pending notification not yet in flight, each on its own backoff timer. */
  pumpNotifications(eid: string): void {
    if (this.closed) return;
    const flights = this.inFlight.get(eid) ?? new Map<number, InFlight>();
    this.inFlight.set(eid, flights);
    for (const notification of this.options.pool.pendingNotifications(eid)) {
      if (flights.has(notification.seq)) continue;
      const initial = this.options.notificationRetry?.initialMs ?? 2000;
      const flight: InFlight = { timer: undefined as unknown as NodeJS.Timeout, delayMs: initial, attempt: 0 };
      flights.set(notification.seq, flight);
      this.sendNotification(eid, notification.seq, notification.tlv, flight);
    }
  }

  /**
   * The device can reach the network again (coverage or Wi-Fi back): a modem retries what waits as soon as
   * it is registered, not at the next tick of a backoff that grew while it was offline. Each pending
   * notification is sent now and its backoff starts again from the first delay.
   */
  resumeNotifications(eid: string): void {
    if (this.closed) return;
    const initial = this.options.notificationRetry?.initialMs ?? 2000;
    const flights = this.inFlight.get(eid);
    for (const notification of this.options.pool.pendingNotifications(eid)) {
      const flight = flights?.get(notification.seq);
      if (!flight) continue;
      clearTimeout(flight.timer);
      flight.delayMs = initial;
      this.sendNotification(eid, notification.seq, notification.tlv, flight);
    }
    this.pumpNotifications(eid); // and any not yet in flight
  }

  private sendNotification(eid: string, seq: number, tlv: string, flight: InFlight): void {
    const stillPending = this.options.pool.pendingNotifications(eid).some((n) => n.seq === seq);
    if (this.closed || !stillPending) return this.settle(eid, seq);
    const client = this.clientFor(eid);
    if (client && (!this.options.reachable || this.options.reachable(eid))) {
      flight.attempt += 1;
      const envelope: Es5NotificationEnvelope = { eid, seq, tlv };
      client.publish(topics.notify(eid), JSON.stringify(envelope), { qos: QOS });
      this.options.onDeviceEvent?.(eid, { type: 'notification-sent', seq, attempt: flight.attempt });
    }
    const max = this.options.notificationRetry?.maxMs ?? 60_000;
    flight.timer = setTimeout(() => this.sendNotification(eid, seq, tlv, flight), flight.delayMs);
    flight.timer.unref();
    flight.delayMs = Math.min(flight.delayMs * 2, max);
  }

  private settle(eid: string, seq: number): void {
    const flight = this.inFlight.get(eid)?.get(seq);
    if (flight) clearTimeout(flight.timer);
    this.inFlight.get(eid)?.delete(seq);
  }

  /** Sequence numbers still being resent for `eid` (tests and diagnostics). */
  notificationsInFlight(eid: string): number[] {
    return [...(this.inFlight.get(eid)?.keys() ?? [])];
  }
}

function onceConnected(client: MqttClient): Promise<void> {
  // Small replies must not wait for the broker's delayed ACK (Nagle): see disableNagle in @rsp/mqtt-transport.
  disableNagle(client);
  client.on('connect', () => disableNagle(client));
  if (client.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => {
      client.off('connect', ok);
      reject(error);
    };
    const ok = (): void => {
      client.off('error', fail);
      resolve();
    };
    client.once('connect', ok);
    client.once('error', fail);
  });
}

async function publishAsync(client: MqttClient, topic: string, text: string, retain: boolean): Promise<void> {
  if (!client.connected) return;
  await client.publishAsync(topic, text, { qos: QOS, retain });
}

function endAsync(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()));
}
