/**
 * ES1 RegisterEIS over HTTP: the EUM's signed EIS of a simulator card is accepted once; a broken
 * signature, a foreign EID, an unknown EUM and a duplicate are refused with their SGP.02 codes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { signEis, verifyEisSignature } from '@rsp/contracts';
import { generateEid } from '@rsp/pki';
import { EUM_ID, header, pki, post, startTestBed, type TestBed } from './support';

let bed: TestBed;
let url: string;
beforeAll(async () => {
  bed = await startTestBed({ size: 3 });
  url = `${bed.smsr.httpUrl}/gsma/es1/registerEIS`;
});
afterAll(async () => bed?.close());

const eids = () => bed.fleet.eids();

describe('ES1 RegisterEIS', () => {
  it('registers a signed EIS; GetEIS returns it with the EUM signature still valid; the ISD-R keys are sealed', async () => {
    const eid = eids()[0] as string;
    const eis = bed.eisOf(eid);
    const { status, body } = await post(url, { header: header(EUM_ID), eis });
    expect(status).toBe(200);
    expect(body).toEqual({ header: { functionExecutionStatus: { status: 'Executed-Success' } } });

    const record = await bed.smsr.registry.find(eid);
    expect(record?.profiles).toEqual([expect.objectContaining({ state: 'Enabled', fallback: true, smdpId: 'bootstrap' })]);
    const keys = await bed.smsr.registry.isdRKeys(eid);
    expect(keys?.kvn).toBe(0x30);
    const [row] = (await bed.smsr.dataSource.query('SELECT "isd_r_keys_sealed" AS sealed FROM "smsr_euicc" WHERE "eid" = ?', [eid])) as Array<{ sealed: string }>;
    expect(row?.sealed.startsWith('sb1.k1.')).toBe(true);
    expect(row?.sealed).not.toContain(keys?.enc.toString('hex'));

    const got = await bed.smsr.service.call('ES3', 'GetEIS', { header: header('bootstrap'), eid });
    expect(got.header.functionExecutionStatus.status).toBe('Executed-Success');
    const returned = got.eis as typeof eis;
    expect(verifyEisSignature(returned, pki.eum.publicKey)).toBe(true);
    expect(returned.profiles).toHaveLength(1);
  });

  it('replays a repeated functionCallIdentifier, refuses a second registration of the EID (8.1.1 / 3.3)', async () => {
    const eid = eids()[1] as string;
    const request = { header: header(EUM_ID), eis: bed.eisOf(eid) };
    expect((await post(url, request)).body.header.functionExecutionStatus.status).toBe('Executed-Success');
    expect((await post(url, request)).body.header.functionExecutionStatus.status).toBe('Executed-Success'); // same call id: replay
    const again = await post(url, { ...request, header: header(EUM_ID) });
    expect(again.body.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '3.3' } });
  });

  it('refuses an EIS whose signed fields were changed after signing', async () => {
    const eis = { ...bed.eisOf(eids()[2] as string), platformVersion: '9.9' };
    const { body } = await post(url, { header: header(EUM_ID), eis });
    expect(body.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.1', reasonCode: '6.1' } });
    expect(await bed.smsr.registry.find(eids()[2] as string)).toBeUndefined();
  });

  it('refuses an EID outside the EUM permitted range (8.1.1 / 1.2), even when signed by the EUM', async () => {
    const { eumSignature: _drop, ...unsigned } = bed.eisOf(eids()[2] as string);
    const foreign = signEis({ ...unsigned, eid: generateEid('89044045', 12345) }, pki.eum.privateKey);
    const { body } = await post(url, { header: header(EUM_ID), eis: foreign });
    expect(body.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '1.2' } });
  });

  it('refuses an unknown EUM (1.1 / 1.1), an EUM claiming another eumId (1.1 / 1.2) and a malformed body (1.6)', async () => {
    const eis = bed.eisOf(eids()[2] as string);
    const unknown = await post(url, { header: header('eum.nobody'), eis });
    expect(unknown.body.header.functionExecutionStatus.statusCodeData).toMatchObject({ subjectCode: '1.1', reasonCode: '1.1' });
    const other = await post(url, { header: header(EUM_ID), eis: { ...eis, eumId: 'eum.nobody' } });
    expect(other.body.header.functionExecutionStatus.status).toBe('Failed');
    const missing = await post(url, { header: header(EUM_ID) });
    expect(missing.body.header.functionExecutionStatus.statusCodeData).toMatchObject({ subjectCode: '1.6', reasonCode: '2.2', subjectIdentifier: 'eis' });
    const garbage = await post(url, '{not json');
    expect(garbage.status).toBe(200);
    expect(garbage.body.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.6' } });
    expect(JSON.stringify(garbage.body)).not.toMatch(/at |stack|SyntaxError/);
  });

  it('serves the OpenAPI document', async () => {
    const response = await fetch(`${bed.smsr.httpUrl}/docs-json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/gsma/es1/{functionName}', '/gsma/es4/{functionName}']));
  });
});
