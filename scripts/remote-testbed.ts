/**
 * `createRemoteTestbed()`: a scenario's testbed against a stack that already runs (`npm start`, or a
 * deployment of the same services), reached by URL (issue 12: `npx rsp scenario run … --smdp URL --smsr URL
 * --sim URL --registry URL`). Each scenario stays isolated by taking ids of its own on the shared stack:
 *
 * - **fresh cards**: its devices are manufactured here, as a device maker's fleet would be, under the
 *   stack's test PKI (read from its data directory), with EIDs at random serials that the stack's device API
 *   (`--sim`) does not list; each joins the stack's broker with its own identity (CN = EID, single mode) and
 *   is registered with the SM-SR through ES1, signed by the stack's EUM;
 * - **its operators** are the stack's (scenario `mno.a` → `mno.demo`, `mno.b` → `mno.beta` unless mapped
 *   otherwise), proven by their API keys, and its **profile types** carry a tag of this run, so that stock
 *   counts and "none left" cases hold on a stack that served other runs;
 * - **owners** log in at the stack's dev IdP (CIBA, like `npx rsp login`), claim with claim codes the
 *   stack's maker registered for these cards;
 * - **notifications** are the operators' own feed (`GET /mno/notifications` on the SM-DP and SM-SR);
 * - the **diagram** and the `replay` step come from the broker as the stack's read-only monitor identity
 *   sees it, exactly as in the in-process testbed.
 *
 * An owner step ends once the registry's new signed status has crossed the broker (the services subscribe
 * to the same retained topic) and a short grace for them to verify it: the services' memory is not visible
 * from outside, and the status is only read here as that timing signal (the services verify it).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SequenceHop } from '@rsp/contracts';
import type { ProfileTypeStock } from '@rsp/scenario';
import { connectMqtt, issueMqttCredentials } from '@rsp/mqtt-transport';
import { DEMO_EID_PREFIX, generateEid, readTestPki } from '@rsp/pki';
import type { DeviceModel } from '../simulator/src/device';
import { registerCard } from '../simulator/src/eum';
import { parseFaultPlan, type FaultPlan } from '../simulator/src/faults';
import { servedEids } from '../simulator/src/fleet-placement';
import { Fleet } from '../simulator/src/fleet';
import { observeBroker } from './testbed-tap';
import { DEMO_KEY_FILES } from './start-config';
import { DEMO_IDS, STACK_PRINCIPALS } from './stack';
import { assembleBed, iccidPrefix, registerWithRegistry, requestJson, stock, waitUntil, type ScenarioBed, type SeenStatus } from './testbed-core';

/** Where the running stack is, and what proves this runner to it (all defaults are `npm start`'s). */
export interface RemoteStack {
  smdp: string;
  smsr: string;
  /** The stack's device API: the EIDs it serves, which fresh cards keep clear of. */
  sim: string;
  registry: string;
  /** The dev IdP's issuer URL (owners log in there). */
  idp: string;
  /** The stack's broker (mqtts://, client certificates under the stack's Test TLS CA). */
  mqttUrl: string;
  /** The stack's data directory: its PKI (`pki/nist`) and the demo operators' and maker's API key files. */
  dataDir: string;
  smsrId: string;
  smdpId: string;
  eumId: string;
  /** Scenario operator id → the stack's operator id (default: in order, mno.demo then mno.beta). */
  operators?: Record<string, string>;
}

export const NPM_START_DEFAULTS: RemoteStack = {
  smdp: 'http://127.0.0.1:8081',
  smsr: 'http://127.0.0.1:8082',
  sim: 'http://127.0.0.1:8083',
  registry: 'http://127.0.0.1:8084',
  idp: 'http://127.0.0.1:8085',
  mqttUrl: 'mqtts://127.0.0.1:8883',
  dataDir: 'data',
  smsrId: DEMO_IDS.smsrId,
  smdpId: DEMO_IDS.smdpId,
  eumId: DEMO_IDS.eumId,
};

/** The stack's operators whose API key files `npm start` writes (others: `{mnoId}-api-key`). */
const KEY_FILES: Record<string, string> = { [DEMO_IDS.mnoId]: DEMO_KEY_FILES.mno, [DEMO_IDS.secondMnoId]: DEMO_KEY_FILES.secondMno };

/** A setting of the remote stack is missing or wrong: one line naming the flag that fixes it. */
export class RemoteStackUnusable extends Error {}

export interface RemoteScenarioSetup {
  devices: Record<string, { type: DeviceModel; faults?: Omit<FaultPlan, 'seed'> & { seed?: number } }>;
  operators: Record<string, { profileTypes: Record<string, ProfileTypeStock> }>;
  seed: number;
}

/** What the runner does to a scenario's steps against this stack: its operator ids and profile types renamed. */
export interface RemoteBed extends ScenarioBed {
  rename<T>(value: T): T;
  /** Why this bed can no longer be trusted to observe the stack (its monitor connection was taken), if so. */
  interrupted(): string | undefined;
}

