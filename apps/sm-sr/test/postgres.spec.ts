/**
 * The same SM-SR on real PostgreSQL (a fresh schema, created by the migrations): registration, an ISD-P
 * created and deleted, POL2 and notifications through the registry transaction, a webhook that fails
 * twice before the outbox delivers, and an audit against the card. Skipped outside CI when no Postgres is reachable (test/support/real-services.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { generateIccid } from '@rsp/pki';
import { realService } from '../../../test/support/real-services';
import { EUM_ID, header, MNO, post, startTestBed, waitFor, type TestBed } from './support';
import { runAdminSql } from '@rsp/persistence';

const database = await realService('database');
const schema = `rsp_smsr_${randomBytes(6).toString('hex')}`;

const admin = (sql: string): Promise<void> => runAdminSql(database.url as string, sql);

(database.url ? describe : describe.skip)('SM-SR on PostgreSQL', () => {
  let bed: TestBed;
  beforeAll(async () => {
    await admin(`CREATE SCHEMA "${schema}"`);
    bed = await startTestBed({ size: 1, database: { url: database.url as string, schema } });
  });
  afterAll(async () => {
    await bed?.close();
    await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('registers (migrated tables), CreateISDP / DeleteISDP with memory accounting, POL2 stored as jsonb, an outbox notification survives a failing webhook, AuditEIS', async () => {
    const eid = bed.fleet.eids()[0] as string;
    const registered = await post(`${bed.smsr.httpUrl}/gsma/es1/registerEIS`, { header: header(EUM_ID), eis: bed.eisOf(eid) });
    expect(registered.body.header.functionExecutionStatus.status).toBe('Executed-Success');
    const tables = (await bed.smsr.dataSource.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema])) as Array<{ table_name: string }>;
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['smsr_euicc', 'smsr_profile', 'rsp_outbox_message', 'rsp_idempotency_record']));

    const es3 = (fn: string, body: object) => bed.smsr.service.call('ES3', fn, { header: header('smdp.pg'), ...body });
    const iccid = generateIccid('8900012', 9090);
    const created = await es3('CreateISDP', { eid, iccid, mnoId: MNO.mnoId, requiredMemory: 4096 });
    expect(created.header.functionExecutionStatus.status).toBe('Executed-Success');
    const record = await bed.smsr.registry.find(eid);
    expect(record?.profiles.find((p) => p.iccid === iccid)).toMatchObject({ state: 'Created', isdpAid: created.isdpAid, pol2: [] });

    bed.webhook.failNext = 2;
    const bootstrap = record?.profiles.find((p) => p.fallback);
    await bed.smsr.registry.transaction(async (tx) => {
      await tx.saveProfile({ ...bootstrap!, mnoId: MNO.mnoId, pol2: [{ subject: 'PROFILE', action: 'DELETE', qualification: 'Not-Allowed' }] });
      await bed.smsr.service.profiles.notify(tx, { ...bootstrap!, mnoId: MNO.mnoId }, 'Enabled');
    });
    const saved = (await bed.smsr.registry.find(eid))?.profiles.find((p) => p.fallback);
    expect(saved).toMatchObject({ mnoId: MNO.mnoId, fallback: true, pol2: [{ action: 'DELETE' }] });
    await waitFor(() => bed.webhook.received.length >= 1, 10_000);
    expect(bed.webhook.received[0]).toMatchObject({ interface: 'ES4', function: 'HandleProfileEnabledNotification', body: { eid } });

    const deleted = await es3('DeleteISDP', { eid, iccid });
    expect(deleted.header.functionExecutionStatus.status).toBe('Executed-Success');
    const after = await bed.smsr.registry.find(eid);
    expect(after?.profiles.map((p) => p.iccid)).not.toContain(iccid);
    expect(after?.remainingMemory).toBe(record!.remainingMemory + 4096);

    const audited = await post(`${bed.smsr.httpUrl}/gsma/es4/auditEIS`, { header: header(MNO.mnoId), eid }, MNO.apiKey);
    expect(audited.body.header.functionExecutionStatus.status).toBe('Executed-Success');
    expect(audited.body.eis.profiles).toEqual([expect.objectContaining({ state: 'Enabled', fallbackAttribute: true })]);
  });
});
