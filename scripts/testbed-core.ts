/**
 * What a testbed is once its system runs, written once for both kinds (scripts/testbed.ts: the whole stack
 * in this process; scripts/remote-testbed.ts: a running stack reached by URL, with fresh cards of the
 * testbed's own): the typed clients (`es2`, `es4`, `es1`, `device`, `apdu`, `replayLastScript`, `owner`,
 * `pac`) built over {@link BedParts}, which say where the services are, which keys prove the operators,
 * where the cards live, and how to tell that the services took in an owner's change.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { SequenceActor, SequenceHop } from '@rsp/contracts';
import type { ProfileTypeStock } from '@rsp/scenario';
import { signEis } from '@rsp/contracts';
import { runScript } from '@rsp/card';
import { decodeCommandScript } from '@rsp/offcard';
import { generateEid, generateTestPki } from '@rsp/pki';
import { ownerLogin } from '../cli/login';
import type { DeviceEvent, DeviceInfo } from '../simulator/src/device';
import { buildSignedEis, buildUnsignedEis } from '../simulator/src/eum';
import type { Fleet } from '../simulator/src/fleet';
import { describeStatus } from './testbed-tap';

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

export interface ScenarioBed {
  /** The ids scenarios name as `${smsrId}`, `${smdpId}`, and `${unknownEid}` (a valid EID no SM-SR knows). */
  readonly ids: { smsrId: string; smdpId: string; unknownEid: string };
  /** The EID of a named device. */
  eid(device: string): string;
  /** An operator's API key (a test key of this testbed, or the remote stack's), for tools under test such as the CLI. */
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
  /** Fetches notifications sent since the last call into `notifications`, where they are not pushed (a remote stack's feed). */
  refreshNotifications?(): Promise<void>;
  close(): Promise<void>;
}

/** What {@link assembleBed} builds the clients from. */
export interface BedParts {
  seed: number;
  /**
   * Makes this bed's function call identifiers its own (a running stack keeps every earlier run's):
   * appended to a scenario's own `callId`, and part of the generated ones. Empty in process.
   */
  callTag: string;
  ids: { smsrId: string; smdpId: string; eumId: string; unknownEid: string };
  urls: { smdp: string; smsr: string; registry: string; issuer: string };
  /** Operator id → its API key (X-API-Key). */
  keyOf: ReadonlyMap<string, string>;
  /** Device name → EID. */
  eidOf: ReadonlyMap<string, string>;
  /** The fleet holding a card (in this process: the scenario's devices are always local). */
  fleetOf(eid: string): Fleet;
  /** The EUM key that signs the EIS (ES1). */
  eumPrivateKey: KeyObject;
  /** Device name → what its owner claims it with. */
  claimCodes: ReadonlyMap<string, { deviceUrl: string; claimCode: string }>;
  hops: SequenceHop[];
  /** The last ES5 script each card received, as recorded off the broker (hex). */
  lastScript: ReadonlyMap<string, string>;
  notifications: ScenarioBed['notifications'];
  refreshNotifications?: () => Promise<void>;
  /** Resolves once every service holds an owner status of `eid` that `accept` accepts (or after 10 s). */
  settled(eid: string, accept: (status: SeenStatus) => boolean): Promise<void>;
  /** The consent epoch each service holds for `eid` (0 when none). */
  consentEpochs(eid: string): number[];
  close(): Promise<void>;
}

