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
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SequenceActor, SequenceHop } from '@rsp/contracts';
import { connectMqtt } from '@rsp/mqtt-transport';
import { generateEid, generateTestPki, type TestPki } from '@rsp/pki';
import { ownerLogin } from '../cli/login';
import type { DeviceEvent, DeviceInfo, DeviceModel } from '../simulator/src/device';
import { parseFaultPlan, type FaultPlan } from '../simulator/src/faults';
import { buildSignedEis, buildUnsignedEis } from '../simulator/src/eum';
import { signEis } from '@rsp/contracts';
import { runScript } from '@rsp/card';
import { decodeCommandScript } from '@rsp/offcard';
import { observeBroker } from './testbed-tap';
import { DEMO_IDS, STACK_PRINCIPALS, startStack, type Stack } from './stack';

export interface TestbedOptions {
  /** Device name → model and an optional fault plan (default one oven named `oven`). */
  devices?: Record<string, { type: DeviceModel; faults?: Omit<FaultPlan, 'seed'> & { seed?: number } }>;
  /** Operator id → profile type → subscriptions to stock (default `mno.a` with 4 of `a-iot`). */
  operators?: Record<string, { profileTypes: Record<string, number> }>;
  /** Makes EIDs the same on every run (default 1). */
  seed?: number;
  /** A shared test PKI (generating one costs ~100 ms; tests in one file can share it). */
  pki?: TestPki;
}

export interface CallResult {
  http: number;
  body: Record<string, unknown>;
}

export interface CallOptions {
  /** The operator (default the first one). */
  as?: string;
  /** An owner consent, sent as X-Owner-Consent. */
  consent?: string;
  /** header.functionCallIdentifier (default a fresh one). */
  callId?: string;
}

