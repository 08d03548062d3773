/**
 * `npm run bench -- transport`: round-trip service requests per second over the embedded aedes broker
 * (MQTT 3.1.1, loopback): RspRequester → RspMqttServer → reply, one at a time and with 100 in flight.
 * The server runs without a Nest application around it (handlers added directly), so the figure is the
 * transport's own cost: mqtt.js, the broker, JSON envelopes, the duplicate cache. Asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import { lastValueFrom } from 'rxjs';
import { es3Pattern, type BrokerPrincipal } from '@rsp/contracts';
import { RspMqttClient, RspMqttServer, RspRequester, brokerTlsFromPki, connectMqtt, issueMqttCredentials, startEmbeddedBroker } from '@rsp/mqtt-transport';
import { generateTestPki } from '@rsp/pki';

const BUDGET_MS = Number(process.env.BENCH_MS ?? 700) * 1.5;

interface Row {
  name: string;
  requests: number;
  ms: number;
}

/** Runs `inFlight` loops of back-to-back requests until the budget is spent. */
async function roundTrips(name: string, inFlight: number, send: (n: number) => Promise<unknown>): Promise<Row> {
  for (let i = 0; i < 200; i += 1) await send(i); // warm-up: connections, JIT
  let requests = 0;
  const start = performance.now();
  const end = start + BUDGET_MS;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      await send(requests);
      requests += 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { name, requests, ms: performance.now() - start };
}

export async function runTransportBench(): Promise<void> {
  // The broker as the services meet it: TLS client certificates and the broker ACL (rsp/v1 topics).
  const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  const principals: BrokerPrincipal[] = [
    { name: 'bench-smsr', role: 'sm-sr', serviceId: 'bench-smsr' },
    { name: 'bench-smdp', role: 'sm-dp', serviceId: 'bench-smdp' },
  ];
  const broker = await startEmbeddedBroker({ port: 0, tls: brokerTlsFromPki(pki), principals });
  const pattern = es3Pattern('bench-smsr', 'GetEIS');
  const server = new RspMqttServer({ url: broker.url, credentials: issueMqttCredentials(pki, 'bench-smsr') });
  server.addHandler(pattern, async (data: unknown) => data);
  await new Promise<void>((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())));
  const smdp = await connectMqtt({ url: broker.url, credentials: issueMqttCredentials(pki, 'bench-smdp') });
  const requester = new RspRequester({ client: smdp, caller: 'bench-smdp' });
  const client = new RspMqttClient({ client: smdp, caller: 'bench-smdp' });
  await Promise.all([requester.connect(), client.connect()]);
  const payload = { iccid: '89049032000000000000', smsrId: 'SM-SR-1', data: 'x'.repeat(256) };
  try {
    const rows = [
      await roundTrips('RspRequester, sequential (1 in flight)', 1, () => requester.request(pattern, payload)),
      await roundTrips('RspRequester, 100 in flight', 100, () => requester.request(pattern, payload)),
      await roundTrips('RspMqttClient (Nest ClientProxy), 100 in flight', 100, () => lastValueFrom(client.send(pattern, payload))),
    ];
    console.log('\n## transport (aedes with TLS client certificates and the broker ACL, MQTT 3.1.1, loopback, ~300-byte payload)');
    console.log('| round trip | requests | requests/s | mean latency |');
    console.log('|---|---:|---:|---:|');
    for (const { name, requests, ms } of rows) {
      const inFlight = name.includes('100') ? 100 : 1;
      const rate = (requests * 1000) / ms;
      console.log(`| ${name} | ${requests} | ${Math.round(rate).toLocaleString('en-US')} | ${((inFlight * 1000) / rate).toFixed(2)} ms |`);
    }
  } finally {
    await Promise.all([requester.close(), client.close()]);
    await smdp.endAsync();
    await server.close();
    await broker.close();
  }
}