export function assembleBed(parts: BedParts): ScenarioBed {
  const { seed, ids, urls, keyOf, eidOf, claimCodes, hops } = parts;
  const suffix = parts.callTag ? `-${parts.callTag}` : '';
  const tokens = new Map<string, string>();
  let calls = 0;
  const defaultMno = [...keyOf.keys()][0] ?? 'mno.a';
  const eid = (device: string): string => {
    const value = eidOf.get(device);
    if (!value) throw new Error(`no device named ${device} (known: ${[...eidOf.keys()].join(', ')})`);
    return value;
  };
  const handleOf = (device: string) => {
    const handle = parts.fleetOf(eid(device)).device(eid(device));
    if (!handle) throw new Error(`no device ${device}`);
    return handle;
  };
  const record = (hop: SequenceHop) => void hops.push(hop);
  // What each device publishes (its SSE stream in the device API), kept for the scenarios' `events` expectations.
  const eventsOf = new Map<string, DeviceEvent[]>();
  for (const name of eidOf.keys()) {
    const seen: DeviceEvent[] = [];
    eventsOf.set(name, seen);
    handleOf(name).watch((event) => void seen.push(event));
  }

  const gsma = (iface: 'ES2' | 'ES4', baseUrl: string) => ({
    async call(functionName: string, params: Record<string, unknown>, callOptions: CallOptions = {}): Promise<CallResult> {
      const mnoId = callOptions.as ?? defaultMno;
      const path = functionName.charAt(0).toLowerCase() + functionName.slice(1);
      const callId = callOptions.callId ? `${callOptions.callId}${suffix}` : `tb-${seed}${suffix}-${(calls += 1)}`;
      const body = { header: { functionRequesterIdentifier: mnoId, functionCallIdentifier: callId }, ...params };
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': keyOf.get(mnoId) ?? 'unknown-operator-key' };
      if (callOptions.consent) headers['x-owner-consent'] = callOptions.consent;
      const to: SequenceActor = iface === 'ES2' ? 'SM-DP' : 'SM-SR';
      return timed(record, { from: 'MNO', to, interface: iface, label: functionName, correlationId: callId }, () =>
        postJson(`${baseUrl}/gsma/${iface.toLowerCase()}/${path}`, body, headers),
      );
    },
  });

  const ownerCall = async (user: string, method: string, path: string, label: string, body?: unknown): Promise<CallResult> => {
    const token = tokens.get(user) ?? (await bed.owner.login(user));
    return timed(record, { from: 'Owner', to: 'Registry', interface: 'Owner', label }, () =>
      requestJson(method, `${urls.registry}${path}`, body, { authorization: `Bearer ${token}` }),
    );
  };

  const bed: ScenarioBed = {
    ids: { smsrId: ids.smsrId, smdpId: ids.smdpId, unknownEid: ids.unknownEid },
    hops,
    eid,
    apiKey: (mnoId) => {
      const key = keyOf.get(mnoId);
      if (!key) throw new Error(`no operator ${mnoId}`);
      return key;
    },
    notifications: parts.notifications,
    ...(parts.refreshNotifications ? { refreshNotifications: parts.refreshNotifications } : {}),
    es2: gsma('ES2', urls.smdp),
    es4: gsma('ES4', urls.smsr),
    es1: {
      async register(device, variant = 'as-manufactured') {
        const state = parts.fleetOf(eid(device)).pool.snapshot(eid(device));
        const { eumId, smsrId } = ids;
        const eumPrivateKey = parts.eumPrivateKey;
        let eis: unknown;
        if (variant === 'as-manufactured') eis = buildSignedEis(state, { eumId, smsrId, eumPrivateKey });
        // The forged variants describe a card the SM-SR does not hold yet (the next serial), so what refuses
        // them is the signature check, not the duplicate check.
        else if (variant === 'bad-signature') eis = { ...buildSignedEis(state, { eumId, smsrId, eumPrivateKey }), eid: nextEid(state.eid) };
        else if (variant === 'foreign-eum') eis = signEis(buildUnsignedEis({ ...state, eid: nextEid(state.eid) }, { eumId, smsrId, eumPrivateKey }), generateTestPki({ curve: 'P-256', euiccCount: 0 }).eum.privateKey);
        else eis = buildSignedEis({ ...state, eid: '89001012012341234012345678901224' }, { eumId, smsrId, eumPrivateKey });
        const body = { header: { functionRequesterIdentifier: eumId, functionCallIdentifier: `tb-${seed}${suffix}-es1-${(calls += 1)}` }, eis };
        return timed(record, { from: 'EUM', to: 'SM-SR', interface: 'ES1', label: 'RegisterEIS' }, () =>
          postJson(`${urls.smsr}/gsma/es1/registerEIS`, body, { 'content-type': 'application/json' }),
        );
      },
    },
    device: {
      get: async (device) => handleOf(device).info(),
      async connectivity(device, change) {
        const handle = handleOf(device);
        const fallbackTriggered = handle.setConnectivity(change);
        return { http: 200, body: { connectivity: handle.getConnectivity(), fallbackTriggered } };
      },
      async attach(device) {
        const event = handleOf(device).attach();
        record({ from: 'Network', to: 'eUICC', interface: 'Network', label: `attach: ${'result' in event ? String(event.result) : '?'}`, kind: 'request', at: Date.now() });
        return { http: 200, body: { ...event } };
      },
      events: (device) => eventsOf.get(device) ?? [],
    },
    async replayLastScript(device) {
      const script = parts.lastScript.get(eid(device));
      if (!script) throw new Error(`no ES5 script seen for ${device} yet`);
      const result = parts.fleetOf(eid(device)).pool.withCard(eid(device), (card) => runScript(card, decodeCommandScript(Buffer.from(script, 'hex'))));
      const last = result.responses.at(-1) ?? Buffer.alloc(0);
      const sw = last.length >= 2 ? last.subarray(last.length - 2).toString('hex').toUpperCase() : 'none';
      record({ from: 'Network', to: 'eUICC', interface: 'ES5', label: 'replayed script', kind: 'request', at: Date.now(), status: sw });
      return { executed: result.executed, sw };
    },
    async apdu(device, hex) {
      const fleet = parts.fleetOf(eid(device));
      const response = Buffer.from(fleet.transmit(eid(device), Buffer.from(hex.replace(/\s+/g, ''), 'hex')));
      const sw = response.subarray(response.length - 2).toString('hex').toUpperCase();
      record({ from: 'Network', to: 'eUICC', interface: 'Network', label: `APDU ${hex.replace(/\s+/g, '').slice(0, 8).toUpperCase()}`, kind: 'request', at: Date.now(), status: sw });
      return { response: response.toString('hex').toUpperCase(), sw };
    },
    owner: {
      async login(user) {
        const token = await ownerLogin({ issuer: urls.issuer, user, password: user });
        tokens.set(user, token);
        return token;
      },
      // An owner's action is done once the services hold the registry's new signed status: the registry
      // publishes it right after its commit, and a script should not race that propagation.
      claim: async (user, device) => {
        const entry = claimCodes.get(device);
        const result = await ownerCall(user, 'POST', '/devices/claim', 'claim', { deviceUrl: entry?.deviceUrl ?? '', claimCode: entry?.claimCode ?? '' });
        if (result.http < 300) await parts.settled(eid(device), (status) => status?.owned === true);
        return result;
      },
      consent: (user, device, mnoId, operations, expiresInSeconds = 600) =>
        ownerCall(user, 'POST', `/devices/${eid(device)}/consents`, `consent for ${mnoId}`, { mnoId, operations, expiresInSeconds }),
      revoke: async (user, jti) => {
        const before = new Map([...eidOf.values()].map((value) => [value, Math.min(...parts.consentEpochs(value))]));
        const result = await ownerCall(user, 'DELETE', `/consents/${encodeURIComponent(jti)}`, 'revoke consent');
        // A revocation raises the device's consent epoch; wait until every service sees it on the device it was for.
        if (result.http < 300) await waitUntil(() => [...before].some(([value, epoch]) => Math.min(...parts.consentEpochs(value)) > epoch));
        return result;
      },
      suspend: async (user, device, reason) => {
        const result = await ownerCall(user, 'POST', `/devices/${eid(device)}/suspend`, `suspend (${reason})`, { reason });
        if (result.http < 300) await parts.settled(eid(device), (status) => status?.status !== 'Active');
        return result;
      },
      reinstate: async (user, device) => {
        await bed.owner.login(user); // step-up: a login within max_age (300 s)
        const result = await ownerCall(user, 'POST', `/devices/${eid(device)}/reinstate`, 'reinstate');
        if (result.http < 300) await parts.settled(eid(device), (status) => status?.status === 'Active');
        return result;
      },
      read: (user, device) => ownerCall(user, 'GET', `/devices/${eid(device)}`, 'read device'),
      transfer: async (user, device, subscription) => {
        await bed.owner.login(user); // step-up: a login within max_age (300 s)
        return ownerCall(user, 'POST', `/devices/${eid(device)}/transfers`, `transfer (${subscription.subscription})`, subscription);
      },
      redeem: async (user, device, transferCode) => {
        const before = Math.min(...parts.consentEpochs(eid(device)));
        const result = await ownerCall(user, 'POST', '/transfers/redeem', 'redeem transfer code', { deviceUrl: claimCodes.get(device)?.deviceUrl ?? '', transferCode });
        // The sale bumps the consent epoch (every consent the seller gave dies): wait until the services see it.
        if (result.http < 300) await parts.settled(eid(device), (status) => (status?.consentEpoch ?? 0) > before);
        return result;
      },
      port: (user, device, port) => ownerCall(user, 'POST', `/devices/${eid(device)}/port`, `port to ${port.recipientMnoId}`, port),
    },
    pac: (mnoId, device, iccid) =>
      timed(record, { from: 'MNO', to: 'Registry', interface: 'Owner', label: 'issue PAC' }, () =>
        requestJson('POST', `${urls.registry}/mno/porting-codes`, { eid: eid(device), iccid }, { 'x-api-key': bed.apiKey(mnoId) }),
      ),
    close: () => parts.close(),
  };
  return bed;
}

