/**
 * The same broker rules on both brokers: one matrix of publishes and subscriptions, run against the
 * embedded aedes broker and against Mosquitto with the shipped configuration (scripts/mosquitto-config.ts),
 * and compared with the table of libs/contracts/src/broker-acl.ts. A publish counts as allowed when a
 * monitor receives it; a subscription when the subscriber receives a message an allowed principal sends.
 * (Mosquitto's acl_file checks reads when delivering, aedes refuses the SUBSCRIBE: either way nothing
 * arrives.) Plus the identity rules: no anonymous connect, no client-id takeover.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import {
  es3CallbackPattern,
  es3Pattern,
  es5CommandTopic,
  es5NotifyTopic,
  es5ReplyTopic,
  mayPublish,
  maySubscribe,
  mnoNotifyTopic,
  presenceTopic,
  serviceTopic,
  type BrokerPrincipal,
} from '@rsp/contracts';
import { mqttClientOptions } from '@rsp/mqtt-transport';
import { DEMO_EID_FIRST_SERIAL, DEMO_EID_PREFIX, generateEid } from '@rsp/pki';
import { principal, secureMosquittoSkipReason, startSecureMosquitto, startTestBroker, type TestBroker } from '../support/brokers';

const CARD = generateEid(DEMO_EID_PREFIX, DEMO_EID_FIRST_SERIAL);
const OTHER_CARD = generateEid(DEMO_EID_PREFIX, DEMO_EID_FIRST_SERIAL + 1);
const PRINCIPALS: BrokerPrincipal[] = [
  principal('smsr.demo', 'sm-sr'),
  principal('smdp.demo', 'sm-dp'),
  principal('smdp.other', 'sm-dp'),
  principal('owner-registry', 'owner-registry'),
  principal('mno.demo', 'mno'),
  principal('fleet-gw', 'gateway'),
  principal('auditor', 'monitor'),
];
const listed = (name: string) => PRINCIPALS.find((p) => p.name === name);
const STATUS = `rsp/v1/owner/device/${CARD}/status`;

/** [who publishes, topic] */
const PUBLISHES: Array<[string, string]> = [
  ['smsr.demo', es5CommandTopic(CARD)],
  ['smdp.demo', es5CommandTopic(CARD)],
  [CARD, es5CommandTopic(OTHER_CARD)],
  [CARD, es5ReplyTopic(CARD, 'smsr.demo', 'i1')],
  [CARD, es5ReplyTopic(OTHER_CARD, 'smsr.demo', 'i1')],
  [CARD, es5NotifyTopic(CARD)],
  [CARD, presenceTopic(OTHER_CARD)],
  ['fleet-gw', es5NotifyTopic(OTHER_CARD)],
  ['smdp.demo', serviceTopic('smdp.demo', es3Pattern('smsr.demo', 'DisableProfile'))],
  ['smdp.other', serviceTopic('smdp.demo', es3Pattern('smsr.demo', 'DisableProfile'))],
  [CARD, serviceTopic('smdp.demo', es3Pattern('smsr.demo', 'DisableProfile'))],
  ['smsr.demo', serviceTopic('smsr.demo', es3CallbackPattern('smdp.demo', 'HandleProfileEnabledNotification'))],
  ['owner-registry', STATUS],
  ['smdp.demo', STATUS],
  [CARD, STATUS],
  ['smdp.demo', mnoNotifyTopic('mno.demo', 'es2')],
  ['mno.demo', mnoNotifyTopic('mno.demo', 'es2')],
  ['auditor', presenceTopic(CARD)],
];

/** [who subscribes, topic, who publishes it] */
const SUBSCRIPTIONS: Array<[string, string, string]> = [
  [CARD, es5CommandTopic(CARD), 'smsr.demo'],
  [OTHER_CARD, es5CommandTopic(CARD), 'smsr.demo'],
  ['fleet-gw', es5CommandTopic(CARD), 'smsr.demo'],
  ['smsr.demo', es5ReplyTopic(CARD, 'smsr.demo', 'i1'), CARD],
  ['smdp.demo', es5ReplyTopic(CARD, 'smsr.demo', 'i1'), CARD],
  ['smsr.demo', serviceTopic('smdp.demo', es3Pattern('smsr.demo', 'GetEIS')), 'smdp.demo'],
  [OTHER_CARD, serviceTopic('smdp.demo', es3Pattern('smsr.demo', 'GetEIS')), 'smdp.demo'],
  ['smdp.demo', 'rsp/v1/reply/smdp~demo/r1', 'smsr.demo'],
  ['smdp.other', 'rsp/v1/reply/smdp~demo/r1', 'smsr.demo'],
  ['smsr.demo', STATUS, 'owner-registry'],
  [CARD, STATUS, 'owner-registry'],
  ['mno.demo', mnoNotifyTopic('mno.demo', 'es2'), 'smdp.demo'],
  ['smdp.other', mnoNotifyTopic('mno.demo', 'es2'), 'smdp.demo'],
];

