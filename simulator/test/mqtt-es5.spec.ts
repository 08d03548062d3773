import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { es5ReplyFilter, es5ReplyTopic, parseEs5ReplyTopic } from '@rsp/contracts';
import { connectMqtt } from '@rsp/mqtt-transport';
import { principal, secureMosquittoSkipReason, startSecureMosquitto, startTestBroker, type TestBroker } from '../../test/support/brokers';
import { decodeResponseScript, encodeCommandScript, statusWordOf } from '@rsp/offcard';
import { MqttEs5Bridge, topics, type Es5NotificationEnvelope, type Es5ReplyEnvelope } from '../src/mqtt-es5';
import { FaultPlanRunner } from '../src/faults';
import { stubPool, waitFor } from './support';

const GET_EID = Buffer.from('80CA005A00', 'hex');
const QUEUE_NOTIFICATION = Buffer.from('80E2880000', 'hex');
/** HandleNotificationConfirmation: 80 E2 89 00 Lc 3A08 04 4E 02 <seq> (SPEC-NOTES "STORE DATA"). */
const ack = (seq: number) => Buffer.from(`80E28900073A08044E02${seq.toString(16).padStart(4, '0')}`, 'hex');

const SMSR = 'smsr.sim';
const GATEWAY = 'gw-sim';
const PRINCIPALS = [principal(SMSR, 'sm-sr'), principal('smsr.other', 'sm-sr'), principal(GATEWAY, 'gateway')];

/** The bridge options every test shares: the SM-SR the cards serve, each connection's identity. */
const served = (broker: TestBroker) => ({ url: broker.url, smsrId: SMSR, credentials: broker.credentialsFor, gatewayId: GATEWAY });

/** A minimal SM-SR side (its own broker identity): sends envelopes, collects replies by id. */
async function smsr(broker: TestBroker, protocolVersion: 4 | 5, as = SMSR) {
  const instance = `i-${randomUUID()}`;
  const client: MqttClient = await connectMqtt({ url: broker.url, credentials: broker.credentialsFor(as), protocolVersion });
  const replyTo = (eid: string) => es5ReplyTopic(eid, as, instance);
  const replies: Array<{ body: Es5ReplyEnvelope; correlation?: string }> = [];
  const notifications: Es5NotificationEnvelope[] = [];
  const presence: Array<{ topic: string; status: string }> = [];
  client.on('message', (topic, payload, packet) => {
    if (payload.length === 0) return; // a cleared retained message
    const body = JSON.parse(payload.toString());
    if (parseEs5ReplyTopic(topic)?.instanceId === instance) replies.push({ body, correlation: packet.properties?.correlationData?.toString() });
    else if (topic.endsWith('/es5/notify')) notifications.push(body);
    else if (topic.endsWith('/presence')) presence.push({ topic, status: body.status });
  });
  await client.subscribeAsync(es5ReplyFilter(as, instance), { qos: 1 });
  return {
    instance,
    replyTo,
    replies,
    notifications,
    presence,
    client,
    async send(eid: string, commands: Buffer[], id = randomUUID(), extra: { noReplyTo?: boolean; correlation?: string } = {}) {
      const envelope = { id, ...(extra.noReplyTo ? {} : { replyTo: replyTo(eid) }), script: encodeCommandScript({ commands }).toString('hex') };
      await client.publishAsync(topics.command(eid), JSON.stringify(envelope), {
        qos: 1,
        ...(protocolVersion === 5 && extra.correlation
          ? { properties: { responseTopic: replyTo(eid), correlationData: Buffer.from(extra.correlation) } }
          : {}),
      });
      return id;
    },
    async reply(id: string) {
      await waitFor(() => replies.some((r) => r.body.id === id));
      return replies.find((r) => r.body.id === id) as { body: Es5ReplyEnvelope; correlation?: string };
    },
  };
}

