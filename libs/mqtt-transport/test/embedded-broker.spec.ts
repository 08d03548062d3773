/**
 * The embedded broker's trust boundary (docs/security.md): TLS client certificates from the Test TLS CA,
 * client id = certificate CN, and the broker ACL of @rsp/contracts in aedes' hooks. Each case is an attack
 * and its refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { es3Pattern, es5CommandTopic, serviceTopic, type BrokerPrincipal } from '@rsp/contracts';
import { DEMO_EID_FIRST_SERIAL, DEMO_EID_PREFIX, generateEid, generateTestPki } from '@rsp/pki';
import { brokerTlsFromPki, connectMqtt, issueMqttCredentials, mqttClientOptions, startEmbeddedBroker, TransportError, type EmbeddedBroker } from '../src/index';
import { waitFor } from './support';

const CARD = generateEid(DEMO_EID_PREFIX, DEMO_EID_FIRST_SERIAL);
const OTHER_CARD = generateEid(DEMO_EID_PREFIX, DEMO_EID_FIRST_SERIAL + 1);
const SMSR: BrokerPrincipal = { name: 'smsr.demo', role: 'sm-sr', serviceId: 'smsr.demo' };

/** One connection attempt that settles on CONNACK, error, close or 2 s (mqtt.js only retries on its own). */
function attempt(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = connect(url, { ...options, reconnectPeriod: 0, connectTimeout: 2000 });
    const fail = (reason: unknown) => {
      client.end(true);
      reject(reason instanceof Error ? reason : new Error(String(reason)));
    };
    client.once('connect', () => resolve(client));
    client.once('error', fail);
    client.once('close', () => fail('closed before CONNACK'));
  });
}

describe('embedded broker: identities proven by TLS, the ACL enforced in the hooks', () => {
  const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  let broker: EmbeddedBroker;
  const clients: MqttClient[] = [];
  const connect = async (principal: string, extra: { clientId?: string; username?: string } = {}): Promise<MqttClient> => {
    const options = mqttClientOptions({ url: broker.url, credentials: issueMqttCredentials(pki, principal), reconnectPeriod: 0 });
    const client = await connectAsync(broker.url, { ...options, ...extra });
    clients.push(client);
    return client;
  };
  const refusalsSince = (count: number) => broker.refusals.slice(count).map((refusal) => refusal.reason);

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0, tls: brokerTlsFromPki(pki), principals: [SMSR] });
  });
  afterAll(async () => {
    for (const client of clients) client.end(true);
    await broker.close();
  });

  it('refuses to start without TLS unless told it is an insecure test broker', async () => {
    await expect(startEmbeddedBroker({ port: 0 })).rejects.toBeInstanceOf(TransportError.InvalidOptions);
  });

  it('an anonymous connect (TLS without a client certificate) is refused in the handshake', async () => {
    const before = broker.refusals.length;
    await expect(attempt(broker.url, { ca: brokerTlsFromPki(pki).ca })).rejects.toThrow();
    await waitFor(() => refusalsSince(before).includes('no-certificate'));
  });

  it('a plain-TCP MQTT client gets nowhere, and a service refuses to connect without an identity', async () => {
    await expect(attempt(broker.url.replace('mqtts', 'mqtt'), {})).rejects.toThrow();
    await expect(connectMqtt({ url: broker.url })).rejects.toBeInstanceOf(TransportError.CredentialsMissing);
  });

  it('a certificate from another CA is refused', async () => {
    const foreign = issueMqttCredentials(generateTestPki({ curve: 'P-256', euiccCount: 0 }), SMSR.name);
    const options = mqttClientOptions({ url: broker.url, credentials: { ...foreign, ca: brokerTlsFromPki(pki).ca }, reconnectPeriod: 0 });
    await expect(attempt(broker.url, options)).rejects.toThrow();
  });

  it('a client id other than the certificate CN is refused (CONNACK 2), and so is a foreign username (4)', async () => {
    const before = broker.refusals.length;
    await expect(connect(CARD, { clientId: 'someone-else' })).rejects.toThrow(/[Ii]dentifier rejected/);
    await expect(connect(CARD, { username: OTHER_CARD })).rejects.toThrow(/[Bb]ad [Uu]ser[Nn]ame or [Pp]assword/);
    expect(refusalsSince(before)).toEqual(['client-id-mismatch', 'username-mismatch']);
  });

  it('a client-id takeover is refused: the victim stays connected and keeps receiving its commands', async () => {
    const victim = await connect(CARD);
    const received: string[] = [];
    victim.on('message', (_topic, payload) => received.push(payload.toString()));
    await victim.subscribeAsync(es5CommandTopic(CARD), { qos: 1 });
    await expect(connect(OTHER_CARD, { clientId: CARD })).rejects.toThrow(/[Ii]dentifier rejected/);
    const smsr = await connect(SMSR.name);
    await smsr.publishAsync(es5CommandTopic(CARD), 'still-mine', { qos: 1 });
    await waitFor(() => received.includes('still-mine'));
    expect(victim.connected).toBe(true);
  });

  it('a card subscribing to another card\u2019s command topic is refused (SUBACK 0x80); its own is granted', async () => {
    const card = await connect(OTHER_CARD);
    const before = broker.refusals.length;
    // mqtt.js rejects a SUBACK carrying any 0x80; the packet says which filter got what.
    const suback = await card.subscribeAsync([es5CommandTopic(CARD), es5CommandTopic(OTHER_CARD), '#'], { qos: 1 }).catch((error: { packet?: { granted: number[] } }) => error.packet);
    expect(suback).toMatchObject({ granted: [128, 1, 128] });
    expect(refusalsSince(before)).toEqual(['subscribe-denied', 'subscribe-denied']);
  });

  it('a connected client\u2019s grants follow setPrincipals: listed, it gains its role\u2019s; unlisted again, it loses them', async () => {
    // The broker resolves a connection's grants once and keeps them: a principal change must reach
    // connections already open, both ways.
    const auditor: BrokerPrincipal = { name: 'monitor.late', role: 'monitor', serviceId: 'monitor.late' };
    const client = await connect(auditor.name);
    // mqtt.js resolves with the grants, or rejects with the SUBACK when it carries a 0x80.
    const granted = () =>
      client.subscribeAsync('rsp/v1/#', { qos: 1 }).then(
        (grants) => grants.map((grant) => grant.qos),
        (error: { packet?: { granted: number[] } }) => error.packet?.granted,
      );
    expect(await granted()).toEqual([128]); // not listed yet: a device's rules only
    broker.setPrincipals([SMSR, auditor]);
    expect(await granted()).toEqual([1]);
    broker.setPrincipals([SMSR]);
    expect(await granted()).toEqual([128]);
  });

  it('a forged ES3 request from a card identity is refused: the broker closes the connection, the SM-SR sees nothing', async () => {
    const smsr = await connect(SMSR.name); // one connection per identity: this replaces the earlier one
    const seen: string[] = [];
    smsr.on('message', (topic) => seen.push(topic));
    await smsr.subscribeAsync('rsp/v1/svc/+/smsr/smsr~demo/es3/+', { qos: 1 });
    const forger = await connect(CARD);
    const closed = new Promise<void>((resolve) => forger.once('close', () => resolve()));
    const before = broker.refusals.length;
    forger.publish(serviceTopic('smdp.demo', es3Pattern('smsr.demo', 'DisableProfile')), JSON.stringify({ forged: true }), { qos: 1 });
    await closed;
    expect(refusalsSince(before)).toContain('publish-denied');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([]);
  });
});
