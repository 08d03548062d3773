/**
 * `npm run bench -- transport`: round-trip service requests per second over the embedded aedes broker
 * (MQTT 3.1.1, loopback): RspRequester → RspMqttServer → reply, one at a time and with 100 in flight.
 * The server runs without a Nest application around it (handlers added directly), so the figure is the
 * transport's own cost: mqtt.js, the broker, JSON envelopes, the duplicate cache. Asserts nothing.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { lastValueFrom } from 'rxjs';
import { RspMqttClient, RspMqttServer, RspRequester, startEmbeddedBroker } from '@rsp/mqtt-transport';

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
  const broker = await startEmbeddedBroker({ port: 0 });
  const topicPrefix = `bench/${randomUUID()}`;
  const server = new RspMqttServer({ url: broker.url, topicPrefix });
  server.addHandler('bench.echo', async (data: unknown) => data);
  await new Promise<void>((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())));
  const requester = new RspRequester({ url: broker.url, topicPrefix });
  const client = new RspMqttClient({ url: broker.url, topicPrefix });
  await Promise.all([requester.connect(), client.connect()]);
  const payload = { iccid: '89049032000000000000', smsrId: 'SM-SR-1', data: 'x'.repeat(256) };
  try {
    const rows = [
      await roundTrips('RspRequester, sequential (1 in flight)', 1, () => requester.request('bench.echo', payload)),
      await roundTrips('RspRequester, 100 in flight', 100, () => requester.request('bench.echo', payload)),
      await roundTrips('RspMqttClient (Nest ClientProxy), 100 in flight', 100, () => lastValueFrom(client.send('bench.echo', payload))),
    ];
    console.log('\n## transport (aedes, MQTT 3.1.1, loopback, ~300-byte payload)');
    console.log('| round trip | requests | requests/s | mean latency |');
    console.log('|---|---:|---:|---:|');
    for (const { name, requests, ms } of rows) {
      const inFlight = name.includes('100') ? 100 : 1;
      const rate = (requests * 1000) / ms;
      console.log(`| ${name} | ${requests} | ${Math.round(rate).toLocaleString('en-US')} | ${((inFlight * 1000) / rate).toFixed(2)} ms |`);
    }
  } finally {
    await Promise.all([requester.close(), client.close()]);
    await server.close();
    await broker.close();
  }
}