/** The EID after `eid` (same prefix, serial + 500): in the EUM's range, unknown to the SM-SR. */
export function nextEid(eid: string): string {
  return generateEid(eid.slice(0, 8), BigInt(eid.slice(8, 30)) + 500n);
}

/** A device's owner status as a service holds it (or as it crossed the broker): what an owner step waits for. */
export type SeenStatus = { owned: boolean; status: string; consentEpoch: number } | undefined;

/** Polls `done` every 20 ms for up to 10 s; a status that never arrives lets the next step show what happens then. */
export async function waitUntil(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** One ICCID prefix per operator and profile type, so stocks never collide (ITU-T E.118: 89 + country 49). */
export function iccidPrefix(mnoId: string, profileType: string, salt = ''): string {
  const digits = BigInt(`0x${createHash('sha256').update(`${salt}${mnoId}/${profileType}`).digest('hex').slice(0, 8)}`) % 100_000n;
  return `8949${digits.toString().padStart(5, '0')}`;
}

/** Creates the profile type (with its POL1 / POL2 when given) and generates `count` subscriptions of it. */
export async function stock(smdpUrl: string, apiKey: string, profileType: string, wanted: ProfileTypeStock, prefix: string): Promise<void> {
  const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
  const { count, ...policies } = typeof wanted === 'number' ? { count: wanted } : wanted;
  const created = await requestJson('POST', `${smdpUrl}/mno/profileTypes`, { name: profileType, ...policies }, headers);
  if (created.http >= 300 || (created.body.header as { functionExecutionStatus?: { status?: string } } | undefined)?.functionExecutionStatus?.status !== 'Executed-Success') {
    throw new Error(`creating profile type ${profileType} failed: ${JSON.stringify(created.body)}`);
  }
  const stocked = await requestJson('POST', `${smdpUrl}/mno/subscriptions`, { profileType, generate: count, iccidPrefix: prefix }, headers);
  if (stocked.http >= 300) throw new Error(`stocking ${profileType} failed: HTTP ${stocked.http}`);
}

export async function registerWithRegistry(registryUrl: string, makerKey: string, devices: Array<{ name: string; eid: string; model: string }>) {
  const codes = new Map<string, { deviceUrl: string; claimCode: string }>();
  for (const device of devices) {
    const claimCode = randomBytes(6).toString('base64url').toUpperCase();
    const answer = await requestJson(
      'POST',
      `${registryUrl}/makers/devices`,
      { eid: device.eid, deviceId: `${device.name}-${device.eid.slice(-6)}`, model: device.model, claimCode },
      { 'content-type': 'application/json', 'x-api-key': makerKey },
    );
    codes.set(device.name, { deviceUrl: String(answer.body.deviceUrl ?? ''), claimCode });
  }
  return codes;
}

export async function timed(
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
  return describeStatus(status) ?? (result.http >= 300 ? `HTTP ${result.http}` : undefined);
}

export function postJson(url: string, body: unknown, headers: Record<string, string>): Promise<CallResult> {
  return requestJson('POST', url, body, headers);
}

export async function requestJson(method: string, url: string, body: unknown, headers: Record<string, string>): Promise<CallResult> {
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