const settle = (ms = 150) => new Promise((resolve) => setTimeout(resolve, ms));

function matrix(label: string, start: () => Promise<TestBroker>): void {
  describe(label, () => {
    let broker: TestBroker;
    let monitor: MqttClient;
    const seen: string[] = [];
    const open: MqttClient[] = [];
    const as = (name: string, extra: IClientOptions = {}): Promise<MqttClient> =>
      new Promise((resolve, reject) => {
        const client = connect(broker.url, { ...mqttClientOptions({ url: broker.url, credentials: broker.credentialsFor(name), reconnectPeriod: 0 }), ...extra });
        open.push(client);
        client.once('connect', () => resolve(client));
        client.once('error', reject);
        client.once('close', () => reject(new Error('closed before CONNACK')));
      });

    beforeAll(async () => {
      broker = await start();
      monitor = await as('auditor');
      monitor.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
      await monitor.subscribeAsync('rsp/v1/#', { qos: 1 });
    });
    afterAll(async () => {
      for (const client of open) client.end(true);
      await broker?.close();
    });

    it.each(PUBLISHES)('publish by %s on %s: as the table says', async (who, topic) => {
      const marker = `${who}->${Math.random()}`;
      const client = await as(who);
      client.publish(topic, marker, { qos: 1 }, () => undefined);
      await settle();
      client.end(true);
      expect(seen.includes(`${topic} ${marker}`)).toBe(mayPublish(who, listed(who), topic));
    });

    it.each(SUBSCRIPTIONS)('%s reading %s: as the table says', async (who, topic, publisher) => {
      const marker = `for-${who}-${Math.random()}`;
      const reader = await as(who);
      const received: string[] = [];
      reader.on('message', (_topic, payload) => received.push(payload.toString()));
      await reader.subscribeAsync(topic, { qos: 1 }).catch(() => undefined); // aedes answers 0x80 when refused
      const sender = await as(publisher);
      await sender.publishAsync(topic, marker, { qos: 1 });
      await settle();
      reader.end(true);
      sender.end(true);
      expect(received.includes(marker)).toBe(maySubscribe(who, listed(who), topic));
    });

    it('an anonymous connect is refused', async () => {
      const client = connect(broker.url, { ca: broker.credentialsFor('auditor').ca, reconnectPeriod: 0, connectTimeout: 2000 });
      open.push(client);
      const outcome = await new Promise<string>((resolve) => {
        client.once('connect', () => resolve('connected'));
        client.once('error', (error) => resolve(`refused: ${(error as { code?: string }).code ?? error.message}`));
        client.once('close', () => resolve('refused: closed'));
      });
      expect(outcome).toMatch(/^refused/);
    });

    it('a client-id takeover is refused: the victim keeps its session and its commands', async () => {
      const victim = await as(CARD);
      const received: string[] = [];
      victim.on('message', (_topic, payload) => received.push(payload.toString()));
      await victim.subscribeAsync(es5CommandTopic(CARD), { qos: 1 });
      // aedes refuses the CONNECT (identifier rejected); Mosquitto replaces the id by the attacker's own CN.
      await as(OTHER_CARD, { clientId: CARD }).catch(() => undefined);
      const smsr = await as('smsr.demo');
      await smsr.publishAsync(es5CommandTopic(CARD), 'still-mine', { qos: 1 });
      await settle();
      expect(received).toContain('still-mine');
      expect(victim.connected).toBe(true);
    });
  });
}

matrix('broker rules on the embedded aedes broker', () => startTestBroker({ principals: PRINCIPALS }));

const skip = secureMosquittoSkipReason();
if (skip === undefined) {
  matrix('broker rules on Mosquitto with the shipped configuration', () => startSecureMosquitto({ principals: PRINCIPALS }));
} else {
  describe.skip(`broker rules on Mosquitto: ${skip}`, () => it('skipped', () => undefined));
}
