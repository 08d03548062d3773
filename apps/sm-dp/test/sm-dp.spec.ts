/**
 * The SM-DP end to end against real virtual eUICCs: ES2 over HTTP → download flow → ES3 (a fake SM-SR
 * running every script in a real ES5 SCP03 session on the simulator's cards) → ES8 on the card.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { USIM_AID_PREFIX } from '@rsp/card';
import { buildAutn, milenage } from '@rsp/crypto';
import { connectMqtt, RspRequester } from '@rsp/mqtt-transport';
import { es3CallbackPattern, mnoNotifyTopic } from '@rsp/contracts';
import type { TestBroker } from '../../../test/support/brokers';
import { generateIccid, generateTestPki, type TestPki } from '@rsp/pki';
import { decodeResponseApdu, encodeCommandApdu } from '@rsp/tlv';
import { startSmDp, type SmDpHandle, type SubscriberRecord } from '../src/app';
import { SMDP_DOWNLOADS } from '../src/adapters/sm-dp.module';
import type { DownloadService } from '../src/domain/download-service';
import { Fleet } from '../../../simulator/src/fleet';
import { FakeSmSr } from './fake-sm-sr';
import { KEY_A, KEY_B, SMSR_ID, eventually, header, logLines, post, smDpOptions, startBroker, startWebhook, type Json, type Webhook } from './support';

let pki: TestPki;
let fleet: Fleet;
let broker: TestBroker;
let fake: FakeSmSr;
let smdp: SmDpHandle;
let webhook: Webhook;
let dir: string;
let records: SubscriberRecord[];
let eids: readonly string[];

beforeAll(async () => {
  pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  fleet = await Fleet.create({ size: 7, model: 'oven', pki });
  eids = fleet.eids();
  broker = await startBroker(pki);
  fake = new FakeSmSr(fleet, pki, SMSR_ID);
  webhook = await startWebhook();
  dir = mkdtempSync(join(tmpdir(), 'rsp-smdp-'));
  smdp = await startSmDp(
    smDpOptions(pki, fake, broker, {
      databaseUrl: `sqlite://${join(dir, 'smdp.db')}`,
      mnos: [
        { mnoId: 'mno.a', apiKey: KEY_A, webhookUrl: webhook.url },
        { mnoId: 'mno.b', apiKey: KEY_B },
      ],
    }),
  );
  expect((await post(smdp, '/mno/profileTypes', { name: 'm2m' }, KEY_A)).body.header.functionExecutionStatus.status).toBe('Executed-Success');
  const generated = await post(smdp, '/mno/subscriptions', { profileType: 'm2m', generate: 8 }, KEY_A);
  records = generated.body.subscriptions as SubscriberRecord[];
  expect(records).toHaveLength(8);
});

afterAll(async () => {
  await smdp?.close();
  await webhook?.close();
  await fleet?.close();
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

const download = (eid: string, extra: Json = {}, key = KEY_A, requester = 'mno.a') =>
  post(smdp, '/gsma/es2/downloadProfile', { header: header(requester), eid, smsrId: SMSR_ID, profileType: 'm2m', enableProfile: true, ...extra }, key);

const statusOf = (body: Json) => body.header.functionExecutionStatus;

describe('ES2 DownloadProfile', () => {
  let downloaded: string;

  it('downloads and enables a profile; the network authenticates the card with the inventory Ki/OPc (Milenage)', async () => {
    const eid = eids[0] as string;
    const before = fake.cardAids(eid);
    const { status, body } = await download(eid);
    expect(status).toBe(200);
    expect(statusOf(body)).toEqual({ status: 'Executed-Success' });
    downloaded = body.iccid;
    const record = records.find((r) => r.iccid === downloaded) as SubscriberRecord;
    expect(record).toBeDefined();
    expect(fake.cardAids(eid)).toHaveLength(before.length + 1);
    expect(fleet.device(eid)?.identity()).toEqual({ eid, iccid: record.iccid, imsi: record.imsi });

    // Network side (TS 33.102 §6.3): RAND/AUTN from the HSS copy of Ki/OPc, AUTHENTICATE on the card's USIM.
    const k = Buffer.from(record.ki, 'hex');
    const opc = Buffer.from(record.opc, 'hex');
    const rand = randomBytes(16);
    const sqn = Buffer.from('000000000040', 'hex');
    const amf = Buffer.from('8000', 'hex');
    const autn = buildAutn({ k, opc, rand, sqn, amf });
    const select = decodeResponseApdu(fleet.transmit(eid, encodeCommandApdu({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x04, data: Buffer.from(USIM_AID_PREFIX, 'hex'), le: 256 })));
    expect(select.sw === 0x9000 || select.sw >> 8 === 0x61).toBe(true);
    const data = Buffer.concat([Buffer.of(16), rand, Buffer.of(16), autn]);
    const auth = decodeResponseApdu(fleet.transmit(eid, encodeCommandApdu({ cla: 0x00, ins: 0x88, p1: 0x00, p2: 0x81, data, le: 256 })));
    expect(auth.sw).toBe(0x9000);
    expect(auth.data[0]).toBe(0xdb);
    const res = auth.data.subarray(2, 2 + (auth.data[1] ?? 0));
    expect(res.equals(milenage({ k, opc, rand, sqn, amf }).res)).toBe(true);

    const listed = await fetch(`${smdp.httpUrl}/mno/subscriptions?state=installed`, { headers: { 'x-api-key': KEY_A } });
    expect(((await listed.json()) as Json).subscriptions).toEqual([expect.objectContaining({ iccid: record.iccid, eid, state: 'installed' })]);
    // A filter it does not know is refused by name, not ignored (listing everything would mislead).
    const misspelt = (await (await fetch(`${smdp.httpUrl}/mno/subscriptions?state=instaled`, { headers: { 'x-api-key': KEY_A } })).json()) as Json;
    expect(misspelt.header.functionExecutionStatus).toEqual({ status: 'Failed', statusCodeData: expect.objectContaining({ subjectCode: '1.6', reasonCode: '2.1', subjectIdentifier: 'state' }) });
    expect(misspelt.subscriptions).toBeUndefined();
    // Secrets never reach the logs.
    for (const r of records) expect(logLines.join('\n')).not.toContain(r.ki);
  });

  it('tells the MNO of the enable once: the SM-SR\'s ES3 notification, forwarded on ES2 by webhook and on MQTT', async () => {
    const subscriber = await connectMqtt({ url: broker.url, credentials: broker.credentialsFor('mno.a') }); // the MNO's tool
    const onMqtt: Json[] = [];
    subscriber.on('message', (_topic, payload) => onMqtt.push(JSON.parse(payload.toString())));
    await subscriber.subscribeAsync(mnoNotifyTopic('mno.a', 'es2'), { qos: 1 });
    const enabledOf = (entries: Json[]) => entries.filter((n) => n.function === 'HandleProfileEnabledNotification' && n.body?.iccid === downloaded);
    try {
      // The download with enable sent nothing of its own: the enable is the SM-SR's to report (SGP.02 §3.2).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(enabledOf(webhook.received)).toEqual([]);

      // The SM-SR's callbacks over MQTT, under its own broker identity, are forwarded to the owning MNO on both channels.
      const smsrClient = await connectMqtt({ url: broker.url, credentials: broker.credentialsFor(SMSR_ID) });
      const requester = new RspRequester({ client: smsrClient, caller: SMSR_ID });
      try {
        const body = { header: header('smsr.test'), eid: eids[0], iccid: downloaded, completionTimestamp: new Date().toISOString() };
        const enabled = (await requester.request(es3CallbackPattern('smdp.test', 'HandleProfileEnabledNotification'), body)) as Json;
        expect(enabled.header.functionExecutionStatus.status).toBe('Executed-Success');
        await eventually(() => enabledOf(webhook.received).length > 0 && enabledOf(onMqtt).length > 0);
        expect(enabledOf(webhook.received)).toEqual([expect.objectContaining({ interface: 'ES2', body: expect.objectContaining({ eid: eids[0], iccid: downloaded, header: expect.objectContaining({ functionRequesterIdentifier: 'smdp.test' }) }) })]);
        const reply = (await requester.request(es3CallbackPattern('smdp.test', 'HandleProfileDisabledNotification'), body)) as Json;
        expect(reply.header.functionExecutionStatus.status).toBe('Executed-Success');
        const unknown = (await requester.request(es3CallbackPattern('smdp.test', 'HandleProfileDisabledNotification'), { ...body, iccid: generateIccid('8988299', 1) })) as Json;
        expect(unknown.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.2.1', reasonCode: '3.9' } });
      } finally {
        await requester.close();
        await smsrClient.endAsync();
      }
      await eventually(() => webhook.received.some((n) => n.function === 'HandleProfileDisabledNotification'));
      await eventually(() => onMqtt.some((n) => n.function === 'HandleProfileDisabledNotification'));
      expect(onMqtt.find((n) => n.function === 'HandleProfileDisabledNotification')).toMatchObject({ interface: 'ES2', body: { iccid: downloaded } });
      expect(enabledOf(webhook.received)).toHaveLength(1);
    } finally {
      await subscriber.endAsync();
    }
  });

  it('answers a repeated functionCallIdentifier from the first outcome, without a second download', async () => {
    const body = { header: header('mno.a'), eid: eids[3], smsrId: SMSR_ID, profileType: 'm2m', enableProfile: false };
    const first = await post(smdp, '/gsma/es2/downloadProfile', body, KEY_A);
    expect(statusOf(first.body).status).toBe('Executed-Success');
    const creates = fake.count('CreateISDP');
    const again = await post(smdp, '/gsma/es2/downloadProfile', body, KEY_A);
    expect(again.body).toEqual(first.body);
    expect(fake.count('CreateISDP')).toBe(creates);
    // Same identifier, another request: refused (1.6 / 3.3), still no download.
    const other = await post(smdp, '/gsma/es2/downloadProfile', { ...body, enableProfile: true }, KEY_A);
    expect(statusOf(other.body)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.6', reasonCode: '3.3', subjectIdentifier: 'header.functionCallIdentifier' } });
    expect(fake.count('CreateISDP')).toBe(creates);
  });

  it('ends Expired when the validityPeriod elapses, deleting the ISD-P it created and releasing the profile', async () => {
    const eid = eids[1] as string;
    const before = fake.cardAids(eid);
    fake.replyDelays.CreateISDP = 1500; // the card got its ISD-P, the reply comes too late
    try {
      const { body } = await post(smdp, '/gsma/es2/downloadProfile', { header: header('mno.a', 1), eid, smsrId: SMSR_ID, profileType: 'm2m', enableProfile: true }, KEY_A);
      expect(statusOf(body)).toMatchObject({ status: 'Expired', statusCodeData: { subjectCode: '1.6', reasonCode: '5.3' } });
      expect(fake.cardAids(eid)).toEqual(before);
      expect(fake.count('DeleteISDP')).toBeGreaterThan(0);
      const reserved = await smdp.inventory.listSubscriptions('mno.a', { state: 'reserved' });
      expect(reserved).toEqual([]);
      expect((await smdp.inventory.findSubscription(body.iccid))?.state).toBe('available');
    } finally {
      delete fake.replyDelays.CreateISDP;
    }
  });

  it('fails on a tampered SCP03t segment and leaves no ISD-P on the card', async () => {
    const eid = eids[1] as string;
    const before = fake.cardAids(eid);
    fake.tamperNextSegment = true;
    const deletes = fake.count('DeleteISDP');
    const { body } = await download(eid);
    // The card's SCP03t MAC check refuses the segment: 8.1 / 6.1 (ERR_CRYPTO_MAC_MISMATCH), ISD-P deleted.
    expect(statusOf(body)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1', reasonCode: '6.1' } });
    expect(fake.count('DeleteISDP')).toBe(deletes + 1);
    expect(fake.tamperNextSegment).toBe(false); // the tamper did happen
    expect(fake.cardAids(eid)).toEqual(before);
    expect((await smdp.inventory.findSubscription(body.iccid))?.state).toBe('available');
  });

  it('runs a compensation again when its DeleteISDP failed: the ISD-P goes and the ICCID comes back once the SM-SR answers', async () => {
    const eid = eids[1] as string;
    const before = fake.cardAids(eid);
    const deletes = fake.count('DeleteISDP');
    fake.tamperNextSegment = true;
    fake.failNext.DeleteISDP = 2; // the compensation, then its first retry, find the SM-SR unreachable
    const { body } = await download(eid);
    expect(statusOf(body)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1', reasonCode: '6.1' } });
    // Answered at once: the ISD-P is still on the card, so the ICCID stays reserved until a retry deletes it.
    expect((await smdp.inventory.findSubscription(body.iccid))?.state).toBe('reserved');
    expect(fake.cardAids(eid)).toHaveLength(before.length + 1);
    expect(logLines.some((line) => line.includes(`ICCID ${body.iccid} stays reserved until a retry deletes the ISD-P`))).toBe(true);

    await eventually(async () => (await smdp.inventory.findSubscription(body.iccid))?.state === 'available', 15_000);
    expect(fake.cardAids(eid)).toEqual(before);
    expect(fake.count('DeleteISDP')).toBe(deletes + 3);
    // Each retry is an ES3 call of its own: a repeated call id would be answered from the first outcome.
    const callIds = fake.calls.filter((call) => call.fn === 'DeleteISDP').slice(-3).map((call) => (call.request as { header?: { functionCallIdentifier?: string } }).header?.functionCallIdentifier);
    expect(new Set(callIds).size).toBe(3);
    // The first retry failed: the outbox logs it once, with the ES3 code, and tries again later.
    expect(logLines.filter((line) => line.includes('ERR_SMDP_COMPENSATION_PENDING') && line.includes(`failed again (ERR_TRANSPORT_TIMEOUT, retry 1); ICCID ${body.iccid}`))).toHaveLength(1);
    const released = logLines.find((line) => line.includes(`compensated on retry 2, ICCID ${body.iccid} released`));
    expect(released).toBeDefined();

    // Another copy of the message (at least once) finds the flow compensated: nothing is sent again.
    const transactionId = /^download (\S+): compensated/.exec(released as string)?.[1] as string;
    await smdp.app.get<DownloadService>(SMDP_DOWNLOADS).retryCompensation(transactionId);
    expect(fake.count('DeleteISDP')).toBe(deletes + 3);
  });

  it('sends the SCP03t download as one SendData (scripting mode), and falls back to the interactive handshake when the ISD-P counts otherwise', async () => {
    const [scripted, fallback] = [eids[5] as string, eids[6] as string];
    let sendData = fake.count('SendData');
    expect(statusOf((await download(scripted)).body)).toEqual({ status: 'Executed-Success' });
    expect(fake.count('SendData') - sendData).toBe(3); // 2 key establishment + 1 download

    fake.staleNextScp03tCounter = true;
    sendData = fake.count('SendData');
    const { body } = await download(fallback);
    expect(statusOf(body)).toEqual({ status: 'Executed-Success' });
    expect(fake.staleNextScp03tCounter).toBe(false); // the counter did move
    expect(fake.count('SendData') - sendData).toBe(6); // + the stale script, then 84, 85 and the segments
    expect(fleet.device(fallback)?.identity().iccid).toBe(body.iccid);
  });

  it('refuses another MNO’s ICCID (8.2.1 / 1.2), for downloads and profile functions', async () => {
    const foreign = (await smdp.inventory.listSubscriptions('mno.a', { state: 'available' }))[0]?.iccid as string;
    const { body } = await post(
      smdp,
      '/gsma/es2/downloadProfile',
      { header: header('mno.b'), eid: eids[2], smsrId: SMSR_ID, iccid: foreign, enableProfile: false },
      KEY_B,
    );
    expect(statusOf(body)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.2.1', reasonCode: '1.2' } });
    const enable = await post(smdp, '/gsma/es2/enableProfile', { header: header('mno.b'), eid: eids[0], smsrId: SMSR_ID, iccid: downloaded }, KEY_B);
    expect(statusOf(enable.body)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.2.1', reasonCode: '1.2' } });
    expect((await smdp.inventory.findSubscription(foreign))?.state).toBe('available');
  });

  it('authenticates the MNO: no key → 401, wrong key → 1.1 / 1.1, another requester id → 1.1 / 1.2', async () => {
    const body = { header: header('mno.a'), eid: eids[2], smsrId: SMSR_ID, profileType: 'm2m', enableProfile: false };
    const none = await post(smdp, '/gsma/es2/downloadProfile', body);
    expect(none.status).toBe(401);
    expect(statusOf(none.body)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.1', reasonCode: '1.1' } });
    const wrong = await post(smdp, '/gsma/es2/downloadProfile', body, 'not-a-key');
    expect(wrong.status).toBe(200);
    expect(statusOf(wrong.body)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.1', reasonCode: '1.1' } });
    const impostor = await post(smdp, '/gsma/es2/downloadProfile', { ...body, header: header('mno.a') }, KEY_B);
    expect(statusOf(impostor.body)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.1', reasonCode: '1.2' } });
    const invalid = await post(smdp, '/gsma/es2/downloadProfile', { header: header('mno.a'), smsrId: SMSR_ID, profileType: 'm2m', enableProfile: false }, KEY_A);
    expect(statusOf(invalid.body)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.6', reasonCode: '2.2', subjectIdentifier: 'eid' } });
    const unknownFunction = await post(smdp, '/gsma/es2/doSomething', body, KEY_A);
    expect(statusOf(unknownFunction.body)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.6', reasonCode: '3.1' } });
    expect(JSON.stringify([none.body, wrong.body, impostor.body, invalid.body])).not.toMatch(/at .*\.ts|stack/i);
  });

  it('fails when the card refuses an SM-DP certificate from a foreign CI, and cleans up the ISD-P', async () => {
    const foreign = generateTestPki({ curve: 'P-256', euiccCount: 0 });
    const other = await startSmDp(
      smDpOptions(pki, fake, broker, {
        smdpId: 'smdp.foreign',
        databaseUrl: 'sqlite::memory:',
        smdpCertificate: foreign.smDp.cert,
        smdpPrivateKey: foreign.smDp.privateKey,
      }),
    );
    try {
      await other.inventory.putProfileType('mno.a', { name: 'm2m' });
      await other.inventory.generateSubscriptions('mno.a', 'm2m', 1);
      const eid = eids[2] as string;
      const before = fake.cardAids(eid);
      const { body } = await post(other, '/gsma/es2/downloadProfile', { header: header('mno.a'), eid, smsrId: SMSR_ID, profileType: 'm2m', enableProfile: true }, KEY_A);
      expect(statusOf(body)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1', reasonCode: '6.1' } });
      expect(fake.cardAids(eid)).toEqual(before);
    } finally {
      await other.close();
    }
  });

  it('forwards DeleteProfile to ES3 DeleteISDP on the MNO’s own profile', async () => {
    const eid = eids[3] as string;
    const installed = (await smdp.inventory.listSubscriptions('mno.a', { state: 'installed' })).find((s) => s.eid === eid);
    expect(installed).toBeDefined();
    const before = fake.cardAids(eid);
    const { body } = await post(smdp, '/gsma/es2/deleteProfile', { header: header('mno.a'), eid, smsrId: SMSR_ID, iccid: installed?.iccid }, KEY_A);
    expect(statusOf(body)).toEqual({ status: 'Executed-Success' });
    expect(fake.cardAids(eid)).toHaveLength(before.length - 1);
    expect((await smdp.inventory.findSubscription(installed?.iccid as string))?.state).toBe('deleted');
  });

  it('serves its OpenAPI description at /docs-json', async () => {
    const response = await fetch(`${smdp.httpUrl}/docs-json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Json;
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/gsma/es2/{functionName}', '/mno/subscriptions']));
  });
});

describe('profile types with POL1 (it lives in the profile: SAIP ProfileHeader pol)', () => {
  const list = async (key = KEY_A): Promise<Json[]> => {
    const response = await fetch(`${smdp.httpUrl}/mno/profileTypes`, { headers: { 'x-api-key': key } });
    return ((await response.json()) as Json).profileTypes as Json[];
  };

  it('writes POL1 into the type\'s template, lists it, and every package of the type carries it', async () => {
    const pol1 = [{ subject: 'PROFILE', action: 'DELETE', qualification: 'Not-Allowed' }];
    expect(statusOf((await post(smdp, '/mno/profileTypes', { name: 'm2m-kept', pol1 }, KEY_A)).body).status).toBe('Executed-Success');
    expect((await list()).find((type) => type.name === 'm2m-kept')).toMatchObject({ pol1, pol2: [] });
    expect((await list()).find((type) => type.name === 'm2m')).toMatchObject({ pol1: [] });
  });

  it('refuses a rule POL1 cannot carry, naming it, and keeps the type as it was', async () => {
    const answer = await post(smdp, '/mno/profileTypes', { name: 'm2m-kept', pol1: [{ subject: 'PROFILE', action: 'ENABLE', qualification: 'Not-Allowed' }] }, KEY_A);
    expect(statusOf(answer.body)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.6', reasonCode: '2.1' } });
    expect(statusOf(answer.body).statusCodeData.subjectIdentifier).toBe('pol1[0]');
    expect((await list()).find((type) => type.name === 'm2m-kept')?.pol1).toEqual([{ subject: 'PROFILE', action: 'DELETE', qualification: 'Not-Allowed' }]);
  });
});
