/**
 * The SM-DP on real PostgreSQL (a fresh schema): the migration creates its tables, and a full
 * download + enable runs on them (ICCID reservation, sealed secrets, flow rows, idempotency, outbox).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { TestBroker } from '../../../test/support/brokers';
import { generateTestPki } from '@rsp/pki';
import { startSmDp, type SmDpHandle } from '../src/app';
import { Fleet } from '../../../simulator/src/fleet';
import { realService } from '../../../test/support/real-services';
import { FakeSmSr } from './fake-sm-sr';
import { KEY_A, SMSR_ID, header, post, smDpOptions, startBroker } from './support';
import { runAdminSql } from '@rsp/persistence';

const database = await realService('database');

(database.url ? describe : describe.skip)('SM-DP on PostgreSQL', () => {
  const schema = `smdp_test_${randomBytes(6).toString('hex')}`;
  const admin = (sql: string) => runAdminSql(database.url as string, sql);
  let fleet: Fleet;
  let broker: TestBroker;
  let smdp: SmDpHandle;

  beforeAll(async () => {
    await admin(`CREATE SCHEMA "${schema}"`);
    const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
    fleet = await Fleet.create({ size: 1, model: 'bbq', pki });
    broker = await startBroker(pki);
    smdp = await startSmDp(smDpOptions(pki, new FakeSmSr(fleet, pki, SMSR_ID), broker, { databaseUrl: database.url as string, databaseSchema: schema }));
  });

  afterAll(async () => {
    await smdp?.close();
    await fleet?.close();
    await broker?.close();
    await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('migrates the schema and runs a download with enable', async () => {
    const tables = await smdp.dataSource.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema]);
    expect((tables as Array<{ table_name: string }>).map((row) => row.table_name)).toEqual(
      expect.arrayContaining(['smdp_mno', 'smdp_profile_type', 'smdp_subscription', 'rsp_transaction_record', 'rsp_outbox_message', 'rsp_idempotency_record']),
    );
    await post(smdp, '/mno/profileTypes', { name: 'm2m' }, KEY_A);
    const generated = await post(smdp, '/mno/subscriptions', { profileType: 'm2m', generate: 2 }, KEY_A);
    expect(generated.body.subscriptions).toHaveLength(2);
    const eid = fleet.eids()[0] as string;
    const body = { header: header('mno.a'), eid, smsrId: SMSR_ID, profileType: 'm2m', enableProfile: true };
    const { body: response } = await post(smdp, '/gsma/es2/downloadProfile', body, KEY_A);
    expect(response.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    expect(fleet.device(eid)?.identity().iccid).toBe(response.iccid);
    const again = await post(smdp, '/gsma/es2/downloadProfile', body, KEY_A);
    expect(again.body).toEqual(response);
    const [flow] = (await smdp.dataSource.query(`SELECT status, context FROM "${schema}".rsp_transaction_record`)) as Array<{ status: string; context: Record<string, unknown> }>;
    expect(flow?.status).toBe('succeeded');
    expect(String(flow?.context.isdpKeysSealed)).toMatch(/^sb1\./); // ISD-P keys sealed at rest
    const [row] = (await smdp.dataSource.query(`SELECT ki_sealed FROM "${schema}".smdp_subscription WHERE iccid = $1`, [response.iccid])) as Array<{ ki_sealed: string }>;
    expect(row?.ki_sealed).toMatch(/^sb1\./);
  });
});
