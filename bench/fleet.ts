/**
 * `npm run bench -- fleet`: start-up time and memory of idle fleets (BENCH_FLEET_SIZES, default
 * 1000,10000,100000), in-process, without MQTT. BENCH_FLEET_CERTS=eager|lazy forces when the ECASD
 * certificates are issued (default: eager, at manufacture). Goal for 100k idle cards: < 60 s and < 2 GiB RSS.
 * Optionally (BENCH_FLEET_MQTT=1) the largest fleet is also served in gateway mode on the embedded
 * broker and one ES5 round trip is timed. Figures are printed, never asserted.
 */
import { performance } from 'node:perf_hooks';
import { es5CommandTopic, es5ReplyFilter, es5ReplyTopic, type BrokerPrincipal } from '@rsp/contracts';
import { brokerTlsFromPki, connectMqtt, issueMqttCredentials, startEmbeddedBroker } from '@rsp/mqtt-transport';
import { generateTestPki } from '@rsp/pki';
import { Fleet } from '../simulator/src/fleet';

const MiB = 2 ** 20;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export async function runFleetBench(): Promise<void> {
  const sizes = (process.env.BENCH_FLEET_SIZES ?? '1000,10000,100000').split(',').map(Number).filter((n) => n > 0);
  const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  console.log(`\n## fleet (idle cards, in-process, ECASD certificates: ${process.env.BENCH_FLEET_CERTS ?? 'eager'})`);
  console.log('| cards | start-up s | cards/s | heap MiB | RSS MiB | heap B/card | RSS B/card | first hydrate ms |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  let last: { size: number; seconds: number; rss: number } | undefined;
  for (const size of sizes) {
    gc();
    const base = process.memoryUsage();
    const start = performance.now();
    const certificates = process.env.BENCH_FLEET_CERTS as 'eager' | 'lazy' | undefined;
    let fleet: Fleet | undefined = await Fleet.create({ size, model: 'bbq', pki, progressEvery: 5000, ...(certificates ? { certificates } : {}) });
    const seconds = (performance.now() - start) / 1000;
    gc();
    const after = process.memoryUsage();
    const h0 = performance.now();
    fleet.pool.snapshot(fleet.eids()[size - 1] as string);
    const hydrateMs = performance.now() - h0;
    const heap = after.heapUsed - base.heapUsed;
    const rss = after.rss - base.rss;
    console.log(
      `| ${size.toLocaleString('en-US')} | ${seconds.toFixed(2)} | ${Math.round(size / seconds).toLocaleString('en-US')} | ` +
        `${(after.heapUsed / MiB).toFixed(0)} | ${(after.rss / MiB).toFixed(0)} | ${Math.round(heap / size)} | ${Math.round(rss / size)} | ${hydrateMs.toFixed(1)} |`,
    );
    last = { size, seconds, rss: after.rss };
    if (process.env.BENCH_FLEET_MQTT === '1' && size === sizes[sizes.length - 1]) await mqttRoundTrip(fleet);
    await fleet.close();
    fleet = undefined;
  }
  if (last) {
    const verdict = (ok: boolean) => (ok ? 'meets' : 'MISSES');
    console.log(
      `\n${last.size.toLocaleString('en-US')} cards: start-up ${last.seconds.toFixed(1)} s (${verdict(last.seconds < 60)} the 60 s goal), ` +
        `RSS ${(last.rss / MiB).toFixed(0)} MiB (${verdict(last.rss < 2048 * MiB)} the 2 GiB goal)` +
        (last.size < 100_000 ? ' — run with BENCH_FLEET_SIZES including 100000 for the goal figures' : ''),
    );
  }
}

async function mqttRoundTrip(fleet: Fleet): Promise<void> {
  const { encodeCommandScript } = await import('@rsp/offcard');
  const gateway: BrokerPrincipal = { name: 'bench-gateway', role: 'gateway', serviceId: 'bench-gateway' };
  const smsr: BrokerPrincipal = { name: 'bench-smsr', role: 'sm-sr', serviceId: 'bench-smsr' };
  const broker = await startEmbeddedBroker({ port: 0, tls: brokerTlsFromPki(fleet.pki), principals: [gateway, smsr] });
  const t = performance.now();
  await fleet.startMqtt({
    url: broker.url,
    mode: 'gateway',
    gatewayId: gateway.name,
    smsrId: smsr.serviceId,
    credentials: (principal) => issueMqttCredentials(fleet.pki, principal),
    announce: false,
  });
  const connectMs = performance.now() - t;
  const sr = await connectMqtt({ url: broker.url, credentials: issueMqttCredentials(fleet.pki, smsr.name) });
  await sr.subscribeAsync(es5ReplyFilter(smsr.serviceId, 'bench'), { qos: 1 });
  const eid = fleet.eids()[Math.floor(fleet.size / 2)] as string;
  const script = encodeCommandScript({ commands: [Buffer.from('00A4040010A0000005591010FFFFFFFF8900000100', 'hex')] }).toString('hex');
  const r0 = performance.now();
  const reply = new Promise<void>((resolve) => sr.once('message', () => resolve()));
  await sr.publishAsync(es5CommandTopic(eid), JSON.stringify({ id: 'b1', replyTo: es5ReplyTopic(eid, smsr.serviceId, 'bench'), script }), { qos: 1 });
  await reply;
  console.log(`gateway mode: connected in ${connectMs.toFixed(0)} ms; first ES5 round trip (cold card) ${(performance.now() - r0).toFixed(1)} ms`);
  await sr.endAsync();
  await fleet.close();
  await broker.close();
}
