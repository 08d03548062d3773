/**
 * ES2 with the owner registry configured (docs/owner-registry.md): device statuses are registry-signed
 * documents, retained on the embedded broker (TLS, ACL) and, for a device with none, fetched from the registry
 * (a local stand-in); consents are signed with the same key. Refusals happen before any ES3 / card
 * traffic and are not stored under the functionCallIdentifier. The attacker's tests: forged, foreign-key,
 * other-EID, replayed and empty statuses change nothing; a restart with no status known fails closed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { deviceStatusTopic, signConsent, type ConsentOperation, type DeviceStatus, type VersionedDeviceStatus } from '@rsp/identity';
import { connectMqtt } from '@rsp/mqtt-transport';
import { generateTestPki, type TestPki } from '@rsp/pki';
import { startSmDp, type SmDpHandle } from '../src/app';
import { Fleet } from '../../../simulator/src/fleet';
import { registryKey } from '../../../libs/identity/test/support/registry-keys';
import { startRegistryStandIn, type RegistryStandIn } from '../../../libs/identity/test/support/registry-stand-in';
import { principal, startTestBroker, type TestBroker } from '../../../test/support/brokers';
import { FakeSmSr } from './fake-sm-sr';
import { KEY_A, KEY_B, SMSR_ID, eventually, header, logLines, smDpOptions, type Json } from './support';

let pki: TestPki;
let fleet: Fleet;
let broker: TestBroker;
let registry: RegistryStandIn;
let fake: FakeSmSr;
let smdp: SmDpHandle;
let owned: string;
let unowned: string;
let unseen: string;
/** The owned device's first, genuine status (registered, no owner yet): what a replay would present. */
let beforeClaim: string;

/**
 * Publishes `payload` retained on the status topic of `eid` under the registry's broker identity (the ACL
 * lets no one else publish there): the registry, or a forger who got that far.
 */
async function publishRetained(eid: string, payload: string | Buffer): Promise<void> {
  const client = await connectMqtt({ url: broker.url, credentials: broker.credentialsFor(REGISTRY_PRINCIPAL) });
  try {
    await client.publishAsync(deviceStatusTopic(eid), payload, { qos: 1, retain: true });
  } finally {
    await client.endAsync();
  }
}

/** The registry changes the status of `eid` and publishes it, signed and retained; resolves once the SM-DP holds it. */
async function changeStatus(eid: string, change: Partial<DeviceStatus> = {}, target: () => SmDpHandle = () => smdp): Promise<VersionedDeviceStatus> {
  const status = registry.change(eid, change);
  await publishRetained(eid, await registry.signed(status));
  await eventually(() => target().deviceStatuses?.get(eid)?.version === status.version);
  return status;
}

const consent = async (eid: string, operations: ConsentOperation[], over: { mnoId?: string; epoch?: number; jti?: string } = {}) =>
  (
    await signConsent(
      { issuer: registry.issuer, eid, mnoId: over.mnoId ?? 'mno.a', operations, epoch: over.epoch ?? 1, expiresInSeconds: 600, ...(over.jti ? { jti: over.jti } : {}) },
      { privateKey: registry.key.privateKey, kid: registry.key.kid },
    )
  ).token;

