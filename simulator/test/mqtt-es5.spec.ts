import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from '@rsp/mqtt-transport';
import { realService } from '../../test/support/real-services';
import { decodeResponseScript, encodeCommandScript, statusWordOf } from '../src/es5-script';
import { MqttEs5Bridge, topics, type Es5NotificationEnvelope, type Es5ReplyEnvelope } from '../src/mqtt-es5';
import { FaultPlanRunner } from '../src/faults';
import { stubPool, waitFor } from './support';

const GET_EID = Buffer.from('80CA005A00', 'hex');
const QUEUE_NOTIFICATION = Buffer.from('80E2880000', 'hex');
/** HandleNotificationConfirmation: 80 E2 89 00 Lc 3A08 04 4E 02 <seq> (SPEC-NOTES "STORE DATA"). */
const ack = (seq: number) => Buffer.from(`80E28900073A08044E02${seq.toString(16).padStart(4, '0')}`, 'hex');

/** A minimal SM-SR side: sends envelopes, collects replies by id. */
async function smsr(url: string, protocolVersion: 4 | 5) {
  const instance = randomUUID();
  const client: MqttClient = await connectAsync(url, { protocolVersion, clientId: `smsr-${instance}` });
  const replies: Array<{ body: Es5ReplyEnvelope; correlation?: string }> = [];
  const notifications: Es5NotificationEnvelope[] = [];
  const presence: Array<{ topic: string; status: string }> = [];
  client.on('message', (topic, payload, packet) => {
    if (payload.length === 0) return; // a cleared retained message
    const body = JSON.parse(payload.toString());
    if (topic === topics.reply(instance)) replies.push({ body, correlation: packet.properties?.correlationData?.toString() });
    else if (topic.endsWith('/es5/notify')) notifications.push(body);
    else if (topic.endsWith('/presence')) presence.push({ topic, status: body.status });
  });
  await client.subscribeAsync(topics.reply(instance), { qos: 1 });
  return {
    instance,
    replies,
    notifications,
    presence,
    client,
    async send(eid: string, commands: Buffer[], id = randomUUID(), extra: { noReplyTo?: boolean; correlation?: string } = {}) {
      const envelope = { id, ...(extra.noReplyTo ? {} : { replyTo: topics.reply(instance) }), script: encodeCommandScript({ commands }).toString('hex') };
      await client.publishAsync(topics.command(eid), JSON.stringify(envelope), {
        qos: 1,
        ...(protocolVersion === 5 && extra.correlation
          ? { properties: { responseTopic: topics.reply(instance), correlationData: Buffer.from(extra.correlation) } }
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

function suite(name: string, getUrl: () => string | undefined, protocolVersion: 4 | 5) {
  describe.each(['single', 'gateway'] as const)(`ES5 over MQTT on ${name} (MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}), %s mode`, (mode) => {
    it('answers a script on the envelope replyTo', async () => {
      const url = getUrl();
      if (!url) return;
      const { pool, eids } = stubPool(2);
      const bridge = await MqttEs5Bridge.start({ url, pool, mode, protocolVersion, announce: false, gatewayId: `gw-${randomUUID()}` });
      const sr = await smsr(url, protocolVersion);
      try {
        for (const eid of eids) {
          const { body } = await sr.reply(await sr.send(eid, [GET_EID]));
          expect(body.eid).toBe(eid);
          const script = decodeResponseScript(Buffer.from(body.script as string, 'hex'));
          expect(script.executed).toBe(1);
          expect(script.responses[0]?.toString('hex')).toBe(`${eid}9000`);
        }
        // malformed script → typed error reply
        await sr.client.publishAsync(topics.command(eids[0] as string), JSON.stringify({ id: 'bad', replyTo: topics.reply(sr.instance), script: 'zz' }), { qos: 1 });
        expect((await sr.reply('bad')).body.error?.code).toBe('ERR_ES5_SCRIPT_MALFORMED');
        await sr.client.publishAsync(topics.command(eids[0] as string), JSON.stringify({ id: 'bad2', replyTo: topics.reply(sr.instance), script: 'ab00' }), { qos: 1 });
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
      const bridge = await MqttEs5Bridge.start({ url, pool, mode, protocolVersion, announce: false, gatewayId: `gw-${randomUUID()}` });
      const sr = await smsr(url, protocolVersion);
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
      const sr = await smsr(url, protocolVersion);
      await sr.client.subscribeAsync(topics.notify(eid), { qos: 1 });
      const bridge = await MqttEs5Bridge.start({ url, pool, mode, protocolVersion, notificationRetry: { initialMs: 40, maxMs: 80 }, gatewayId: `gw-${randomUUID()}` });
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

    it('publishes retained presence and the broker delivers the last will on a crash', async () => {
      const url = getUrl();
      if (!url) return;
      const { pool, eids } = stubPool(1);
      const eid = eids[0] as string;
      const gatewayId = `gw-${randomUUID()}`;
      const bridge = await MqttEs5Bridge.start({ url, pool, mode, protocolVersion, announce: false, gatewayId });
      const sr = await smsr(url, protocolVersion);
      const willTopic = mode === 'single' ? topics.presence(eid) : topics.gatewayPresence(gatewayId);
      try {
        await sr.client.subscribeAsync([...new Set([topics.presence(eid), willTopic])], { qos: 1 });
        await waitFor(() => sr.presence.some((p) => p.topic === topics.presence(eid) && p.status === 'online'));
        bridge.simulateCrash();
        await waitFor(() => sr.presence.some((p) => p.topic === willTopic && p.status === 'offline'));
      } finally {
        bridge.simulateCrash();
        for (const topic of new Set([topics.presence(eid), willTopic])) await sr.client.publishAsync(topic, '', { qos: 1, retain: true });
        await sr.client.endAsync();
      }
    });

    if (protocolVersion === 5) {
      it('MQTT 5: uses responseTopic when replyTo is absent and echoes correlationData', async () => {
        const url = getUrl();
        if (!url) return;
        const { pool, eids } = stubPool(1);
        const bridge = await MqttEs5Bridge.start({ url, pool, mode, protocolVersion, announce: false, gatewayId: `gw-${randomUUID()}` });
        const sr = await smsr(url, protocolVersion);
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

let broker: EmbeddedBroker;
beforeAll(async () => {
  broker = await startEmbeddedBroker({ port: 0 });
});
afterAll(async () => broker.close());
suite('aedes', () => broker.url, 4);

describe('ES5 transport faults (aedes)', () => {
  it.each([
    ['drop', { drop: 1 }, 0],
    ['duplicate', { duplicate: 1 }, 2],
    ['corrupt', { corrupt: 1 }, 1],
  ] as const)('%s', async (name, es5, expectedReplies) => {
    const runner = new FaultPlanRunner({ seed: 9, es5 });
    const { pool, eids } = stubPool(1, { faults: runner });
    const eid = eids[0] as string;
    const bridge = await MqttEs5Bridge.start({ url: broker.url, pool, mode: 'single', announce: false, faults: runner });
    const sr = await smsr(broker.url, 4);
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

const mosquitto = await realService('mqtt');
if (mosquitto.url) suite('Mosquitto', () => mosquitto.url, 5);
else describe.skip(`Mosquitto: ${mosquitto.skipReason}`, () => it('skipped', () => undefined));
