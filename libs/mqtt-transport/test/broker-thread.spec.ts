/**
 * The embedded broker on its own worker thread (issue 11): the same trust boundary as in-thread — a card
 * may not publish as the SM-SR, and the refusal reaches the main thread's `refusals` and `onRefusal` — the
 * same answer to a busy port, principals updated across the thread, its CPU time readable, and a crash of
 * the thread told to the main one.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectAsync, type MqttClient } from 'mqtt';
import { es3Pattern, serviceTopic, type BrokerPrincipal } from '@rsp/contracts';
import { DEMO_EID_FIRST_SERIAL, DEMO_EID_PREFIX, generateEid, generateTestPki } from '@rsp/pki';
import { BrokerPortInUseError, brokerTlsFromPki, issueMqttCredentials, mqttClientOptions, startEmbeddedBrokerThread, type BrokerRefusal, type BrokerThread } from '../src/index';
import { waitFor } from './support';

const CARD = generateEid(DEMO_EID_PREFIX, DEMO_EID_FIRST_SERIAL);
const SMSR: BrokerPrincipal = { name: 'smsr.demo', role: 'sm-sr', serviceId: 'smsr.demo' };

describe('embedded broker on a worker thread', () => {
  const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  const heard: Array<[BrokerRefusal['reason'], string | undefined]> = [];
  let broker: BrokerThread;
  const clients: MqttClient[] = [];
  const connect = async (principal: string): Promise<MqttClient> => {
    const client = await connectAsync(broker.url, mqttClientOptions({ url: broker.url, credentials: issueMqttCredentials(pki, principal), reconnectPeriod: 0 }));
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    broker = await startEmbeddedBrokerThread({ port: 0, tls: brokerTlsFromPki(pki), principals: [SMSR], onRefusal: (refusal, clientId) => void heard.push([refusal.reason, clientId]) });
  }, 30_000);
  afterAll(async () => {
    for (const client of clients) client.end(true);
    await broker?.close();
  });

  it('refuses a card publishing a forged ES3 request to the SM-SR, and tells the main thread', async () => {
    const smsr = await connect(SMSR.name);
    const received: string[] = [];
    smsr.on('message', (topic) => void received.push(topic));
    await smsr.subscribeAsync('rsp/v1/svc/+/smsr/smsr~demo/es3/+', { qos: 1 });
    const card = await connect(CARD);
    card.on('error', () => undefined);
    card.publish(serviceTopic('smdp.demo', es3Pattern('smsr.demo', 'DisableProfile')), JSON.stringify({ forged: true }), { qos: 1 });
    await waitFor(() => broker.refusals.some((refusal) => refusal.reason === 'publish-denied'));
    expect(heard).toContainEqual(['publish-denied', CARD]);
    expect(received).toEqual([]);
  });

  it('answers a busy port with BrokerPortInUseError naming the setting', async () => {
    await expect(startEmbeddedBrokerThread({ port: broker.port, tls: brokerTlsFromPki(pki), portSetting: 'RSP_MQTT_PORT' })).rejects.toThrow(BrokerPortInUseError);
  }, 30_000);

  it('takes principal updates across the thread and reports its CPU time', async () => {
    const monitor: BrokerPrincipal = { name: 'monitor.thread', role: 'monitor', serviceId: 'monitor.thread' };
    broker.setPrincipals([SMSR, monitor]);
    const client = await connect(monitor.name);
    const granted = await client.subscribeAsync('rsp/v1/#', { qos: 1 });
    expect(granted[0]?.qos).toBe(1); // a monitor may read everything: the update reached the broker thread
    const cpu = await broker.cpuMs();
    expect(cpu === undefined || cpu >= 0).toBe(true);
  });

  it('tells onCrash when the thread stops without being closed, and not when it is closed', async () => {
    const crashes: Error[] = [];
    const crashing = await startEmbeddedBrokerThread({ port: 0, tls: brokerTlsFromPki(pki), onCrash: (error) => void crashes.push(error) });
    crashing.setPrincipals([null as unknown as BrokerPrincipal]); // an uncaught TypeError on the broker thread
    await waitFor(() => crashes.length > 0);
    expect(crashes).toHaveLength(1);
    expect(crashes[0]?.message).toMatch(/null/);
    await crashing.close();

    const closed: Error[] = [];
    const quiet = await startEmbeddedBrokerThread({ port: 0, tls: brokerTlsFromPki(pki), onCrash: (error) => void closed.push(error) });
    await quiet.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed).toEqual([]);
  }, 30_000);
});