function suite(name: string, start: () => Promise<TestBroker>, protocolVersion: 4 | 5) {
  describe.each(['single', 'gateway'] as const)(`ES5 over MQTT on ${name} (MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}), %s mode`, (mode) => {
    let broker: TestBroker;
    beforeAll(async () => {
      broker = await start();
    });
    afterAll(async () => broker?.close());
    const getUrl = () => broker?.url;
    it('answers a script on the envelope replyTo', async () => {
      const url = getUrl();
      if (!url) return;
      const { pool, eids } = stubPool(2);
      const bridge = await MqttEs5Bridge.start({ ...served(broker), pool, mode, protocolVersion, announce: false, });
      const sr = await smsr(broker, protocolVersion);
      try {
        for (const eid of eids) {
          const { body } = await sr.reply(await sr.send(eid, [GET_EID]));
          expect(body.eid).toBe(eid);
          const script = decodeResponseScript(Buffer.from(body.script as string, 'hex'));
          expect(script.executed).toBe(1);
          expect(script.responses[0]?.toString('hex')).toBe(`${eid}9000`);
        }
        // malformed script → typed error reply
        await sr.client.publishAsync(topics.command(eids[0] as string), JSON.stringify({ id: 'bad', replyTo: sr.replyTo(eids[0] as string), script: 'zz' }), { qos: 1 });
        expect((await sr.reply('bad')).body.error?.code).toBe('ERR_ES5_SCRIPT_MALFORMED');
        await sr.client.publishAsync(topics.command(eids[0] as string), JSON.stringify({ id: 'bad2', replyTo: sr.replyTo(eids[0] as string), script: 'ab00' }), { qos: 1 });
        expect((await sr.reply('bad2')).body.error?.code).toBe('ERR_ES5_SCRIPT_MALFORMED');
      } finally {
        await sr.client.endAsync();
        await bridge.close();
      }
    });

    it('answers a duplicate envelope from the cache without executing it twice', async () => {
      const url = getUrl();
      if (!url) return;
      const { pool, eids } = stubPool(1);
      const eid = eids[0] as string;
      const bridge = await MqttEs5Bridge.start({ ...served(broker), pool, mode, protocolVersion, announce: false, });
      const sr = await smsr(broker, protocolVersion);
      try {
        const before = pool.pendingNotifications(eid).length;
        const id = await sr.send(eid, [QUEUE_NOTIFICATION]);
        await sr.send(eid, [QUEUE_NOTIFICATION], id);
        await waitFor(() => sr.replies.filter((r) => r.body.id === id).length === 2);
        const [a, b] = sr.replies.filter((r) => r.body.id === id);
        expect(a?.body).toEqual(b?.body);
        expect(pool.pendingNotifications(eid).length).toBe(before + 1);
      } finally {
        await sr.client.endAsync();
        await bridge.close();
      }
    });

    it('resends a notification with backoff until the SM-SR acknowledges it with 3A08', async () => {
      const url = getUrl();
      if (!url) return;
      const { pool, eids } = stubPool(1);
      const eid = eids[0] as string;
      const sr = await smsr(broker, protocolVersion);
      await sr.client.subscribeAsync(topics.notify(eid), { qos: 1 });
      const bridge = await MqttEs5Bridge.start({ ...served(broker), pool, mode, protocolVersion, notificationRetry: { initialMs: 40, maxMs: 80 } });
      try {
        await waitFor(() => sr.notifications.filter((n) => n.seq === 1).length >= 3);
        expect(sr.notifications[0]?.tlv.startsWith('e1')).toBe(true);
        const { body } = await sr.reply(await sr.send(eid, [ack(1)]));
        expect(statusWordOf(decodeResponseScript(Buffer.from(body.script as string, 'hex')).responses[0] as Buffer)).toBe(0x9000);
        expect(bridge.notificationsInFlight(eid)).toEqual([]);
        const count = sr.notifications.length;
        await new Promise((r) => setTimeout(r, 200));
        expect(sr.notifications.length).toBe(count);
      } finally {
        await sr.client.endAsync();
        await bridge.close();
      }
    });

    it('sends what waited offline as soon as the device reaches the network again, not at the next backoff tick', async () => {
      const url = getUrl();
      if (!url) return;
      const { pool, eids } = stubPool(1);
      const eid = eids[0] as string;
      const sr = await smsr(broker, protocolVersion);
      await sr.client.subscribeAsync(topics.notify(eid), { qos: 1 });
      let online = false;
      // A first retry 5 s away: without the resume, nothing would arrive within the 2 s below.
      const bridge = await MqttEs5Bridge.start({ ...served(broker), pool, mode, protocolVersion, reachable: () => online, notificationRetry: { initialMs: 5000, maxMs: 60_000 } });
      try {
        await new Promise((r) => setTimeout(r, 150));
        expect(sr.notifications).toEqual([]); // offline: nothing sent, the notification waits in flight
        expect(bridge.notificationsInFlight(eid)).toEqual([1]);
        online = true;
        bridge.resumeNotifications(eid);
        await waitFor(() => sr.notifications.some((n) => n.seq === 1), 2000);
      } finally {
        await sr.client.endAsync();
        await bridge.close();
      }
    });

    it('publishes retained presence and the broker delivers the last will on a crash', async () => {
      const url = getUrl();
      if (!url) return;
      const { pool, eids } = stubPool(1);
      const eid = eids[0] as string;
      const gatewayId = GATEWAY;
      const bridge = await MqttEs5Bridge.start({ ...served(broker), pool, mode, protocolVersion, announce: false });
      const sr = await smsr(broker, protocolVersion);
      const willTopic = mode === 'single' ? topics.presence(eid) : topics.gatewayPresence(gatewayId);
      try {
        await sr.client.subscribeAsync([...new Set([topics.presence(eid), willTopic])], { qos: 1 });
        await waitFor(() => sr.presence.some((p) => p.topic === topics.presence(eid) && p.status === 'online'));
        bridge.simulateCrash();
        await waitFor(() => sr.presence.some((p) => p.topic === willTopic && p.status === 'offline'));
      } finally {
        bridge.simulateCrash(); // the retained presence stays on this suite's private broker
        await sr.client.endAsync();
      }
    });

    if (protocolVersion === 5) {
      it('MQTT 5: uses responseTopic when replyTo is absent and echoes correlationData', async () => {
        const url = getUrl();
        if (!url) return;
        const { pool, eids } = stubPool(1);
        const bridge = await MqttEs5Bridge.start({ ...served(broker), pool, mode, protocolVersion, announce: false, });
        const sr = await smsr(broker, protocolVersion);
        try {
          const id = await sr.send(eids[0] as string, [GET_EID], undefined, { noReplyTo: true, correlation: 'corr-1' });
          expect((await sr.reply(id)).correlation).toBe('corr-1');
        } finally {
          await sr.client.endAsync();
          await bridge.close();
        }
      });
    }
  });
}