export interface Testbed {
  readonly stack: Stack;
  /** The EID of a named device. */
  eid(device: string): string;
  /** An operator's API key (a test key of this testbed), for tools under test such as the CLI. */
  apiKey(mnoId: string): string;
  readonly hops: SequenceHop[];
  es2: { call(functionName: string, params: Record<string, unknown>, options?: CallOptions): Promise<CallResult> };
  es4: { call(functionName: string, params: Record<string, unknown>, options?: CallOptions): Promise<CallResult> };
  es1: { register(device: string, variant?: 'as-manufactured' | 'bad-signature' | 'eid-out-of-range' | 'foreign-eum'): Promise<CallResult> };
  device: {
    get(device: string): Promise<DeviceInfo>;
    connectivity(device: string, change: { wifi?: boolean; cellular?: boolean }): Promise<CallResult>;
    attach(device: string): Promise<CallResult>;
    /** The events the device published since the testbed started (docs/device-api.md "Events"), oldest first. */
    events(device: string): readonly DeviceEvent[];
  };
  apdu(device: string, hex: string): Promise<{ response: string; sw: string }>;
  /**
   * An attacker replays the last ES5 script the card received (recorded off the network) straight to the
   * card: the SCP03 session it opened is spent, so the card must refuse it before running any command.
   */
  replayLastScript(device: string): Promise<{ executed: number; sw: string }>;
  owner: {
    /** An ID token for a dev IdP user (alice, bob), without a browser (CIBA, like `npx rsp login`). */
    login(user: string): Promise<string>;
    claim(user: string, device: string): Promise<CallResult>;
    consent(user: string, device: string, mnoId: string, operations: string[], expiresInSeconds?: number): Promise<CallResult>;
    revoke(user: string, jti: string): Promise<CallResult>;
    suspend(user: string, device: string, reason: 'lost' | 'stolen' | 'compromised'): Promise<CallResult>;
    /** Reinstates a suspended device (a fresh login first: step-up). */
    reinstate(user: string, device: string): Promise<CallResult>;
    /** The device as `user` sees it (GET /devices/{eid}): a 404 once a sale took their access. */
    read(user: string, device: string): Promise<CallResult>;
    /** Starts a resale (a fresh login first: step-up) → `{ transferCode, … }`. */
    transfer(user: string, device: string, subscription: { subscription: 'leave' | 'pass'; mnoId?: string; iccid?: string }): Promise<CallResult>;
    /** The buyer redeems the transfer code; done once the services hold the new owner's status. */
    redeem(user: string, device: string, transferCode: string): Promise<CallResult>;
    /** Ports the subscription to `recipientMnoId` with the donor's PAC. */
    port(user: string, device: string, port: { pac: string; recipientMnoId: string; profileType: string }): Promise<CallResult>;
  };
  /** The donor operator issues a porting code (PAC) for one of its profiles on a device (X-API-Key). */
  pac(mnoId: string, device: string, iccid: string): Promise<CallResult>;
  /** Notifications the operators' webhooks received, oldest first. */
  readonly notifications: Array<{ mnoId: string; body: Record<string, unknown>; at: number }>;
  /** The services' log lines (they are not printed). */
  readonly logs: string[];
  close(): Promise<void>;
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
  const claimCodes = await registerWithRegistry(stack, makerKey, devices.map(([name, device]) => ({ name, eid: eidOf.get(name) as string, model: device.type })));
  for (const [mnoId, operator] of operators) {
    for (const [profileType, count] of Object.entries(operator.profileTypes)) {
      await stock(stack.smdp.httpUrl, keyOf.get(mnoId) as string, profileType, count, iccidPrefix(mnoId, profileType));
    }
  }
  const tokens = new Map<string, string>();
  let calls = 0;
  const defaultMno = operators[0]?.[0] ?? 'mno.a';
  const eid = (device: string): string => {
    const value = eidOf.get(device);
    if (!value) throw new Error(`no device named ${device} (known: ${[...eidOf.keys()].join(', ')})`);
    return value;
  };
  const record = (hop: SequenceHop) => void hops.push(hop);
  // What each device publishes (its SSE stream in the device API), kept for the scenarios' `events` expectations.
  const eventsOf = new Map<string, DeviceEvent[]>();
  for (const [name] of devices) {
    const seen: DeviceEvent[] = [];
    eventsOf.set(name, seen);
    stack.fleetOf(eid(name)).device(eid(name))?.watch((event) => void seen.push(event));
  }

  const gsma = (iface: 'ES2' | 'ES4', baseUrl: string) => ({
    async call(functionName: string, params: Record<string, unknown>, callOptions: CallOptions = {}): Promise<CallResult> {
      const mnoId = callOptions.as ?? defaultMno;
      const path = functionName.charAt(0).toLowerCase() + functionName.slice(1);
      const callId = callOptions.callId ?? `tb-${seed}-${(calls += 1)}`;
      const body = { header: { functionRequesterIdentifier: mnoId, functionCallIdentifier: callId }, ...params };
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': keyOf.get(mnoId) ?? 'unknown-operator-key' };
      if (callOptions.consent) headers['x-owner-consent'] = callOptions.consent;
      const to: SequenceActor = iface === 'ES2' ? 'SM-DP' : 'SM-SR';
      return timed(record, { from: 'MNO', to, interface: iface, label: functionName, correlationId: callId }, () =>
        postJson(`${baseUrl}/gsma/${iface.toLowerCase()}/${path}`, body, headers),
      );
    },
  });

  const registryUrl = stack.registry?.httpUrl ?? '';
  const ownerCall = async (user: string, method: string, path: string, label: string, body?: unknown): Promise<CallResult> => {
    const token = tokens.get(user) ?? (await testbed.owner.login(user));
    return timed(record, { from: 'Owner', to: 'Registry', interface: 'Owner', label }, () =>
      requestJson(method, `${registryUrl}${path}`, body, { authorization: `Bearer ${token}` }),
    );
  };

