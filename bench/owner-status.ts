/**
 * `npm run bench -- owner-status [--statuses N] [--rounds R]`: what one device's first status costs a
 * service (docs/owner-registry.md "Device status"). The owner registry runs in this process, on SQLite in
 * memory and the embedded broker, as in `npm start`; a service's VerifiedDeviceStatusCache resolves N
 * EIDs it has never seen (default 2000, four at a time), each a `GET /device-status/{eid}` the registry
 * answers with a signed "not registered" document and the cache verifies. Prints, per status and round,
 * the main thread's CPU (both ends of the HTTP exchange run on it, as in `npm start`), the process's CPU
 * (libuv's pool included) and the wall time. A first provisioning resolves two: one per service.
 */
import { generateKeyPairSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import { HttpDeviceStatusSource, VerifiedDeviceStatusCache } from '@rsp/identity';
import { threadCpuMs } from '@rsp/mqtt-transport';
import { generateEid } from '@rsp/pki';
import { startOwnerRegistry } from '../apps/owner-registry/src/app';
import { principal, startTestBroker } from '../test/support/brokers';

const IN_FLIGHT = 4;

export async function runOwnerStatusBench(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2).filter((arg) => arg !== 'owner-status'), options: { statuses: { type: 'string' }, rounds: { type: 'string' } }, strict: false });
  const statuses = Number(values.statuses ?? 2000);
  const rounds = Number(values.rounds ?? 4);
  if (!Number.isInteger(statuses) || statuses < IN_FLIGHT) throw new Error(`--statuses must be an integer of at least ${IN_FLIGHT}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  const broker = await startTestBroker({ principals: [principal('owner-registry', 'owner-registry')] });
  const registry = await startOwnerRegistry({
    registryUrl: 'https://owners.bench.test',
    httpPort: 0,
    databaseUrl: 'sqlite::memory:',
    mqttUrl: broker.url,
    mqttCredentials: broker.credentialsFor('owner-registry'),
    consentSigningKey: { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'bench-consent' },
    trustedIssuers: [],
    makers: [],
    mnos: [],
  });
  const source = new HttpDeviceStatusSource({ registryUrl: registry.httpUrl });
  let serial = 1;
  const round = async () => {
    const cache = new VerifiedDeviceStatusCache({ issuer: registry.registryUrl, jwks: registry.jwksUrl, source });
    const mainBefore = threadCpuMs() ?? 0;
    const processBefore = process.cpuUsage();
    const started = performance.now();
    for (let done = 0; done < statuses; done += IN_FLIGHT) {
      await Promise.all(Array.from({ length: IN_FLIGHT }, () => cache.resolve(generateEid('89049032', serial++))));
    }
    const cpu = process.cpuUsage(processBefore);
    const per = (ms: number) => ((ms / statuses) * 1000).toFixed(0);
    return `main thread ${per((threadCpuMs() ?? 0) - mainBefore)} µs, process ${per((cpu.user + cpu.system) / 1000)} µs, wall ${per(performance.now() - started)} µs`;
  };
  try {
    console.log(`\n## owner-status — ${statuses} first statuses per round, ${IN_FLIGHT} at a time, the registry in this process`);
    console.log(`warm-up: ${await round()}`);
    for (let index = 1; index <= rounds; index += 1) console.log(`round ${index}, per status: ${await round()}`);
  } finally {
    await registry.close();
    await broker.close();
  }
}