async function es2(fn: string, body: Json, options: { consent?: string; key?: string; target?: SmDpHandle } = {}): Promise<Json> {
  const response = await fetch(`${(options.target ?? smdp).httpUrl}/gsma/es2/${fn}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': options.key ?? KEY_A, ...(options.consent ? { 'X-Owner-Consent': options.consent } : {}) },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as Json).header.functionExecutionStatus as Json;
}

const downloadBody = (eid: string, requester = 'mno.a', callId = randomUUID()) => ({ header: header(requester, undefined, callId), eid, smsrId: SMSR_ID, profileType: 'm2m', enableProfile: true });
const SMDP_ID = 'smdp.test';
const REGISTRY_PRINCIPAL = 'owner-registry';
const PRINCIPALS = [principal(SMDP_ID, 'sm-dp'), principal(REGISTRY_PRINCIPAL, 'owner-registry')];
const CONSENT_REQUIRED = { status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '1.2', message: 'Owner consent required' } };
const STATUS_UNAVAILABLE = { status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '3.7', message: 'Owner status of the EID unavailable' } };

const startSmDpWithRegistry = async (on: TestBroker) =>
  startSmDp(
    smDpOptions(pki, fake, on, {
      databaseUrl: 'sqlite::memory:',
      ownerRegistry: { issuer: registry.issuer, jwks: registry.key.jwks, statusUrl: registry.url },
    }),
  );

beforeAll(async () => {
  pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  fleet = await Fleet.create({ size: 3, model: 'oven', pki });
  [owned, unowned, unseen] = fleet.eids() as [string, string, string];
  broker = await startTestBroker({ principals: PRINCIPALS, pki });
  registry = await startRegistryStandIn();
  fake = new FakeSmSr(fleet, pki, SMSR_ID);
  // Registered, then claimed, before the SM-DP starts: the retained status reaches it at subscription (a restart case).
  beforeClaim = await registry.signed(registry.change(owned));
  const claimed = registry.change(owned, { owned: true, consentEpoch: 1 });
  await publishRetained(owned, await registry.signed(claimed));
  smdp = await startSmDpWithRegistry(broker);
  expect(smdp.deviceStatuses?.get(owned)).toMatchObject({ owned: true, version: claimed.version });
  await smdp.inventory.putProfileType('mno.a', { name: 'm2m' });
  await smdp.inventory.generateSubscriptions('mno.a', 'm2m', 4);
});

afterAll(async () => {
  await smdp?.close();
  await fleet?.close();
  await broker?.close();
  await registry?.close();
});

describe('ES2 owner consent (ownerRegistry configured)', () => {
  const refusedCallId = randomUUID();
  let iccid: string;

  it('owned device without X-Owner-Consent → Failed 8.1.1 / 1.2, no ES3 / card traffic', async () => {
    const calls = fake.calls.length;
    const aids = fake.cardAids(owned);
    const status = await es2('downloadProfile', downloadBody(owned, 'mno.a', refusedCallId));
    expect(status).toEqual({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '1.2', subjectIdentifier: owned, message: 'Owner consent required' } });
    expect(fake.calls.length).toBe(calls);
    expect(fake.cardAids(owned)).toEqual(aids);
  });

  it('a valid consent → the download runs (same functionCallIdentifier: the refusal was not stored)', async () => {
    const token = await consent(owned, ['DownloadProfile', 'EnableProfile', 'DisableProfile', 'DeleteProfile']);
    const response = await fetch(`${smdp.httpUrl}/gsma/es2/downloadProfile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY_A, 'X-Owner-Consent': token },
      body: JSON.stringify(downloadBody(owned, 'mno.a', refusedCallId)),
    });
    const body = (await response.json()) as Json;
    expect(body.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    iccid = body.iccid as string;
    expect(fleet.device(owned)?.identity()).toMatchObject({ iccid });
  });

  it('a consent for another operation, or a wrong key / garbage → 8.1.1 / 6.1', async () => {
    const downloadOnly = await consent(owned, ['DownloadProfile']);
    const body = { header: header('mno.a'), eid: owned, smsrId: SMSR_ID, iccid };
    expect(await es2('disableProfile', body, { consent: downloadOnly })).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '6.1' } });
    expect(await es2('disableProfile', { ...body, header: header('mno.a') }, { consent: 'x.y.z' })).toMatchObject({ statusCodeData: { subjectCode: '8.1.1', reasonCode: '6.1' } });
  });

  it('MNO-B presenting MNO-A’s consent → 8.1.1 / 6.1, no card traffic', async () => {
    const calls = fake.calls.length;
    const token = await consent(owned, ['DownloadProfile']);
    const status = await es2('downloadProfile', downloadBody(owned, 'mno.b'), { consent: token, key: KEY_B });
    expect(status).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '6.1', subjectIdentifier: owned } });
    expect(fake.calls.length).toBe(calls);
  });

  it('a device the registry does not know needs no consent (its signed "not registered" status is fetched)', async () => {
    expect(smdp.deviceStatuses?.get(unowned)).toBeUndefined();
    expect(await es2('downloadProfile', { ...downloadBody(unowned), enableProfile: false })).toEqual({ status: 'Executed-Success' });
    expect(smdp.deviceStatuses?.get(unowned)).toMatchObject({ owned: false, version: 0 });
    expect(registry.requests).toEqual([unowned]);
  });

  it('revoked: a bumped epoch or a revoked jti → 8.1.1 / 6.1', async () => {
    const old = await consent(owned, ['DisableProfile'], { jti: 'jti-old' });
    await changeStatus(owned, { revokedConsents: ['jti-old'] });
    const body = () => ({ header: header('mno.a'), eid: owned, smsrId: SMSR_ID, iccid });
    expect(await es2('disableProfile', body(), { consent: old })).toMatchObject({ statusCodeData: { subjectCode: '8.1.1', reasonCode: '6.1', message: 'Owner consent revoked' } });
    const epochOne = await consent(owned, ['DisableProfile']);
    await changeStatus(owned, { consentEpoch: 2, revokedConsents: [] }); // a transfer
    expect(await es2('disableProfile', body(), { consent: epochOne })).toMatchObject({ statusCodeData: { subjectCode: '8.1.1', reasonCode: '6.1' } });
    expect(fleet.device(owned)?.identity()).toMatchObject({ iccid }); // still enabled
    // The new owner's consent (current epoch) works.
    expect(await es2('disableProfile', body(), { consent: await consent(owned, ['DisableProfile'], { epoch: 2 }) })).toEqual({ status: 'Executed-Success' });
  });

  it('suspended: everything but DeleteProfile → 8.1 / 3.8; delete (of the disabled profile) with a consent works', async () => {
    await changeStatus(owned, { status: 'Suspended' });
    const calls = fake.calls.length;
    const all = await consent(owned, ['DownloadProfile', 'EnableProfile', 'DisableProfile', 'DeleteProfile'], { epoch: 2 });
    const suspended = { status: 'Failed', statusCodeData: { subjectCode: '8.1', reasonCode: '3.8', subjectIdentifier: owned } };
    expect(await es2('downloadProfile', downloadBody(owned), { consent: all })).toMatchObject(suspended);
    expect(await es2('enableProfile', { header: header('mno.a'), eid: owned, smsrId: SMSR_ID, iccid }, { consent: all })).toMatchObject(suspended);
    expect(await es2('updatePolicyRules', { header: header('mno.a'), eid: owned, smsrId: SMSR_ID, iccid, pol2: [] }, { consent: all })).toMatchObject(suspended);
    expect(fake.calls.length).toBe(calls);
    const aids = fake.cardAids(owned);
    // Still owned: the delete needs the consent too.
    expect(await es2('deleteProfile', { header: header('mno.a'), eid: owned, smsrId: SMSR_ID, iccid })).toMatchObject({ statusCodeData: { subjectCode: '8.1.1', reasonCode: '1.2' } });
    expect(await es2('deleteProfile', { header: header('mno.a'), eid: owned, smsrId: SMSR_ID, iccid }, { consent: all })).toEqual({ status: 'Executed-Success' });
    expect(fake.cardAids(owned)).toHaveLength(aids.length - 1);
    await changeStatus(owned, { status: 'Active' });
  });
});