  const testbed: Testbed = {
    stack,
    hops,
    eid,
    apiKey: (mnoId) => {
      const key = keyOf.get(mnoId);
      if (!key) throw new Error(`no operator ${mnoId}`);
      return key;
    },
    notifications,
    logs,
    es2: gsma('ES2', stack.smdp.httpUrl),
    es4: gsma('ES4', stack.smsr.httpUrl),
    es1: {
      async register(device, variant = 'as-manufactured') {
        const state = stack.fleetOf(eid(device)).pool.snapshot(eid(device));
        const eumId = DEMO_IDS.eumId;
        const smsrId = stack.smsr.smsrId;
        let eis: unknown;
        if (variant === 'as-manufactured') eis = buildSignedEis(state, { eumId, smsrId, eumPrivateKey: pki.eum.privateKey });
        // The forged variants describe a card the SM-SR does not hold yet (the next serial), so what refuses
        // them is the signature check, not the duplicate check.
        else if (variant === 'bad-signature') eis = { ...buildSignedEis(state, { eumId, smsrId, eumPrivateKey: pki.eum.privateKey }), eid: nextEid(state.eid) };
        else if (variant === 'foreign-eum') eis = signEis(buildUnsignedEis({ ...state, eid: nextEid(state.eid) }, { eumId, smsrId, eumPrivateKey: pki.eum.privateKey }), generateTestPki({ curve: 'P-256', euiccCount: 0 }).eum.privateKey);
        else eis = buildSignedEis({ ...state, eid: '89001012012341234012345678901224' }, { eumId, smsrId, eumPrivateKey: pki.eum.privateKey });
        const body = { header: { functionRequesterIdentifier: eumId, functionCallIdentifier: `tb-${seed}-es1-${(calls += 1)}` }, eis };
        return timed(record, { from: 'EUM', to: 'SM-SR', interface: 'ES1', label: 'RegisterEIS' }, () =>
          postJson(`${stack.smsr.httpUrl}/gsma/es1/registerEIS`, body, { 'content-type': 'application/json' }),
        );
      },
    },
    device: {
      async get(device) {
        const handle = stack.fleetOf(eid(device)).device(eid(device));
        if (!handle) throw new Error(`no device ${device}`);
        return handle.info();
      },
      async connectivity(device, change) {
        const handle = stack.fleetOf(eid(device)).device(eid(device));
        const fallbackTriggered = handle?.setConnectivity(change) ?? false;
        return { http: 200, body: { connectivity: handle?.getConnectivity(), fallbackTriggered } };
      },
      async attach(device) {
        const handle = stack.fleetOf(eid(device)).device(eid(device));
        const event = handle?.attach();
        record({ from: 'Network', to: 'eUICC', interface: 'Network', label: `attach: ${event && 'result' in event ? String(event.result) : '?'}`, kind: 'request', at: Date.now() });
        return { http: 200, body: { ...(event ?? {}) } };
      },
      events: (device) => eventsOf.get(device) ?? [],
    },
    async replayLastScript(device) {
      const script = lastScript.get(eid(device));
      if (!script) throw new Error(`no ES5 script seen for ${device} yet`);
      const result = stack.fleetOf(eid(device)).pool.withCard(eid(device), (card) => runScript(card, decodeCommandScript(Buffer.from(script, 'hex'))));
      const last = result.responses.at(-1) ?? Buffer.alloc(0);
      const sw = last.length >= 2 ? last.subarray(last.length - 2).toString('hex').toUpperCase() : 'none';
      record({ from: 'Network', to: 'eUICC', interface: 'ES5', label: 'replayed script', kind: 'request', at: Date.now(), status: sw });
      return { executed: result.executed, sw };
    },
    async apdu(device, hex) {
      const fleet = stack.fleetOf(eid(device));
      const response = Buffer.from(fleet.transmit(eid(device), Buffer.from(hex.replace(/\s+/g, ''), 'hex')));
      const sw = response.subarray(response.length - 2).toString('hex').toUpperCase();
      record({ from: 'Network', to: 'eUICC', interface: 'Network', label: `APDU ${hex.replace(/\s+/g, '').slice(0, 8).toUpperCase()}`, kind: 'request', at: Date.now(), status: sw });
      return { response: response.toString('hex').toUpperCase(), sw };
    },
    owner: {
      async login(user) {
        const token = await ownerLogin({ issuer: stack.idp?.issuer ?? '', user, password: user });
        tokens.set(user, token);
        return token;
      },
      // An owner's action is done once the services hold the registry's new signed status: the registry
      // publishes it right after its commit, and a script should not race that propagation.
      claim: async (user, device) => {
        const entry = claimCodes.get(device);
        const result = await ownerCall(user, 'POST', '/devices/claim', 'claim', { deviceUrl: entry?.deviceUrl ?? '', claimCode: entry?.claimCode ?? '' });
        if (result.http < 300) await settled(stack, eid(device), (status) => status?.owned === true);
        return result;
      },
      consent: (user, device, mnoId, operations, expiresInSeconds = 600) =>
        ownerCall(user, 'POST', `/devices/${eid(device)}/consents`, `consent for ${mnoId}`, { mnoId, operations, expiresInSeconds }),
      revoke: async (user, jti) => {
        const before = new Map([...eidOf.values()].map((value) => [value, stack.smdp.deviceStatuses?.get(value)?.consentEpoch ?? 0]));
        const result = await ownerCall(user, 'DELETE', `/consents/${encodeURIComponent(jti)}`, 'revoke consent');
        // A revocation raises the device's consent epoch; wait until the services see it on the device it was for.
        if (result.http < 300) {
          await waitUntil(() => [...before].some(([value, epoch]) => (stack.smdp.deviceStatuses?.get(value)?.consentEpoch ?? 0) > epoch && (stack.smsr.deviceStatuses?.get(value)?.consentEpoch ?? 0) > epoch));
        }
        return result;
      },
      suspend: async (user, device, reason) => {
        const result = await ownerCall(user, 'POST', `/devices/${eid(device)}/suspend`, `suspend (${reason})`, { reason });
        if (result.http < 300) await settled(stack, eid(device), (status) => status?.status !== 'Active');
        return result;
      },
      reinstate: async (user, device) => {
        await testbed.owner.login(user); // step-up: a login within max_age (300 s)
        const result = await ownerCall(user, 'POST', `/devices/${eid(device)}/reinstate`, 'reinstate');
        if (result.http < 300) await settled(stack, eid(device), (status) => status?.status === 'Active');
        return result;
      },
      read: (user, device) => ownerCall(user, 'GET', `/devices/${eid(device)}`, 'read device'),
      transfer: async (user, device, subscription) => {
        await testbed.owner.login(user); // step-up: a login within max_age (300 s)
        return ownerCall(user, 'POST', `/devices/${eid(device)}/transfers`, `transfer (${subscription.subscription})`, subscription);
      },
      redeem: async (user, device, transferCode) => {
        const before = stack.smdp.deviceStatuses?.get(eid(device))?.consentEpoch ?? 0;
        const result = await ownerCall(user, 'POST', '/transfers/redeem', 'redeem transfer code', { deviceUrl: claimCodes.get(device)?.deviceUrl ?? '', transferCode });
        // The sale bumps the consent epoch (every consent the seller gave dies): wait until the services see it.
        if (result.http < 300) await settled(stack, eid(device), (status) => (status?.consentEpoch ?? 0) > before);
        return result;
      },
      port: (user, device, port) => ownerCall(user, 'POST', `/devices/${eid(device)}/port`, `port to ${port.recipientMnoId}`, port),
    },
    pac: (mnoId, device, iccid) =>
      timed(record, { from: 'MNO', to: 'Registry', interface: 'Owner', label: 'issue PAC' }, () =>
        requestJson('POST', `${registryUrl}/mno/porting-codes`, { eid: eid(device), iccid }, { 'x-api-key': testbed.apiKey(mnoId) }),
      ),
    async close() {
      await tap.close();
      await monitor.endAsync().catch(() => undefined);
      await stack.close();
      await webhook.close();
    },
  };
  return testbed;
}

