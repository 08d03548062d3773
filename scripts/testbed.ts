/**
 * `createTestbed()`: the whole system in this process on ephemeral ports, for test authors (Jest, Vitest)
 * and the scenario runner (docs/scenarios.md). It starts the one stack factory (scripts/stack.ts: embedded
 * broker with TLS identities and the ACL, SM-SR, SM-DP, owner registry, dev IdP, virtual cards), stocks the
 * operators, registers the devices with the owner registry, and hands back typed clients:
 * `es2`, `es4`, `es1`, `device`, `apdu`, `owner`, plus `notifications` and `close()`.
 *
 * Every exchange is also recorded as a {@link SequenceHop} (`hops`): the clients' own calls, and ES3 / ES5 /
 * notifications as the stack's read-only monitor identity sees them on the broker (the same ACL role an
 * operator's auditor uses: no privilege beyond reading). Hops hold names, codes and status words, never keys,
 * tokens or consents.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SequenceHop } from '@rsp/contracts';
import type { ProfileTypeStock } from '@rsp/scenario';
import { connectMqtt } from '@rsp/mqtt-transport';
import { DEMO_EID_PREFIX, generateEid, generateTestPki, type TestPki } from '@rsp/pki';
import type { DeviceModel } from '../simulator/src/device';
import { parseFaultPlan, type FaultPlan } from '../simulator/src/faults';
import { observeBroker } from './testbed-tap';
import { DEMO_IDS, STACK_PRINCIPALS, startStack, type Stack } from './stack';
import { assembleBed, iccidPrefix, registerWithRegistry, stock, waitUntil, type ScenarioBed } from './testbed-core';

export interface TestbedOptions {
  /** Device name → model and an optional fault plan (default one oven named `oven`). */
  devices?: Record<string, { type: DeviceModel; faults?: Omit<FaultPlan, 'seed'> & { seed?: number } }>;
  /** Operator id → profile type → subscriptions to stock (default `mno.a` with 4 of `a-iot`). */
  operators?: Record<string, { profileTypes: Record<string, ProfileTypeStock> }>;
  /** Makes EIDs the same on every run (default 1). */
  seed?: number;
  /** A shared test PKI (generating one costs ~100 ms; tests in one file can share it). */
  pki?: TestPki;
}

export type { CallOptions, CallResult, ScenarioBed } from './testbed-core';
export { statusOf } from './testbed-core';

/** The in-process kind: the {@link ScenarioBed} clients, plus the stack itself and its log lines. */
export interface Testbed extends ScenarioBed {
  readonly stack: Stack;
  /** The services' log lines (they are not printed). */
  readonly logs: string[];
}

const MAKER = { makerId: 'oven-maker', makerDomain: 'oven-maker.example' };

export async function createTestbed(options: TestbedOptions = {}): Promise<Testbed> {
  const seed = options.seed ?? 1;
  const devices = Object.entries(options.devices ?? { oven: { type: 'oven' as DeviceModel } });
  const operators = Object.entries(options.operators ?? { 'mno.a': { profileTypes: { 'a-iot': 4 } } });
  const pki = options.pki ?? generateTestPki({ curve: 'P-256', euiccCount: 0 });
  const notifications: Testbed['notifications'] = [];
  const logs: string[] = [];
  const webhook = await startWebhook(notifications);
  const keyOf = new Map(operators.map(([mnoId]) => [mnoId, randomBytes(18).toString('base64url')]));
  const makerKey = randomBytes(18).toString('base64url');
  const firstSerial = 10_000_000 + (seed % 100_000) * 100;
  const stack = await startStack({
    pki,
    database: { kind: 'sqlite-memory' },
    mnos: operators.map(([mnoId]) => ({ mnoId, apiKey: keyOf.get(mnoId) as string, webhookUrl: `${webhook.url}/${encodeURIComponent(mnoId)}` })),
    devices: devices.map(([, device], index) => ({
      model: device.type,
      count: 1,
      firstSerial: firstSerial + index,
      // A fault plan is validated like `npm run sim --faults`; its seed defaults to the testbed's.
      ...(device.faults ? { faults: parseFaultPlan({ seed, ...device.faults }) } : {}),
    })),
    owners: { makers: [{ ...MAKER, apiKey: makerKey }] },
    // The services' log lines are kept for the test, not printed between its results.
    logger: { log: (line: string) => void logs.push(line), warn: (line: string) => void logs.push(line), error: (line: string) => void logs.push(line) },
  });
  const hops: SequenceHop[] = [];
  const eidOf = new Map(devices.map(([name], index) => [name, stack.eids[index] as string]));
  const monitor = await connectMqtt({ url: stack.mqttUrl, credentials: stack.credentialsFor(STACK_PRINCIPALS.monitor) });
  const lastScript = new Map<string, string>();
  const tap = await observeBroker(monitor, hops, (cardEid, script) => void lastScript.set(cardEid, script));
  const claimCodes = await registerWithRegistry(stack.registry?.httpUrl ?? '', makerKey, devices.map(([name, device]) => ({ name, eid: eidOf.get(name) as string, model: device.type })));
  for (const [mnoId, operator] of operators) {
    for (const [profileType, wanted] of Object.entries(operator.profileTypes)) {
      await stock(stack.smdp.httpUrl, keyOf.get(mnoId) as string, profileType, wanted, iccidPrefix(mnoId, profileType));
    }
  }
  const bed = assembleBed({
    seed,
    callTag: '',
    // No testbed card takes a serial this high (they start at 10 000 000 + 100 × seed).
    ids: { smsrId: stack.smsr.smsrId, smdpId: stack.smdp.smdpId, eumId: DEMO_IDS.eumId, unknownEid: generateEid(DEMO_EID_PREFIX, 9_900_000_000 + (seed % 100_000)) },
    urls: { smdp: stack.smdp.httpUrl, smsr: stack.smsr.httpUrl, registry: stack.registry?.httpUrl ?? '', issuer: stack.idp?.issuer ?? '' },
    keyOf,
    eidOf,
    fleetOf: (value) => stack.fleetOf(value),
    eumPrivateKey: pki.eum.privateKey,
    claimCodes,
    hops,
    lastScript,
    notifications,
    // Both services hold the registry's signed status in memory: read it there.
    settled: (value, accept) => waitUntil(() => accept(stack.smdp.deviceStatuses?.get(value)) && accept(stack.smsr.deviceStatuses?.get(value))),
    consentEpochs: (value) => [stack.smdp, stack.smsr].map((service) => service.deviceStatuses?.get(value)?.consentEpoch ?? 0),
    async close() {
      await tap.close();
      await monitor.endAsync().catch(() => undefined);
      await stack.close();
      await webhook.close();
    },
  });
  return { ...bed, stack, logs };
}

async function startWebhook(sink: Testbed['notifications']): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const mnoId = decodeURIComponent((req.url ?? '/').slice(1));
      try {
        sink.push({ mnoId, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, at: Date.now() });
      } catch {
        // not JSON: not a notification
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
