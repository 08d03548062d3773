/**
 * Day-one plumbing: the tests reach the embedded broker and the real services CI provides (the machine's
 * Mosquitto on MQTT 3.1.1 and 5, PostgreSQL). The suites on the shipped Mosquitto configuration start their
 * own (test/support/brokers.ts).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import pg from 'pg';
import { es5CommandTopic } from '@rsp/contracts';
import { connectMqtt, startEmbeddedBroker } from '@rsp/mqtt-transport';
import { DEMO_EID_FIRST_SERIAL, DEMO_EID_PREFIX, generateEid } from '@rsp/pki';
import { principal, startTestBroker, type TestBroker } from '../support/brokers';
import { realService } from '../support/real-services';

const mosquitto = await realService('mqtt');
const postgres = await realService('database');

/** Publishes one QoS 1 message to a unique topic and waits for it to come back. */
async function roundTrip(url: string, protocolVersion: 4 | 5): Promise<string> {
  const client = await mqtt.connectAsync(url, { protocolVersion, clientId: `smoke-${randomUUID()}`, reconnectPeriod: 0 });
  try {
    const topic = `rsp/test/smoke/${randomUUID()}`;
    const received = new Promise<string>((resolve) => client.on('message', (_t, payload) => resolve(payload.toString())));
    await client.subscribeAsync(topic, { qos: 1 });
    await client.publishAsync(topic, 'ping', { qos: 1 });
    return await received;
  } finally {
    await client.endAsync();
  }
}

describe('embedded aedes broker (MQTT 3.1.1, TLS identities)', () => {
  let broker: TestBroker | undefined;
  afterAll(async () => broker?.close());

  it('starts on an ephemeral port and delivers a QoS 1 message between two identities', async () => {
    broker = await startTestBroker({ principals: [principal('smsr.smoke', 'sm-sr')] });
    const eid = generateEid(DEMO_EID_PREFIX, DEMO_EID_FIRST_SERIAL);
    const card = await connectMqtt({ url: broker.url, credentials: broker.credentialsFor(eid) });
    const smsr = await connectMqtt({ url: broker.url, credentials: broker.credentialsFor('smsr.smoke') });
    try {
      const received = new Promise<string>((resolve) => card.on('message', (_t, payload) => resolve(payload.toString())));
      await card.subscribeAsync(es5CommandTopic(eid), { qos: 1 });
      await smsr.publishAsync(es5CommandTopic(eid), 'ping', { qos: 1 });
      await expect(received).resolves.toBe('ping');
    } finally {
      await card.endAsync();
      await smsr.endAsync();
    }
  });

  it('names the setting when its port is taken', async () => {
    const holder = await startEmbeddedBroker({ port: 0, insecure: true });
    try {
      await expect(startEmbeddedBroker({ port: holder.port, portSetting: 'RSP_MQTT_PORT', insecure: true })).rejects.toMatchObject({
        code: 'ERR_MQTT_BROKER_PORT_IN_USE',
        message: expect.stringContaining('RSP_MQTT_PORT'),
      });
    } finally {
      await holder.close();
    }
  });
});

(mosquitto.url ? describe : describe.skip)(`real MQTT broker (${mosquitto.envVar})`, () => {
  const url = mosquitto.url as string;
  it('delivers a QoS 1 message over MQTT 3.1.1', async () => {
    await expect(roundTrip(url, 4)).resolves.toBe('ping');
  });
  it('delivers a QoS 1 message over MQTT 5', async () => {
    await expect(roundTrip(url, 5)).resolves.toBe('ping');
  });
});

(postgres.url ? describe : describe.skip)(`real PostgreSQL (${postgres.envVar})`, () => {
  it('answers a query and round-trips bytea', async () => {
    const client = new pg.Client({ connectionString: postgres.url as string });
    await client.connect();
    try {
      await client.query('CREATE TEMP TABLE smoke (id serial primary key, blob bytea)');
      await client.query('INSERT INTO smoke (blob) VALUES ($1)', [Buffer.from('89049032', 'hex')]);
      const { rows } = await client.query<{ blob: Buffer }>('SELECT blob FROM smoke');
      expect(rows[0]?.blob.toString('hex')).toBe('89049032');
    } finally {
      await client.end();
    }
  });
});
