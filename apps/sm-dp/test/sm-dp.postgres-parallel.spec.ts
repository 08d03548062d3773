/**
 * 40 parallel ES2 DownloadProfile calls on real PostgreSQL (the symptom behind the one-statement
 * reservation: 25–35 % of them used to end 8.2.1 / 3.7 "No profile of this type available" while
 * subscriptions remained). With ≥ 40 subscriptions all succeed on 40 distinct ICCIDs; with only N,
 * exactly N succeed and the others are refused 8.2.1 / 3.7 with nothing left reserved for them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { TestBroker } from '../../../test/support/brokers';
import { createSchema, dropSchema } from '@rsp/persistence';
import { generateTestPki } from '@rsp/pki';
import { startSmDp, type SmDpHandle } from '../src/app';
import { Fleet } from '../../../simulator/src/fleet';
import { realService } from '../../../test/support/real-services';
import { FakeSmSr } from './fake-sm-sr';
import { KEY_A, SMSR_ID, header, post, smDpOptions, startBroker, type Json } from './support';

const database = await realService('database');
const CARDS = 40;

(database.url ? describe : describe.skip)('SM-DP on PostgreSQL: parallel downloads', () => {
  const schema = `smdp_par_${randomBytes(6).toString('hex')}`;
  let fleet: Fleet;
  let broker: TestBroker;
  let smdp: SmDpHandle;

  beforeAll(async () => {
    await createSchema(database.url as string, schema);
    const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
    fleet = await Fleet.create({ size: CARDS, model: 'bbq', pki });
    broker = await startBroker(pki);
    smdp = await startSmDp(smDpOptions(pki, new FakeSmSr(fleet, pki, SMSR_ID), broker, { databaseUrl: database.url as string, databaseSchema: schema }));
  }, 60_000);

  afterAll(async () => {
    await smdp?.close();
    await fleet?.close();
    await broker?.close();
    await dropSchema(database.url as string, schema);
  });

  /** A profile type with `count` subscriptions, then one download per card of `eids`, all at once. */
  async function downloadAll(profileType: string, count: number, eids: readonly string[]): Promise<Json[]> {
    await post(smdp, '/mno/profileTypes', { name: profileType }, KEY_A);
    expect((await post(smdp, '/mno/subscriptions', { profileType, generate: count }, KEY_A)).body.subscriptions).toHaveLength(count);
    const responses = await Promise.all(
      eids.map((eid) => post(smdp, '/gsma/es2/downloadProfile', { header: header('mno.a'), eid, smsrId: SMSR_ID, profileType, enableProfile: false }, KEY_A)),
    );
    return responses.map((response) => response.body);
  }

  it(`${CARDS} parallel downloads with ${CARDS} subscriptions: all succeed on ${CARDS} distinct ICCIDs`, async () => {
    const bodies = await downloadAll('par-plenty', CARDS, fleet.eids());
    expect(bodies.map((body) => body.header.functionExecutionStatus)).toEqual(Array(CARDS).fill({ status: 'Executed-Success' }));
    expect(new Set(bodies.map((body) => body.iccid)).size).toBe(CARDS);
    expect(await smdp.inventory.listSubscriptions('mno.a', { profileType: 'par-plenty', state: 'available' })).toEqual([]);
  }, 120_000);

  it('12 parallel downloads with only 5 subscriptions: exactly 5 succeed, 7 are refused 8.2.1 / 3.7', async () => {
    const bodies = await downloadAll('par-scarce', 5, fleet.eids().slice(0, 12));
    const statuses = bodies.map((body) => body.header.functionExecutionStatus);
    expect(statuses.filter((status) => status.status === 'Executed-Success')).toHaveLength(5);
    const refused = statuses.filter((status) => status.status !== 'Executed-Success');
    expect(refused).toHaveLength(7);
    for (const status of refused) expect(status).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.2.1', reasonCode: '3.7' } });
    expect(new Set(bodies.flatMap((body) => (body.iccid ? [body.iccid] : []))).size).toBe(5);
    expect(await smdp.inventory.listSubscriptions('mno.a', { profileType: 'par-scarce', state: 'reserved' })).toEqual([]);
  }, 120_000);
});
