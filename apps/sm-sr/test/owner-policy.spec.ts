/**
 * SM-SR owner checks with the owner registry configured (docs/owner-registry.md): ES4 Enable / Disable /
 * Delete need `X-Owner-Consent` on an owned device; a Suspended device refuses every ES3 / ES4 profile
 * function but DeleteISDP / DeleteProfile. Device statuses are registry-signed documents, retained on the
 * embedded broker (TLS, ACL) or fetched from the registry (a local stand-in) for a device with none. The attacker's
 * tests: forged, replayed and empty statuses change nothing; no verified status known fails closed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDownloadCommands, buildEstablishKeySetStep1, buildEstablishKeySetStep2, decodeResponseScript, defaultIsdRKeySet, encodeCommandScript, parseEstablishKeySetStep1Response } from '@rsp/offcard';
import { deviceStatusTopic, signConsent, type ConsentOperation, type DeviceStatus } from '@rsp/identity';
import { generateIccid } from '@rsp/pki';
import { buildDefaultTemplate, personaliseProfile } from '@rsp/saip';
import { decodeResponseApdu, encodeCommandApdu, type CommandApdu } from '@rsp/tlv';
import { buildSignedEis } from '../../../simulator/src/eum';
import { Fleet } from '../../../simulator/src/fleet';
import { registryKey } from '../../../libs/identity/test/support/registry-keys';
import { startRegistryStandIn, type RegistryStandIn } from '../../../libs/identity/test/support/registry-stand-in';
import { startSmSr, type SmSrHandle } from '../src/app';
import { LocalEs5Channel } from './local-es5-channel';
import { startTestBroker, type TestBroker } from '../../../test/support/brokers';
import { connectAs, EUM_ID, header, MNO, OTHER_MNO, pki, PRINCIPALS, SMSR_ID, startSmdpStub, waitFor } from './support';

const SMDP = 'smdp.one';

let fleet: Fleet;
let broker: TestBroker;
let es5: LocalEs5Channel;
let smsr: SmSrHandle;
let smdp: Awaited<ReturnType<typeof startSmdpStub>>;
let dir: string;
let eid: string;
/** A second card registered with the SM-SR, of which no status is ever published. */
let unseen: string;
let registry: RegistryStandIn;
/** The card's first genuine status (no owner yet): what a replay would present. */
let beforeClaim: string;
const profile = { iccid: generateIccid('8900012', 7373), imsi: '001010000007373' };
let isdpAid = '';
const logLines: string[] = [];
const logger = { log: (m: string) => void logLines.push(m), warn: (m: string) => void logLines.push(m), error: (m: string) => void logLines.push(m) };

/**
 * Publishes `payload` retained on the status topic of `eid` under the registry's broker identity (the ACL
 * lets no one else publish there): the registry, or a forger who got that far.
 */
async function publishRetained(eid: string, payload: string | Buffer): Promise<void> {
  const client = await connectAs(broker, 'owner-registry');
  try {
    await client.publishAsync(deviceStatusTopic(eid), payload, { qos: 1, retain: true });
  } finally {
    await client.endAsync();
  }
}

/** The registry changes the card's status and publishes it, signed and retained; resolves once the SM-SR holds it. */
async function publishStatus(over: Partial<DeviceStatus> = {}): Promise<void> {
  const status = registry.change(eid, over);
  await publishRetained(eid, await registry.signed(status));
  await waitFor(() => smsr.deviceStatuses?.get(eid)?.version === status.version, 15_000).catch((error: Error) => {
    throw new Error(`${error.message}; SM-SR log: ${logLines.join(' | ')}`);
  });
}

const consent = async (operations: ConsentOperation[], mnoId = MNO.mnoId, target = eid) =>
  (await signConsent({ issuer: registry.issuer, eid: target, mnoId, operations, epoch: 1, expiresInSeconds: 600 }, { privateKey: registry.key.privateKey, kid: registry.key.kid })).token;

