/**
 * The SM-SR's ES5 channel against real virtual eUICCs: in process, over the embedded aedes broker
 * (MQTT 3.1.1) and over Mosquitto with the shipped configuration (MQTT 3.1.1 and 5), every connection
 * with its own TLS identity. Each exchange is an SCP03 session with the card's ISD-R key set; wrong keys
 * and unreachable cards fail with their ERR_ES5_* codes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createIsdpApdu, defaultIsdRKeySet, getStatusApdu, isdpAid } from '@rsp/offcard';
import { generateTestPki } from '@rsp/pki';
import { Fleet } from '../../../simulator/src/fleet';
import { principal, secureMosquittoSkipReason, startSecureMosquitto, startTestBroker, type TestBroker } from '../../../test/support/brokers';
import { Es5Error, MqttEs5Channel, type Es5Channel } from '../src/es5';
import { LocalEs5Channel } from './local-es5-channel';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const SMSR_ID = 'smsr.es5';
const PRINCIPALS = [principal(SMSR_ID, 'sm-sr')];
const mosquittoSkip = secureMosquittoSkipReason();

async function exercise(channel: Es5Channel, eid: string): Promise<void> {
  const [status] = await channel.run(eid, [getStatusApdu()]);
  expect(status?.sw).toBe(0x9000);
  expect(status?.data.length).toBeGreaterThan(0);
  // Several wrapped commands in one script; each R-MAC verified in order.
  const responses = await channel.run(eid, [createIsdpApdu(isdpAid(5), { quota: 8192 }), getStatusApdu(isdpAid(5))]);
  expect(responses.map((r) => r.sw)).toEqual([0x9000, 0x9000]);
  // Concurrent exchanges with one card are serialised, not interleaved.
  const parallel = await Promise.all([1, 2, 3].map(() => channel.run(eid, [getStatusApdu()])));
  expect(parallel.every(([r]) => r?.sw === 0x9000)).toBe(true);
}

describe('ES5 channel in process', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await Fleet.create({ size: 2, model: 'oven', pki });
  });
  afterAll(async () => fleet.close());

  it('runs commands in an SCP03 session with the ISD-R keys', async () => {
    const channel = new LocalEs5Channel(fleet.pool, defaultIsdRKeySet);
    await exercise(channel, fleet.eids()[0] as string);
  });

  it('fails with ERR_ES5_SECURE_CHANNEL when the key set is wrong', async () => {
    const eid = fleet.eids()[1] as string;
    const wrong = { ...defaultIsdRKeySet(eid), mac: randomBytes(16) };
    const channel = new LocalEs5Channel(fleet.pool, () => wrong);
    await expect(channel.run(eid, [getStatusApdu()])).rejects.toBeInstanceOf(Es5Error.SecureChannel);
  });

  it('scripted sessions (GP Amd D §6.2.2.1): one round trip per exchange; a wrong counter costs one more, never a failure', async () => {
    const scripts = new Map<string, number>();
    const counting = (channel: LocalEs5Channel) => {
      channel.carrier.tamper = (eid, script) => (scripts.set(eid, (scripts.get(eid) ?? 0) + 1), script);
      return channel;
    };
    const fresh = await Fleet.create({ size: 1, model: 'oven', pki, firstSerial: 71_000_000 });
    try {
      const eid = fresh.eids()[0] as string;
      const first = counting(new LocalEs5Channel(fresh.pool, defaultIsdRKeySet));
      for (let i = 0; i < 3; i += 1) expect((await first.run(eid, [getStatusApdu()]))[0]?.sw).toBe(0x9000);
      expect(scripts.get(eid)).toBe(3); // a fresh card's counter is known from manufacture: one script each
      // Another SM-SR instance (or one restarted) does not know the counter: a wrong guess, then the real one.
      const other = counting(new LocalEs5Channel(fresh.pool, defaultIsdRKeySet));
      scripts.clear();
      expect((await other.run(eid, [getStatusApdu()]))[0]?.sw).toBe(0x9000);
      expect(scripts.get(eid)).toBe(2);
      // The first channel's counter is now stale: it resynchronises the same way, and nothing ran twice.
      scripts.clear();
      const created = await first.run(eid, [createIsdpApdu(isdpAid(7), { quota: 1024 })]);
      expect(created.map((r) => r.sw)).toEqual([0x9000]);
      expect(scripts.get(eid)).toBe(2);
      expect(fresh.pool.snapshot(eid).isdps.filter((isdp) => isdp.aid === isdpAid(7))).toHaveLength(1);
    } finally {
      await fresh.close();
    }
  });

  it('fails with ERR_ES5_TIMEOUT when the card stays offline past the deadline', async () => {
    const eid = fleet.eids()[1] as string;
    const channel = new LocalEs5Channel(fleet.pool, defaultIsdRKeySet);
    channel.carrier.offline.add(eid);
    await expect(channel.run(eid, [getStatusApdu()], { deadline: Date.now() + 50 })).rejects.toMatchObject({ code: 'ERR_ES5_TIMEOUT' });
  });
});

function overMqtt(name: string, start: () => Promise<TestBroker>, protocolVersion: 4 | 5) {
  describe(`ES5 channel over ${name}`, () => {
    let broker: TestBroker;
    let fleet: Fleet;
    let channel: MqttEs5Channel;
    beforeAll(async () => {
      broker = await start();
      fleet = await Fleet.create({ size: 1, model: 'bbq', pki, firstSerial: 70_000_000 + protocolVersion * 1000 + name.length });
      await fleet.startMqtt({ url: broker.url, mode: 'single', smsrId: SMSR_ID, credentials: broker.credentialsFor, protocolVersion, announce: false });
      channel = await MqttEs5Channel.connect({ url: broker.url, credentials: broker.credentialsFor(SMSR_ID), smsrId: SMSR_ID, protocolVersion, keys: defaultIsdRKeySet });
    });
    afterAll(async () => {
      await channel?.close();
      await fleet?.close();
      await broker?.close();
    });

    it('runs commands on a card behind the broker', async () => {
      await exercise(channel, fleet.eids()[0] as string);
    });

    it('times out on a card nobody serves', async () => {
      const eid = fleet.eids()[0] as string;
      await fleet.close();
      await expect(channel.run(eid, [getStatusApdu()], { deadline: Date.now() + 200 })).rejects.toMatchObject({ code: 'ERR_ES5_TIMEOUT' });
    });
  });
}

overMqtt('embedded aedes (MQTT 3.1.1)', () => startTestBroker({ principals: PRINCIPALS, pki }), 4);
if (mosquittoSkip === undefined) {
  overMqtt('Mosquitto, shipped configuration (MQTT 3.1.1)', () => startSecureMosquitto({ principals: PRINCIPALS, pki }), 4);
  overMqtt('Mosquitto, shipped configuration (MQTT 5)', () => startSecureMosquitto({ principals: PRINCIPALS, pki }), 5);
} else {
  describe.skip(`ES5 channel over Mosquitto: ${mosquittoSkip}`, () => it('skipped', () => undefined));
}
