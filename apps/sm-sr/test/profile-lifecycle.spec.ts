/**
 * ES3 and ES4 against simulator cards (LocalEs5Channel, real SCP03): CreateISDP, a whole ES8 download
 * (Scenario#3 + SCP03t) routed through SendData, ProfileDownloadCompleted, enable / disable / delete with
 * ownership and POL2 refusals, the outbox notifications (SM-DP over MQTT, MNO webhook + MQTT), ES4 over
 * HTTP with API keys, validityPeriod → Expired, and card notification confirmation.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { buildDownloadCommands, buildEstablishKeySetStep1, buildEstablishKeySetStep2, decodeResponseScript, encodeCommandScript, parseEstablishKeySetStep1Response } from '@rsp/offcard';
import { es3Pattern, mnoNotifyTopic, type Eis } from '@rsp/contracts';
import { RspRequester } from '@rsp/mqtt-transport';
import { generateIccid } from '@rsp/pki';
import { buildDefaultTemplate, personaliseProfile } from '@rsp/saip';
import { decodeResponseApdu, encodeCommandApdu, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import { connectAs, EUM_ID, header, MNO, OTHER_MNO, OTHER_SMDP_ID, pki, post, SMSR_ID, startSmdpStub, startTestBed, waitFor, type TestBed } from './support';

const SMDP = 'smdp.one';
let bed: TestBed;
let smdp: Awaited<ReturnType<typeof startSmdpStub>>;
let eid: string;
const mnoTopic: unknown[] = [];
let watcher: MqttClient | undefined;

beforeAll(async () => {
  bed = await startTestBed({ size: 2 });
  smdp = await startSmdpStub(bed.broker, SMDP);
  watcher = await connectAs(bed.broker, MNO.mnoId); // the MNO's own tool reads its notifications
  watcher.on('message', (_topic, payload) => mnoTopic.push(JSON.parse(payload.toString('utf8'))));
  await watcher.subscribeAsync(mnoNotifyTopic(MNO.mnoId, 'es4'), { qos: 1 });
  for (const card of bed.fleet.eids()) {
    const result = await bed.smsr.service.call('ES1', 'RegisterEIS', { header: header(EUM_ID), eis: bed.eisOf(card) });
    expect(result.header.functionExecutionStatus.status).toBe('Executed-Success');
  }
  eid = bed.fleet.eids()[0] as string;
});
afterAll(async () => {
  await watcher?.endAsync();
  await smdp?.close();
  await bed?.close();
});

const es3 = (fn: string, body: object, requester = SMDP, extra: { validityPeriod?: number; callId?: string } = {}) =>
  bed.smsr.service.call('ES3', fn, { header: header(requester, extra), ...body });
const statusOf = (result: { header: { functionExecutionStatus: unknown } }) => result.header.functionExecutionStatus;

/** SendData: one command script through the SM-SR's ES5 session; the R-APDUs back. */
async function sendData(sdAid: string, commands: CommandApdu[]): Promise<ResponseApdu[]> {
  const data = encodeCommandScript({ commands: commands.map((command) => encodeCommandApdu(command)) }).toString('hex');
  const result = await es3('SendData', { eid, sdAid, data });
  expect(statusOf(result)).toEqual({ status: 'Executed-Success' });
  return decodeResponseScript(Buffer.from(result.euiccResponseData as string, 'hex')).responses.map((r) => decodeResponseApdu(r));
}
const dataOf = (responses: ResponseApdu[]) => {
  for (const r of responses) expect(r.sw).toBe(0x9000);
  return responses.map((r) => r.data);
};

const profile = { iccid: generateIccid('8900012', 4242), imsi: '001010000004242' };
let isdpAid = '';