async function es4(fn: string, options: { consent?: string; mno?: typeof MNO; callId?: string; eid?: string } = {}) {
  const mno = options.mno ?? MNO;
  const response = await fetch(`${smsr.httpUrl}/gsma/es4/${fn}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': mno.apiKey, ...(options.consent ? { 'X-Owner-Consent': options.consent } : {}) },
    body: JSON.stringify({ header: header(mno.mnoId, options.callId ? { callId: options.callId } : {}), eid: options.eid ?? eid, iccid: profile.iccid }),
  });
  return ((await response.json()) as { header: { functionExecutionStatus: unknown } }).header.functionExecutionStatus;
}
const es3 = async (fn: string, body: object) => (await smsr.service.call('ES3', fn, { header: header(SMDP), ...body })) as { header: { functionExecutionStatus: unknown } } & Record<string, unknown>;

/** The ES3 download of `profile` (as profile-lifecycle.spec.ts does it), leaving it Disabled. */
async function downloadProfile(): Promise<void> {
  const created = await es3('CreateISDP', { eid, iccid: profile.iccid, mnoId: MNO.mnoId, requiredMemory: 20_000 });
  expect(created.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
  isdpAid = created.isdpAid as string;
  const send = async (commands: CommandApdu[]) => {
    const result = await es3('SendData', { eid, sdAid: isdpAid, data: encodeCommandScript({ commands: commands.map((c) => encodeCommandApdu(c)) }).toString('hex') });
    expect(result.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    const responses = decodeResponseScript(Buffer.from(result.euiccResponseData as string, 'hex')).responses.map((r) => decodeResponseApdu(r));
    for (const r of responses) expect(r.sw).toBe(0x9000);
    return responses.map((r) => r.data);
  };
  const challenge = parseEstablishKeySetStep1Response((await send(buildEstablishKeySetStep1({ isdpAid, smdpCertificate: pki.smDp.cert }))).at(-1) as Buffer);
  const step2 = buildEstablishKeySetStep2({ challenge, smdpPrivateKey: pki.smDp.privateKey, ecasdCertificate: fleet.ecasdCertificate(eid) as Buffer, isdpAid });
  const keySet = step2.finish((await send(step2.commands)).at(-1) as Buffer);
  const download = buildDownloadCommands({
    isdpAid,
    keys: keySet.keys,
    kvn: keySet.kvn,
    package: personaliseProfile(buildDefaultTemplate(), { ...profile, ki: Buffer.alloc(16, 7), opc: Buffer.alloc(16, 9) }),
  });
  const afterInit = (await send(download.initializeUpdate())).at(-1) as Buffer;
  const afterAuth = (await send(download.externalAuthenticate(afterInit))).at(-1) as Buffer;
  download.result(await send(download.segments(afterAuth)));
  const done = await es3('ProfileDownloadCompleted', { eid, iccid: profile.iccid, profileType: 'demo', subscriptionAddress: { imsi: profile.imsi } });
  expect(done.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
}

beforeAll(async () => {
  fleet = await Fleet.create({ size: 2, model: 'oven', pki, firstSerial: 80_000_000 + Math.floor(Math.random() * 1e6) * 10 });
  [eid, unseen] = fleet.eids() as [string, string];
  broker = await startTestBroker({ principals: PRINCIPALS, pki });
  registry = await startRegistryStandIn();
  beforeClaim = await registry.signed(registry.change(eid));
  dir = mkdtempSync(join(tmpdir(), 'rsp-smsr-owner-'));
  es5 = new LocalEs5Channel(fleet.pool, defaultIsdRKeySet, { defaultTimeoutMs: 10_000 });
  smsr = await startSmSr({
    smsrId: SMSR_ID,
    httpPort: 0,
    mqttUrl: broker.url,
    mqttCredentials: broker.credentialsFor(SMSR_ID),
    databaseUrl: `sqlite://${join(dir, 'smsr.db')}`,
    ciCertificate: pki.ci.der,
    eums: [{ eumId: EUM_ID, certificate: pki.eum.der }],
    mnos: [MNO, OTHER_MNO],
    secretBoxKeys: `k1:${randomBytes(32).toString('base64')}`,
    es5Channel: es5,
    outboxPollMs: 25,
    logger,
    ownerRegistry: { issuer: registry.issuer, jwks: registry.key.jwks, statusUrl: registry.url },
  });
  smdp = await startSmdpStub(broker, SMDP);
  for (const card of [eid, unseen]) {
    const eis = buildSignedEis(fleet.pool.snapshot(card), { eumId: EUM_ID, smsrId: SMSR_ID, eumPrivateKey: pki.eum.privateKey });
    expect((await smsr.service.call('ES1', 'RegisterEIS', { header: header(EUM_ID), eis })).header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
  }
  await publishStatus({ owned: true, consentEpoch: 1 }); // owned, Active: ES3 downloads are not consent-checked (the SM-DP did on ES2)
  await downloadProfile();
});