export async function createRemoteTestbed(setup: RemoteScenarioSetup, remote: RemoteStack): Promise<RemoteBed> {
  const pkiDir = join(remote.dataDir, 'pki', 'nist');
  if (!existsSync(join(pkiDir, 'MANIFEST_NIST.json'))) throw new RemoteStackUnusable(`no stack PKI at ${pkiDir}: pass the running stack's data directory with --data-dir`);
  const pki = readTestPki(pkiDir, 'P-256');
  const tag = randomBytes(3).toString('hex');
  const names = operatorNames(Object.keys(setup.operators), remote.operators);
  const keyOf = new Map([...names.values()].map((mnoId) => [mnoId, readKey(remote.dataDir, KEY_FILES[mnoId] ?? `${mnoId}-api-key`, `operator ${mnoId}`)]));
  const makerKey = readKey(remote.dataDir, DEMO_KEY_FILES.maker, 'the demo maker');
  const typeNames = new Map(Object.values(setup.operators).flatMap((operator) => Object.keys(operator.profileTypes)).map((type) => [type, `${type}-${tag}`]));
  const renames = new Map<string, string>([...names, ...typeNames]);
  const rename = <T>(value: T): T => renameDeep(value, renames) as T;

  const hops: SequenceHop[] = [];
  const fleets = new Map<string, Fleet>();
  const eidOf = new Map<string, string>();
  const statuses = new Map<string, SeenStatus>();
  const notifications: ScenarioBed['notifications'] = [];
  // No reconnect: the monitor identity is one client id on the broker, and a second run against the same
  // stack takes it over; this run then stops, naming the cause, instead of the two taking it in turns.
  const monitor = await connectMqtt({ url: remote.mqttUrl, credentials: issueMqttCredentials(pki, STACK_PRINCIPALS.monitor), reconnectPeriod: 0 }).catch((error: unknown) => {
    throw new RemoteStackUnusable(`cannot reach the stack's broker at ${remote.mqttUrl} (--mqtt-url) with its PKI (--data-dir): ${(error as Error).message}`);
  });
  let closing = false;
  let interruption: string | undefined;
  monitor.on('close', () => {
    if (!closing) interruption ??= `the broker closed this run's monitor connection (${STACK_PRINCIPALS.monitor}): is another \`rsp scenario run\` using this stack? Runs against one stack go one at a time`;
  });
  const lastScript = new Map<string, string>();
  const closeAll = async (): Promise<void> => {
    closing = true;
    for (const fleet of fleets.values()) await fleet.close().catch(() => undefined);
    await tap?.close();
    monitor.end(true); // at once: a connection the broker already closed would never acknowledge a polite end
  };
  let tap: { close(): Promise<void> } | undefined;
  try {
    tap = await observeBroker(monitor, hops, (cardEid, script) => void lastScript.set(cardEid, script), () => new Set(eidOf.values()));
    monitor.on('message', (topic, payload) => {
      const eid = /\/owner\/device\/(\d{32})\/status$/.exec(topic)?.[1];
      if (eid && [...eidOf.values()].includes(eid)) statuses.set(eid, statusClaims(payload.toString('utf8')));
    });

    // Fresh cards at random serials the stack does not serve; each its own fleet (its model, its fault plan).
    const served = await servedEids(remote.sim);
    if (!served) throw new RemoteStackUnusable(`no device API answered at ${remote.sim} (--sim)`);
    for (const [name, device] of Object.entries(setup.devices)) {
      const eid = freeEid(served, new Set(eidOf.values()));
      const fleet = await Fleet.create({
        size: 1,
        model: device.type,
        pki,
        eidPrefix: DEMO_EID_PREFIX,
        firstSerial: Number(eid.slice(DEMO_EID_PREFIX.length, 30)),
        ...(device.faults ? { faults: parseFaultPlan({ seed: setup.seed, ...device.faults }) } : {}),
      });
      fleets.set(eid, fleet);
      eidOf.set(name, eid);
      await fleet.startMqtt({ url: remote.mqttUrl, mode: 'single', smsrId: remote.smsrId, credentials: (principal) => issueMqttCredentials(pki, principal) });
      const registered = await registerCard({ smsrUrl: remote.smsr, smsrId: remote.smsrId, eumId: remote.eumId, eumPrivateKey: pki.eum.privateKey }, fleet.pool.snapshot(eid));
      if (registered === 'known') throw new RemoteStackUnusable(`${eid} is already registered with ${remote.smsrId}: run again (fresh serials are random)`);
    }
    const claimCodes = await registerWithRegistry(remote.registry, makerKey, [...eidOf].map(([name, eid]) => ({ name, eid, model: setup.devices[name]?.type ?? 'generic' })));
    for (const [name, code] of claimCodes) if (!code.deviceUrl) throw new RemoteStackUnusable(`the registry at ${remote.registry} (--registry) did not take device ${name} from the demo maker's key`);
    for (const [scenarioMno, operator] of Object.entries(setup.operators)) {
      const mnoId = names.get(scenarioMno) as string;
      for (const [type, wanted] of Object.entries(operator.profileTypes)) {
        const renamed = typeNames.get(type) as string;
        await stock(remote.smdp, keyOf.get(mnoId) as string, renamed, wanted, iccidPrefix(mnoId, renamed, tag));
      }
    }

    const started = new Date(Date.now() - 1000).toISOString();
    const ours = [...eidOf.values()];
    const seen = new Set<string>();
    const bed = assembleBed({
      seed: setup.seed,
      callTag: tag,
      ids: { smsrId: remote.smsrId, smdpId: remote.smdpId, eumId: remote.eumId, unknownEid: freeEid(served, new Set(eidOf.values())) },
      urls: { smdp: remote.smdp, smsr: remote.smsr, registry: remote.registry, issuer: remote.idp },
      keyOf,
      eidOf,
      fleetOf: (eid) => {
        const fleet = fleets.get(eid);
        if (!fleet) throw new Error(`${eid} is not a card of this scenario`);
        return fleet;
      },
      eumPrivateKey: pki.eum.privateKey,
      claimCodes,
      hops,
      lastScript,
      notifications,
      // The operators' own feeds: what the services sent them about this scenario's cards, oldest first.
      refreshNotifications: async () => {
        for (const [mnoId, apiKey] of keyOf) {
          for (const [iface, url] of [['es2', remote.smdp], ['es4', remote.smsr]] as const) {
            const answer = await requestJson('GET', `${url}/mno/notifications?limit=200`, undefined, { 'x-api-key': apiKey });
            const listed = (answer.body.notifications ?? []) as Array<{ id: string; createdAt: string; notification: Record<string, unknown> }>;
            for (const entry of [...listed].reverse()) {
              const key = `${iface}:${entry.id}`;
              if (seen.has(key) || entry.createdAt < started || !ours.some((eid) => JSON.stringify(entry.notification).includes(eid))) continue;
              seen.add(key);
              notifications.push({ mnoId, body: entry.notification, at: Date.parse(entry.createdAt) });
            }
          }
        }
      },
      settled: async (eid, accept) => {
        await waitUntil(() => accept(statuses.get(eid)));
        await new Promise((resolve) => setTimeout(resolve, STATUS_GRACE_MS));
      },
      consentEpochs: (eid) => [statuses.get(eid)?.consentEpoch ?? 0],
      close: closeAll,
    });
    return { ...bed, rename, interrupted: () => interruption };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** How long the services get to verify a status after it crossed the broker (they verify one ES256 signature). */
const STATUS_GRACE_MS = 150;

/** Scenario operator ids → the stack's: the given map, else in order mno.demo, mno.beta. */
function operatorNames(scenarioOperators: readonly string[], mapped: Record<string, string> | undefined): Map<string, string> {
  const defaults = [DEMO_IDS.mnoId, DEMO_IDS.secondMnoId];
  return new Map(
    scenarioOperators.map((name, index) => {
      const target = mapped?.[name] ?? defaults[index];
      if (!target) throw new RemoteStackUnusable(`scenario operator ${name} has no operator on the stack: map it with --operator ${name}=<mnoId>`);
      return [name, target];
    }),
  );
}

function readKey(dataDir: string, file: string, whose: string): string {
  const path = join(dataDir, file);
  if (!existsSync(path)) throw new RemoteStackUnusable(`no API key of ${whose} at ${path}: pass the running stack's data directory with --data-dir`);
  return readFileSync(path, 'utf8').trim();
}

/** A demo-prefix EID at a random serial, listed neither by the stack nor already taken here. */
function freeEid(served: ReadonlySet<string>, taken: ReadonlySet<string>): string {
  for (;;) {
    const eid = generateEid(DEMO_EID_PREFIX, 1_000_000_000 + randomInt(8_000_000_000));
    if (!served.has(eid) && !taken.has(eid)) return eid;
  }
}

/** The claims of a compact JWS, unverified: only the moment it crossed the broker matters here. */
function statusClaims(jws: string): SeenStatus {
  try {
    const claims = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { owned?: unknown; status?: unknown; consentEpoch?: unknown };
    return { owned: claims.owned === true, status: String(claims.status), consentEpoch: Number(claims.consentEpoch ?? 0) };
  } catch {
    return undefined;
  }
}

/** Every string equal to a key of `renames` replaced, in keys and values, at any depth. */
function renameDeep(value: unknown, renames: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return renames.get(value) ?? value;
  if (Array.isArray(value)) return value.map((item) => renameDeep(item, renames));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [renames.get(key) ?? key, renameDeep(item, renames)]));
  return value;
}
