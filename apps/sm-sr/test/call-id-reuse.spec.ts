/**
 * SGP.02 §5.1 functionCallIdentifier on the SM-SR (ES1, ES3, ES4 share the frame): a reused identifier
 * with a different request is refused Failed 1.6 / 3.3 and nothing runs (card and registry unchanged);
 * the identical repeat still gets the identical stored answer. The attacker's move: replay the
 * identifier of an answered GetEIS on a DisableProfile, hoping for its stored Executed-Success.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { generateIccid } from '@rsp/pki';
import { EUM_ID, MNO, OTHER_MNO, post, startTestBed, type TestBed } from './support';

const SMDP = 'smdp.one';
const REUSED = {
  status: 'Failed',
  statusCodeData: { subjectCode: '1.6', reasonCode: '3.3', subjectIdentifier: 'header.functionCallIdentifier', message: 'functionCallIdentifier already used for another request' },
};
const head = (requester: string, callId: string, validityPeriod?: number) => ({
  functionRequesterIdentifier: requester,
  functionCallIdentifier: callId,
  ...(validityPeriod !== undefined ? { validityPeriod } : {}),
});

let bed: TestBed;
let eids: string[];
beforeAll(async () => {
  bed = await startTestBed({ size: 4 });
  eids = [...bed.fleet.eids()];
});
afterAll(async () => bed?.close());

describe('ES4 (HTTP): one functionCallIdentifier, one request', () => {
  const url = (fn: string) => `${bed.smsr.httpUrl}/gsma/es4/${fn}`;
  let eid: string;
  let iccid: string;

  beforeAll(async () => {
    eid = eids[0] as string;
    // The MNO owns the card's enabled (bootstrap) profile, so its ES4 calls on it are allowed.
    const eis = bed.eisOf(eid, { bootstrapOwner: { mnoId: MNO.mnoId, smdpId: SMDP } });
    const registered = await bed.smsr.service.call('ES1', 'RegisterEIS', { header: head(EUM_ID, randomUUID()), eis });
    expect(registered.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    iccid = (await bed.smsr.registry.find(eid))?.profiles[0]?.iccid as string;
  });

  it('a DisableProfile / UpdatePolicyRules reusing an answered GetEIS identifier is refused 1.6 / 3.3 and not executed', async () => {
    const callId = `es4-${randomUUID()}`;
    const first = await post(url('getEIS'), { header: head(MNO.mnoId, callId), eid }, MNO.apiKey);
    expect(first.body.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    const registryBefore = await bed.smsr.registry.find(eid);
    const cardBefore = bed.fleet.device(eid)?.identity();

    const disable = await post(url('disableProfile'), { header: head(MNO.mnoId, callId), eid, iccid }, MNO.apiKey);
    expect(disable.status).toBe(200);
    expect(disable.body).toEqual({ header: { functionExecutionStatus: REUSED } }); // no EIS of the first answer either
    const rules = [{ subject: 'PROFILE', action: 'DISABLE', qualification: 'Not-Allowed' }];
    const policy = await post(url('updatePolicyRules'), { header: head(MNO.mnoId, callId), eid, iccid, pol2: rules }, MNO.apiKey);
    expect(policy.body.header.functionExecutionStatus).toEqual(REUSED);

    expect(bed.fleet.device(eid)?.identity()).toEqual(cardBefore);
    expect(await bed.smsr.registry.find(eid)).toEqual(registryBefore);

    // The identical repeat replays the identical body.
    const again = await post(url('getEIS'), { header: head(MNO.mnoId, callId), eid }, MNO.apiKey);
    expect(again.body).toEqual(first.body);
    // The refused request was valid: under its own identifier it runs.
    const fresh = await post(url('updatePolicyRules'), { header: head(MNO.mnoId, `es4-${randomUUID()}`), eid, iccid, pol2: rules }, MNO.apiKey);
    expect(fresh.body.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    expect((await bed.smsr.registry.find(eid))?.profiles[0]?.pol2).toEqual(rules);
  });

  it('the header counts too (another validityPeriod is another request, as on ES2); identifiers are per requester', async () => {
    const callId = `es4-${randomUUID()}`;
    const first = await post(url('auditEIS'), { header: head(MNO.mnoId, callId, 60), eid }, MNO.apiKey);
    expect(first.body.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    const longer = await post(url('auditEIS'), { header: head(MNO.mnoId, callId, 120), eid }, MNO.apiKey);
    expect(longer.body.header.functionExecutionStatus).toEqual(REUSED);
    // Another MNO's identifier space is its own: the same value is a new call there, not a conflict.
    const theirs = await post(url('getEIS'), { header: head(OTHER_MNO.mnoId, callId), eid }, OTHER_MNO.apiKey);
    expect(theirs.body.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
  });
});

describe('ES1 (HTTP): one functionCallIdentifier, one request', () => {
  it('a second card registered under the first registration\'s identifier is refused 1.6 / 3.3 and not registered', async () => {
    const url = `${bed.smsr.httpUrl}/gsma/es1/registerEIS`;
    const [, first, second] = eids as [string, string, string];
    const callId = `es1-${randomUUID()}`;
    const request = { header: head(EUM_ID, callId), eis: bed.eisOf(first) };
    const registered = await post(url, request);
    expect(registered.body.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });

    const reused = await post(url, { header: head(EUM_ID, callId), eis: bed.eisOf(second) });
    expect(reused.body).toEqual({ header: { functionExecutionStatus: REUSED } });
    expect(await bed.smsr.registry.find(second)).toBeUndefined();

    expect((await post(url, request)).body).toEqual(registered.body); // identical repeat: identical answer
    const fresh = await post(url, { header: head(EUM_ID, `es1-${randomUUID()}`), eis: bed.eisOf(second) });
    expect(fresh.body.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
  });
});

describe('ES3: one functionCallIdentifier, one request', () => {
  it('a CreateISDP for another ICCID under a used identifier is refused 1.6 / 3.3; no second ISD-P on the card', async () => {
    const eid = eids[3] as string;
    const registered = await bed.smsr.service.call('ES1', 'RegisterEIS', { header: head(EUM_ID, randomUUID()), eis: bed.eisOf(eid) });
    expect(registered.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    const callId = `es3-${randomUUID()}`;
    const create = (iccid: string) => bed.smsr.service.call('ES3', 'CreateISDP', { header: head(SMDP, callId), eid, iccid, mnoId: MNO.mnoId, requiredMemory: 1000 });
    const iccidA = generateIccid('8900012', 7101);
    const iccidB = generateIccid('8900012', 7102);
    const created = await create(iccidA);
    expect(created.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    const isdpsBefore = bed.fleet.pool.snapshot(eid).isdps.map((isdp) => isdp.aid);

    const reused = await create(iccidB);
    expect(reused).toEqual({ header: { functionExecutionStatus: REUSED } });
    expect(bed.fleet.pool.snapshot(eid).isdps.map((isdp) => isdp.aid)).toEqual(isdpsBefore);
    expect((await bed.smsr.registry.find(eid))?.profiles.map((profile) => profile.iccid)).not.toContain(iccidB);
    expect(await create(iccidA)).toEqual(created);
  });
});