afterAll(async () => {
  await smsr?.close(); // first: its outbox may still be notifying the SM-DP stub
  await smdp?.close();
  await es5?.close();
  await broker?.close();
  await fleet?.close();
  await registry?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('SM-SR owner checks (ownerRegistry configured)', () => {
  it('ES4 EnableProfile on an owned device: no consent → 8.1.1 / 1.2; with one → enabled (same call id: not stored)', async () => {
    const callId = `enable-${randomUUID()}`;
    expect(await es4('enableProfile', { callId })).toEqual({
      status: 'Failed',
      statusCodeData: { subjectCode: '8.1.1', reasonCode: '1.2', subjectIdentifier: eid, message: 'Owner consent required' },
    });
    expect(fleet.device(eid)?.identity()?.iccid).not.toBe(profile.iccid);
    expect(await es4('enableProfile', { callId, consent: await consent(['EnableProfile']) })).toEqual({ status: 'Executed-Success' });
    expect(fleet.device(eid)?.identity()?.iccid).toBe(profile.iccid);
  });

  it('ES4 consent for another operation or another MNO → 8.1.1 / 6.1', async () => {
    expect(await es4('disableProfile', { consent: await consent(['EnableProfile']) })).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '6.1' } });
    expect(await es4('disableProfile', { consent: await consent(['DisableProfile']), mno: OTHER_MNO })).toMatchObject({ statusCodeData: { subjectCode: '8.1.1', reasonCode: '6.1' } });
    expect(await es4('disableProfile', { consent: await consent(['DisableProfile']) })).toEqual({ status: 'Executed-Success' });
    expect(fleet.device(eid)?.identity()?.iccid).not.toBe(profile.iccid);
  });

  it('Suspended: ES3 EnableProfile / CreateISDP / SendData and ES4 EnableProfile → 8.1 / 3.8; ES3 DeleteISDP still runs', async () => {
    await publishStatus({ status: 'Suspended' });
    const suspended = { status: 'Failed', statusCodeData: { subjectCode: '8.1', reasonCode: '3.8', subjectIdentifier: eid } };
    const aids = fleet.pool.snapshot(eid).isdps.map((isdp) => isdp.aid);
    expect((await es3('EnableProfile', { eid, iccid: profile.iccid })).header.functionExecutionStatus).toMatchObject(suspended);
    expect((await es3('CreateISDP', { eid, iccid: generateIccid('8900012', 7374), mnoId: MNO.mnoId, requiredMemory: 1000 })).header.functionExecutionStatus).toMatchObject(suspended);
    expect((await es3('SendData', { eid, sdAid: isdpAid, data: encodeCommandScript({ commands: [] }).toString('hex') })).header.functionExecutionStatus).toMatchObject(suspended);
    expect(await es4('enableProfile', { consent: await consent(['EnableProfile']) })).toMatchObject(suspended);
    expect(fleet.pool.snapshot(eid).isdps.map((isdp) => isdp.aid)).toEqual(aids);
    expect((await es3('GetEIS', { eid })).header.functionExecutionStatus).toEqual({ status: 'Executed-Success' }); // reads stay allowed

    expect((await es3('DeleteISDP', { eid, iccid: profile.iccid })).header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    expect(fleet.pool.snapshot(eid).isdps.map((isdp) => isdp.aid)).not.toContain(isdpAid);
  });
});

describe('SM-SR: the attacker’s statuses change nothing', () => {
  it('unsigned, foreign-key, foreign-EID, replayed and empty messages on the card’s topic: ES4 Enable still needs the consent (8.1.1 / 1.2)', async () => {
    await publishStatus({ status: 'Active' });
    const held = smsr.deviceStatuses?.get(eid);
    const lie = { ...(held as NonNullable<typeof held>), owned: false, version: 999, updatedAt: '2099-01-01T00:00:00.000Z' };
    for (const payload of [
      JSON.stringify(lie),
      await registry.signed(lie, await registryKey(registry.key.kid)),
      await registry.signed({ ...lie, eid: unseen }),
      beforeClaim,
      Buffer.alloc(0),
    ]) {
      await publishRetained(eid, payload);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smsr.deviceStatuses?.get(eid)).toEqual(held);
    expect(await es4('enableProfile')).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '1.2' } });
    expect(logLines.filter((line) => line.startsWith(`device status for ${eid} ignored:`)).map((line) => line.split(': ')[1])).toEqual(
      expect.arrayContaining(['ERR_DEVICE_STATUS_UNSIGNED', 'ERR_DEVICE_STATUS_SIGNATURE_INVALID', 'ERR_DEVICE_STATUS_EID_MISMATCH', 'ERR_DEVICE_STATUS_STALE', 'ERR_DEVICE_STATUS_EMPTY']),
    );
  });
});

describe('SM-SR: fail closed', () => {
  it('no verified status and the registry unreachable: ES3 / ES4 profile functions 8.1.1 / 3.7, GetEIS / AuditEIS allowed; once it answers the policy applies', async () => {
    registry.change(unseen, { owned: true, consentEpoch: 1 }); // known to the registry, never published
    registry.down = true;
    const unavailable = { status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '3.7', subjectIdentifier: unseen } };
    const aids = fleet.pool.snapshot(unseen).isdps.map((isdp) => isdp.aid);
    expect(await es4('enableProfile', { eid: unseen, consent: await consent(['EnableProfile'], MNO.mnoId, unseen) })).toMatchObject(unavailable);
    expect((await es3('CreateISDP', { eid: unseen, iccid: generateIccid('8900012', 7375), mnoId: MNO.mnoId, requiredMemory: 1000 })).header.functionExecutionStatus).toMatchObject(unavailable);
    expect(fleet.pool.snapshot(unseen).isdps.map((isdp) => isdp.aid)).toEqual(aids);
    expect((await es3('GetEIS', { eid: unseen })).header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    expect(await es4('getEIS', { eid: unseen })).toEqual({ status: 'Executed-Success' });

    registry.down = false;
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the cache's pause after a failed request
    expect(await es4('enableProfile', { eid: unseen })).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '1.2' } });
    expect(smsr.deviceStatuses?.get(unseen)).toMatchObject({ owned: true, version: 1 });
  });
});