describe('the attacker’s statuses change nothing', () => {
  const FORGERIES = [
    'unsigned JSON, owned false, updatedAt 2099',
    'signed with another key (the registry’s kid)',
    'a genuine unowned status of another EID',
    'a replay of the genuine status from before the claim',
    'an empty retained message',
  ] as const;
  const forgery = async (name: (typeof FORGERIES)[number]): Promise<string | Buffer> => {
    const now = smdp.deviceStatuses?.get(owned) as VersionedDeviceStatus;
    const unownedLie = { ...now, owned: false, version: now.version + 100, updatedAt: '2099-01-01T00:00:00.000Z' };
    switch (name) {
      case 'unsigned JSON, owned false, updatedAt 2099':
        return JSON.stringify({ ...unownedLie, version: undefined });
      case 'signed with another key (the registry’s kid)':
        return registry.signed(unownedLie, await registryKey(registry.key.kid));
      case 'a genuine unowned status of another EID':
        return registry.signed({ ...(smdp.deviceStatuses?.get(unowned) as VersionedDeviceStatus), version: 1000 });
      case 'a replay of the genuine status from before the claim':
        return beforeClaim;
      case 'an empty retained message':
        return Buffer.alloc(0);
    }
  };

  it.each(FORGERIES)('%s on the owned device’s topic: still 8.1.1 / 1.2 without consent, no ES3 traffic', async (name) => {
    const payload = await forgery(name);
    const held = smdp.deviceStatuses?.get(owned);
    const calls = fake.calls.length;
    const logged = logLines.length;
    await publishRetained(owned, payload);
    await eventually(() => logLines.slice(logged).some((line) => line.startsWith(`device status for ${owned} ignored: `))); // delivered and refused
    expect(smdp.deviceStatuses?.get(owned)).toEqual(held);
    expect(await es2('downloadProfile', downloadBody(owned))).toMatchObject(CONSENT_REQUIRED);
    expect(fake.calls.length).toBe(calls);
  });

  it('logs refusals by code, never the payload', async () => {
    const refusals = logLines.filter((line) => line.startsWith(`device status for ${owned} ignored:`));
    expect(refusals.map((line) => line.split(': ')[1])).toEqual(
      expect.arrayContaining(['ERR_DEVICE_STATUS_UNSIGNED', 'ERR_DEVICE_STATUS_SIGNATURE_INVALID', 'ERR_DEVICE_STATUS_EID_MISMATCH', 'ERR_DEVICE_STATUS_STALE', 'ERR_DEVICE_STATUS_EMPTY']),
    );
    expect(logLines.join('\n')).not.toContain(beforeClaim.split('.')[2]);
  });
});