describe('ES3 download through the SM-SR', () => {
  it('CreateISDP allocates the next ISD-P AID on the card and records the profile Created; a repeat replays', async () => {
    const request = { eid, iccid: profile.iccid, mnoId: MNO.mnoId, requiredMemory: 20_000 };
    const callId = `create-${randomUUID()}`;
    const created = await es3('CreateISDP', request, SMDP, { callId });
    expect(statusOf(created)).toEqual({ status: 'Executed-Success' });
    isdpAid = created.isdpAid as string;
    expect(isdpAid).toBe('A0000005591010FFFFFFFF8900100200');
    expect(await es3('CreateISDP', request, SMDP, { callId })).toEqual(created);
    expect(bed.fleet.pool.snapshot(eid).isdps.map((isdp) => isdp.aid)).toContain(isdpAid);
    const record = await bed.smsr.registry.find(eid);
    expect(record?.profiles.find((p) => p.iccid === profile.iccid)).toMatchObject({ state: 'Created', smdpId: SMDP, mnoId: MNO.mnoId, allocatedMemory: 20_000 });
    const again = await es3('CreateISDP', request);
    expect(statusOf(again)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.2.1', reasonCode: '3.3' } });
  });

  it('SendData runs Scenario#3 and the SCP03t download end to end; another SM-DP cannot target the ISD-P', async () => {
    const foreign = await es3('SendData', { eid, sdAid: isdpAid, data: encodeCommandScript({ commands: [] }).toString('hex') }, 'smdp.other');
    expect(statusOf(foreign)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.4', reasonCode: '3.9' } });

    const step1 = dataOf(await sendData(isdpAid, buildEstablishKeySetStep1({ isdpAid, smdpCertificate: pki.smDp.cert })));
    const challenge = parseEstablishKeySetStep1Response(step1.at(-1) as Buffer);
    const step2 = buildEstablishKeySetStep2({ challenge, smdpPrivateKey: pki.smDp.privateKey, ecasdCertificate: bed.fleet.ecasdCertificate(eid) as Buffer, isdpAid });
    const keySet = step2.finish(dataOf(await sendData(isdpAid, step2.commands)).at(-1) as Buffer);
    const download = buildDownloadCommands({
      isdpAid,
      keys: keySet.keys,
      kvn: keySet.kvn,
      package: personaliseProfile(buildDefaultTemplate(), { ...profile, ki: Buffer.alloc(16, 7), opc: Buffer.alloc(16, 9) }),
    });
    const afterInit = dataOf(await sendData(isdpAid, download.initializeUpdate())).at(-1) as Buffer;
    const afterAuth = dataOf(await sendData(isdpAid, download.externalAuthenticate(afterInit))).at(-1) as Buffer;
    const result = download.result(dataOf(await sendData(isdpAid, download.segments(afterAuth))));
    expect(result?.peStatus.every((s) => s.status === 0)).toBe(true);

    const done = await es3('ProfileDownloadCompleted', { eid, iccid: profile.iccid, profileType: 'demo', subscriptionAddress: { imsi: profile.imsi } });
    expect(statusOf(done)).toEqual({ status: 'Executed-Success' });
    const eis = (await es3('GetEIS', { eid })).eis as Eis;
    expect(eis.profiles).toEqual([expect.objectContaining({ iccid: profile.iccid, state: 'Disabled', profileType: 'demo' })]); // only its own
  });
});

describe('profile life cycle: ownership, POL2, notifications', () => {
  it('EnableProfile: refused to another SM-DP (8.2.1 / 1.2); enabled for the owner, the bootstrap profile disabled; owners notified', async () => {
    const foreign = await es3('EnableProfile', { eid, iccid: profile.iccid }, 'smdp.other');
    expect(statusOf(foreign)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.2.1', reasonCode: '1.2' } });
    expect(statusOf(await es3('EnableProfile', { eid, iccid: profile.iccid }))).toEqual({ status: 'Executed-Success' });
    expect(bed.fleet.device(eid)?.identity()).toMatchObject({ iccid: profile.iccid, imsi: profile.imsi });
    const states = (await bed.smsr.registry.find(eid))?.profiles.map((p) => [p.smdpId, p.state]);
    expect(states).toEqual(expect.arrayContaining([['bootstrap', 'Disabled'], [SMDP, 'Enabled']]));

    await waitFor(() => smdp.received.length >= 1 && bed.webhook.received.length >= 1 && mnoTopic.length >= 1);
    expect(smdp.received[0]).toMatchObject({ pattern: 'smdp/smdp~one/es3/HandleProfileEnabledNotification', caller: SMSR_ID, data: { eid, iccid: profile.iccid } });
    const expected = { interface: 'ES4', function: 'HandleProfileEnabledNotification', body: { header: { functionRequesterIdentifier: SMSR_ID }, eid, iccid: profile.iccid } };
    expect(bed.webhook.received[0]).toMatchObject(expected);
    expect(mnoTopic[0]).toMatchObject(expected);
  });

  it('POL2 "disable not allowed" blocks DisableProfile (8.2.3); UpdatePolicyRules is the owner\'s only', async () => {
    const rules = [{ subject: 'PROFILE', action: 'DISABLE', qualification: 'Not-Allowed' }];
    const notOwner = await es3('UpdatePolicyRules', { eid, iccid: profile.iccid, pol2: rules }, 'smdp.other');
    expect(statusOf(notOwner)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.2.3', reasonCode: '2.1' } });
    expect(statusOf(await es3('UpdatePolicyRules', { eid, iccid: profile.iccid, pol2: rules }))).toEqual({ status: 'Executed-Success' });
    const blocked = await es3('DisableProfile', { eid, iccid: profile.iccid });
    expect(statusOf(blocked)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.2.3', reasonCode: '3.8', subjectIdentifier: profile.iccid } });
    expect(statusOf(await es3('UpdatePolicyRules', { eid, iccid: profile.iccid, pol2: [] }))).toEqual({ status: 'Executed-Success' });
  });

  it('ES4 over HTTP: API key required (401 without, 1.1 with a wrong one), requester must match, GetEIS filtered to the MNO', async () => {
    const url = (fn: string) => `${bed.smsr.httpUrl}/gsma/es4/${fn}`;
    const none = await post(url('getEIS'), { header: header(MNO.mnoId), eid });
    expect(none.status).toBe(401);
    expect(none.body.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.1', reasonCode: '1.1' } });
    const wrong = await post(url('getEIS'), { header: header(MNO.mnoId), eid }, 'not-the-key');
    expect(wrong.status).toBe(200);
    expect(wrong.body.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.1', reasonCode: '1.1' } });
    const spoofed = await post(url('getEIS'), { header: header(MNO.mnoId), eid }, OTHER_MNO.apiKey);
    expect(spoofed.body.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.1', reasonCode: '1.2' } });
    const ok = await post(url('getEIS'), { header: header(MNO.mnoId), eid }, MNO.apiKey);
    expect(ok.body.header.functionExecutionStatus.status).toBe('Executed-Success');
    expect((ok.body.eis as Eis).profiles.map((p) => p.iccid)).toEqual([profile.iccid]);
    const otherMno = await post(url('disableProfile'), { header: header(OTHER_MNO.mnoId), eid, iccid: profile.iccid }, OTHER_MNO.apiKey);
    expect(otherMno.body.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.2.1', reasonCode: '1.2' } });
    const unknownEid = await post(url('getEIS'), { header: header(MNO.mnoId), eid: bed.fleet.eids()[0]!.replace(/\d{10}$/, '0000000000').slice(0, 30) + '00' }, MNO.apiKey);
    expect(unknownEid.body.header.functionExecutionStatus.status).toBe('Failed');
    const audit = await post(url('auditEIS'), { header: header(MNO.mnoId), eid }, MNO.apiKey);
    expect(audit.body.header.functionExecutionStatus.status).toBe('Executed-Success');
    expect(audit.body.eis.lastAuditDate).toEqual(expect.any(String));
    expect(audit.body.eis.profiles).toEqual([expect.objectContaining({ iccid: profile.iccid, state: 'Enabled' })]);
  });

  it('ES4 DisableProfile (the card falls back to the bootstrap profile), then DeleteProfile; the MNO webhook hears both', async () => {
    const url = (fn: string) => `${bed.smsr.httpUrl}/gsma/es4/${fn}`;
    const before = bed.webhook.received.length;
    const enabledDelete = await post(url('deleteProfile'), { header: header(MNO.mnoId), eid, iccid: profile.iccid }, MNO.apiKey);
    expect(enabledDelete.body.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.2.1', reasonCode: '1.2' } });
    // The refusal says what to do next (issue 13: "no hint to disable it first"); the codes stay SGP.02's.
    expect(enabledDelete.body.header.functionExecutionStatus.statusCodeData.message).toMatch(/enabled.*first/i);
    const disabled = await post(url('disableProfile'), { header: header(MNO.mnoId), eid, iccid: profile.iccid }, MNO.apiKey);
    expect(disabled.body.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    expect(bed.fleet.device(eid)?.identity()?.iccid).not.toBe(profile.iccid);
    const deleted = await post(url('deleteProfile'), { header: header(MNO.mnoId), eid, iccid: profile.iccid }, MNO.apiKey);
    expect(deleted.body.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    expect(bed.fleet.pool.snapshot(eid).isdps.map((isdp) => isdp.aid)).not.toContain(isdpAid);
    const record = await bed.smsr.registry.find(eid);
    expect(record?.profiles).toEqual([expect.objectContaining({ smdpId: 'bootstrap', state: 'Enabled' })]);
    await waitFor(() => bed.webhook.received.length >= before + 2);
    expect(bed.webhook.received.slice(before).map((n) => (n as { function: string }).function)).toEqual([
      'HandleProfileDisabledNotification',
      'HandleProfileDeletedNotification',
    ]);
    await waitFor(() => smdp.received.length >= 3);
  });
});

describe('ES3 over MQTT, deadlines, card notifications', () => {
  it('answers ES3 service requests on smsr/{smsrId}/es3/{Function}; an unknown EID is 8.1.1 / 3.9', async () => {
    // The SM-DP's one broker connection (the stub's): its identity is the caller the SM-SR trusts.
    const requester = new RspRequester({ client: smdp.client, caller: SMDP, timeoutMs: 5000 });
    try {
      const reply = await requester.request<{ header: { functionExecutionStatus: unknown }; eis?: Eis }>(es3Pattern(SMSR_ID, 'GetEIS'), { header: header(SMDP), eid });
      expect(reply.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
      const unknown = await requester.request<{ header: { functionExecutionStatus: unknown } }>(es3Pattern(SMSR_ID, 'GetEIS'), {
        header: header(SMDP),
        eid: '89049032123451234512345678901235',
      });
      expect(unknown.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '3.9' } });
    } finally {
      await requester.close();
    }
  });

  it('an ES3 request from another SM-DP identity naming this SM-DP in its header is refused 1.1 / 1.2, the card untouched', async () => {
    const other = await connectAs(bed.broker, OTHER_SMDP_ID);
    const requester = new RspRequester({ client: other, caller: OTHER_SMDP_ID, timeoutMs: 5000 });
    try {
      const before = bed.fleet.pool.snapshot(eid);
      const reply = await requester.request<{ header: { functionExecutionStatus: unknown } }>(es3Pattern(SMSR_ID, 'DisableProfile'), { header: header(SMDP), eid, iccid: profile.iccid });
      expect(reply.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.1', reasonCode: '1.2' } });
      expect(bed.fleet.pool.snapshot(eid)).toEqual(before);
    } finally {
      await requester.close();
      await other.endAsync();
    }
  });

  it('an unreachable card past the validityPeriod ends Expired (1.6 / 5.3)', async () => {
    const other = bed.fleet.eids()[1] as string;
    const create = await es3('CreateISDP', { eid: other, iccid: generateIccid('8900012', 5151), mnoId: MNO.mnoId, requiredMemory: 1000 });
    expect(statusOf(create)).toEqual({ status: 'Executed-Success' });
    bed.es5.carrier.offline.add(other);
    try {
      const result = await es3('DeleteISDP', { eid: other, iccid: generateIccid('8900012', 5151) }, SMDP, { validityPeriod: 1 });
      expect(statusOf(result)).toMatchObject({ status: 'Expired', statusCodeData: { subjectCode: '1.6', reasonCode: '5.3' } });
    } finally {
      bed.es5.carrier.offline.delete(other);
    }
    expect(statusOf(await es3('DeleteISDP', { eid: other, iccid: generateIccid('8900012', 5151) }))).toEqual({ status: 'Executed-Success' });
  });

  it('confirms card notifications over ES5 (seq as idempotency key)', async () => {
    const pending = bed.fleet.pool.pendingNotifications(eid);
    expect(pending.length).toBeGreaterThan(0);
    const first = pending[0]!;
    const envelope = { eid, seq: first.seq, tlv: first.tlv };
    expect(await bed.smsr.service.cardNotifications.handle(envelope)).toBe('confirmed');
    expect(await bed.smsr.service.cardNotifications.handle(envelope)).toBe('already-confirmed');
    expect(bed.fleet.pool.pendingNotifications(eid).map((n) => n.seq)).not.toContain(first.seq);
  });
});