/** The EID after `eid` (same prefix, serial + 500): in the EUM's range, unknown to the SM-SR. */
function nextEid(eid: string): string {
  return generateEid(eid.slice(0, 8), BigInt(eid.slice(8, 30)) + 500n);
}

type SeenStatus = { owned: boolean; status: string; consentEpoch: number } | undefined;

async function settled(stack: Stack, eid: string, accept: (status: SeenStatus) => boolean): Promise<void> {
  await waitUntil(() => accept(stack.smdp.deviceStatuses?.get(eid)) && accept(stack.smsr.deviceStatuses?.get(eid)));
}

/** Polls `done` every 20 ms for up to 10 s; a status that never arrives lets the next step show what happens then. */
async function waitUntil(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** One ICCID prefix per operator and profile type, so stocks never collide (ITU-T E.118: 89 + country 49). */
function iccidPrefix(mnoId: string, profileType: string): string {
  const digits = BigInt(`0x${createHash('sha256').update(`${mnoId}/${profileType}`).digest('hex').slice(0, 8)}`) % 100_000n;
  return `8949${digits.toString().padStart(5, '0')}`;
}

async function stock(smdpUrl: string, apiKey: string, profileType: string, count: number, prefix: string): Promise<void> {
  const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
  await requestJson('POST', `${smdpUrl}/mno/profileTypes`, { name: profileType }, headers);
  const stocked = await requestJson('POST', `${smdpUrl}/mno/subscriptions`, { profileType, generate: count, iccidPrefix: prefix }, headers);
  if (stocked.http >= 300) throw new Error(`stocking ${profileType} failed: HTTP ${stocked.http}`);
}

async function registerWithRegistry(stack: Stack, makerKey: string, devices: Array<{ name: string; eid: string; model: string }>) {
  const codes = new Map<string, { deviceUrl: string; claimCode: string }>();
  for (const device of devices) {
    const claimCode = randomBytes(6).toString('base64url').toUpperCase();
    const answer = await requestJson(
      'POST',
      `${stack.registry?.httpUrl}/makers/devices`,
      { eid: device.eid, deviceId: `${device.name}-${device.eid.slice(-6)}`, model: device.model, claimCode },
      { 'content-type': 'application/json', 'x-api-key': makerKey },
    );
    codes.set(device.name, { deviceUrl: String(answer.body.deviceUrl ?? ''), claimCode });
  }
  return codes;
}

async function timed(
  record: (hop: SequenceHop) => void,
  request: Omit<SequenceHop, 'kind' | 'at'>,
  run: () => Promise<CallResult>,
): Promise<CallResult> {
  const at = Date.now();
  record({ ...request, kind: 'request', at });
  const result = await run();
  const status = statusOf(result);
  record({ from: request.to, to: request.from, interface: request.interface, label: request.label, kind: 'response', at: Date.now(), durationMs: Date.now() - at, ...(status ? { status } : {}), ...(request.correlationId ? { correlationId: request.correlationId } : {}) });
  return result;
}

/** `Executed-Success`, `Failed 8.1.1/3.9`, or `HTTP 401` for a non-SGP.02 answer. */
export function statusOf(result: CallResult): string | undefined {
  const status = (result.body.header as { functionExecutionStatus?: { status?: string; statusCodeData?: { subjectCode?: string; reasonCode?: string } } } | undefined)?.functionExecutionStatus;
  if (status?.status) return `${status.status}${status.statusCodeData ? ` ${status.statusCodeData.subjectCode}/${status.statusCodeData.reasonCode}` : ''}`;
  return result.http >= 300 ? `HTTP ${result.http}` : undefined;
}

function postJson(url: string, body: unknown, headers: Record<string, string>): Promise<CallResult> {
  return requestJson('POST', url, body, headers);
}

async function requestJson(method: string, url: string, body: unknown, headers: Record<string, string>): Promise<CallResult> {
  const response = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { http: response.status, body: parsed };
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
