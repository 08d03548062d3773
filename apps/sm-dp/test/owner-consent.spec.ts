/**
 * ES2 with the owner registry configured (docs/owner-registry.md): device statuses arrive as retained
 * MQTT messages on the embedded broker, consents are signed with a locally generated key (local JWKS).
 * Refusals happen before any ES3 / card traffic and are not stored under the functionCallIdentifier.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { exportJWK } from 'jose';
import mqtt from 'mqtt';
import { deviceStatusTopic, signConsent, type ConsentOperation, type DeviceStatus } from '@rsp/identity';
import { startEmbeddedBroker, type EmbeddedBroker } from '@rsp/mqtt-transport';
import { generateTestPki, type TestPki } from '@rsp/pki';
import { startSmDp, type SmDpHandle } from '../src/app';
import { Fleet } from '../../../simulator/src/fleet';
import { FakeSmSr } from './fake-sm-sr';
import { KEY_A, KEY_B, SMSR_ID, eventually, header, smDpOptions, type Json } from './support';

const ISSUER = 'https://registry.test';
const KID = 'registry-consent-1';
const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });

let pki: TestPki;
let fleet: Fleet;
let broker: EmbeddedBroker;
let fake: FakeSmSr;
let smdp: SmDpHandle;
let owned: string;
let unowned: string;
let updatedAt = Date.parse('2030-01-01T00:00:00Z');

async function publishStatus(over: Partial<DeviceStatus> & { eid: string }): Promise<DeviceStatus> {
  updatedAt += 1000;
  const status: DeviceStatus = { owned: true, status: 'Active', consentEpoch: 1, revokedConsents: [], updatedAt: new Date(updatedAt).toISOString(), ...over };
  const client = await mqtt.connectAsync(broker.url, { clientId: `registry-${randomUUID()}` });
  try {
    await client.publishAsync(deviceStatusTopic(status.eid), JSON.stringify(status), { qos: 1, retain: true });
  } finally {
    await client.endAsync();
  }
  return status;
}

/** Waits until the SM-DP holds `status` (by updatedAt). */
const held = (status: DeviceStatus) => eventually(() => smdp.deviceStatuses?.get(status.eid)?.updatedAt === status.updatedAt);

const consent = async (eid: string, operations: ConsentOperation[], over: { mnoId?: string; epoch?: number; jti?: string } = {}) =>
  (
    await signConsent(
      { issuer: ISSUER, eid, mnoId: over.mnoId ?? 'mno.a', operations, epoch: over.epoch ?? 1, expiresInSeconds: 600, ...(over.jti ? { jti: over.jti } : {}) },
      { privateKey: signing.privateKey, kid: KID },
    )
  ).token;

async function es2(fn: string, body: Json, options: { consent?: string; key?: string } = {}): Promise<Json> {
  const response = await fetch(`${smdp.httpUrl}/gsma/es2/${fn}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': options.key ?? KEY_A, ...(options.consent ? { 'X-Owner-Consent': options.consent } : {}) },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as Json).header.functionExecutionStatus as Json;
}

const downloadBody = (eid: string, requester = 'mno.a', callId = randomUUID()) => ({ header: header(requester, undefined, callId), eid, smsrId: SMSR_ID, profileType: 'm2m', enableProfile: true });

beforeAll(async () => {
  pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  fleet = await Fleet.create({ size: 3, model: 'oven', pki });
  [owned, unowned] = fleet.eids() as [string, string];
  broker = await startEmbeddedBroker({ port: 0 });
  fake = new FakeSmSr(fleet, pki, SMSR_ID);
  // Published before the SM-DP starts: the retained status reaches it at subscription (a restart case).
  const first = await publishStatus({ eid: owned });
  smdp = await startSmDp(
    smDpOptions(pki, fake, {
      databaseUrl: 'sqlite::memory:',
      mqttUrl: broker.url,
      ownerRegistry: { issuer: ISSUER, jwks: { keys: [{ ...(await exportJWK(signing.publicKey)), kid: KID, alg: 'ES256', use: 'sig' }] } },
    }),
  );
  await held(first);
  await smdp.inventory.putProfileType('mno.a', { name: 'm2m' });
  await smdp.inventory.generateSubscriptions('mno.a', 'm2m', 4);
});

afterAll(async () => {
  await smdp?.close();
  await fleet?.close();
  await broker?.close();
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

  it('a device the registry does not know needs no consent', async () => {
    expect(await es2('downloadProfile', { ...downloadBody(unowned), enableProfile: false })).toEqual({ status: 'Executed-Success' });
  });

  it('revoked: a bumped epoch or a revoked jti → 8.1.1 / 6.1', async () => {
    const old = await consent(owned, ['DisableProfile'], { jti: 'jti-old' });
    await held(await publishStatus({ eid: owned, revokedConsents: ['jti-old'] }));
    const body = () => ({ header: header('mno.a'), eid: owned, smsrId: SMSR_ID, iccid });
    expect(await es2('disableProfile', body(), { consent: old })).toMatchObject({ statusCodeData: { subjectCode: '8.1.1', reasonCode: '6.1', message: 'Owner consent revoked' } });
    const epochOne = await consent(owned, ['DisableProfile']);
    await held(await publishStatus({ eid: owned, consentEpoch: 2 })); // a transfer
    expect(await es2('disableProfile', body(), { consent: epochOne })).toMatchObject({ statusCodeData: { subjectCode: '8.1.1', reasonCode: '6.1' } });
    expect(fleet.device(owned)?.identity()).toMatchObject({ iccid }); // still enabled
    // The new owner's consent (current epoch) works.
    expect(await es2('disableProfile', body(), { consent: await consent(owned, ['DisableProfile'], { epoch: 2 }) })).toEqual({ status: 'Executed-Success' });
  });

  it('suspended: everything but DeleteProfile → 8.1 / 3.8; delete (of the disabled profile) with a consent works', async () => {
    await held(await publishStatus({ eid: owned, consentEpoch: 2, status: 'Suspended' }));
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
  });
});