suite('aedes with TLS identities', () => startTestBroker({ principals: PRINCIPALS }), 4);
const mosquittoSkip = secureMosquittoSkipReason();
if (mosquittoSkip === undefined) suite('Mosquitto, shipped configuration', () => startSecureMosquitto({ principals: PRINCIPALS }), 5);
else describe.skip(`ES5 over MQTT on Mosquitto: ${mosquittoSkip}`, () => it('skipped', () => undefined));

describe('a card answers only its own reply topic for the SM-SR it serves', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ principals: PRINCIPALS });
  });
  afterAll(async () => broker?.close());

  it.each([
    ['another SM-SR\u2019s reply tree', (sr: { instance: string }, eid: string, _other: string) => es5ReplyTopic(eid, 'smsr.other', sr.instance)],
    ['another card\u2019s tree', (sr: { instance: string }, _eid: string, other: string) => es5ReplyTopic(other, SMSR, sr.instance)],
    ['a topic outside any reply tree', () => 'rsp/v1/mno/mno~demo/es4/notify'],
  ])('a command naming %s is dropped unanswered and unexecuted, with an es5-refused device event', async (_label, replyToOf) => {
    const { pool, eids } = stubPool(2);
    const [eid, other] = eids as [string, string];
    const events: Array<{ eid: string; type: string }> = [];
    const bridge = await MqttEs5Bridge.start({ ...served(broker), pool, mode: 'single', announce: false, onDeviceEvent: (card, event) => events.push({ eid: card, type: event.type }) });
    const sr = await smsr(broker, 4);
    try {
      const before = pool.pendingNotifications(eid).length;
      const envelope = { id: 'forged', replyTo: replyToOf(sr, eid, other), script: encodeCommandScript({ commands: [QUEUE_NOTIFICATION] }).toString('hex') };
      await sr.client.publishAsync(topics.command(eid), JSON.stringify(envelope), { qos: 1 });
      await waitFor(() => events.some((event) => event.type === 'es5-refused'));
      expect(events).toContainEqual({ eid, type: 'es5-refused' });
      expect(pool.pendingNotifications(eid).length).toBe(before);
      // The genuine reply topic still works.
      expect((await sr.reply(await sr.send(eid, [GET_EID]))).body.eid).toBe(eid);
    } finally {
      await sr.client.endAsync();
      await bridge.close();
    }
  });
});

describe('ES5 transport faults (aedes)', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ principals: PRINCIPALS });
  });
  afterAll(async () => broker?.close());

  it.each([
    ['drop', { drop: 1 }, 0],
    ['duplicate', { duplicate: 1 }, 2],
    ['corrupt', { corrupt: 1 }, 1],
  ] as const)('%s', async (name, es5, expectedReplies) => {
    const runner = new FaultPlanRunner({ seed: 9, es5 });
    const { pool, eids } = stubPool(1, { faults: runner });
    const eid = eids[0] as string;
    const bridge = await MqttEs5Bridge.start({ ...served(broker), pool, mode: 'single', announce: false, faults: runner });
    const sr = await smsr(broker, 4);
    try {
      const before = pool.pendingNotifications(eid).length;
      const id = await sr.send(eid, [QUEUE_NOTIFICATION]);
      await new Promise((r) => setTimeout(r, 150));
      const replies = sr.replies.filter((r) => r.body.id === id);
      expect(replies).toHaveLength(expectedReplies);
      if (name === 'duplicate') {
        expect(replies[0]?.body).toEqual(replies[1]?.body);
        expect(pool.pendingNotifications(eid).length).toBe(before + 1); // executed once
      }
      if (name === 'drop') expect(pool.pendingNotifications(eid).length).toBe(before);
    } finally {
      await sr.client.endAsync();
      await bridge.close();
    }
  });
});