describe('fail closed: no verified status known', () => {
  it('registry unreachable → consent-gated ES2 refused 8.1.1 / 3.7 (no ES3 traffic), GetEIS allowed; once it answers, owned needs consent', async () => {
    registry.change(unseen, { owned: true, consentEpoch: 1 }); // the registry knows, nothing was published
    registry.down = true;
    const calls = fake.calls.length;
    expect(await es2('downloadProfile', downloadBody(unseen))).toMatchObject({ ...STATUS_UNAVAILABLE, statusCodeData: { ...STATUS_UNAVAILABLE.statusCodeData, subjectIdentifier: unseen } });
    expect(await es2('downloadProfile', downloadBody(unseen), { consent: await consent(unseen, ['DownloadProfile']) })).toMatchObject(STATUS_UNAVAILABLE);
    expect(fake.calls.length).toBe(calls);
    expect(await es2('getEIS', { header: header('mno.a'), eid: unseen, smsrId: SMSR_ID })).toEqual({ status: 'Executed-Success' });

    registry.down = false;
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the cache's pause after a failed request
    expect(await es2('downloadProfile', downloadBody(unseen))).toMatchObject(CONSENT_REQUIRED);
    expect(smdp.deviceStatuses?.get(unseen)).toMatchObject({ owned: true, version: 1 });
  });

  it('a restart on a broker that forgot every retained status: 50 concurrent consent-less calls on an owned device are all refused', async () => {
    const emptyBroker = await startTestBroker({ principals: PRINCIPALS, pki });
    const restarted = await startSmDpWithRegistry(emptyBroker);
    try {
      expect(restarted.deviceStatuses?.size).toBe(0);
      registry.down = true;
      const whileDown = await Promise.all(Array.from({ length: 50 }, () => es2('downloadProfile', downloadBody(owned), { target: restarted })));
      expect(whileDown.filter((status) => status.status !== 'Failed')).toEqual([]);
      expect(new Set(whileDown.map((status) => `${status.statusCodeData.subjectCode} / ${status.statusCodeData.reasonCode}`))).toEqual(new Set(['8.1.1 / 3.7']));
      registry.down = false;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const requestsBefore = registry.requests.length;
      const answered = await Promise.all(Array.from({ length: 50 }, () => es2('downloadProfile', downloadBody(owned), { target: restarted })));
      expect(answered.filter((status) => status.statusCodeData?.reasonCode !== '1.2')).toEqual([]);
      expect(registry.requests.length - requestsBefore).toBe(1); // one request for the burst
    } finally {
      registry.down = false;
      await restarted.close();
      await emptyBroker.close();
    }
  });
});
