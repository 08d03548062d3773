/**
 * The owner registry on real PostgreSQL (a fresh schema): the migrations create its tables, and a
 * claim + resale runs on them (partial unique owner index, one-transaction redeem, outbox, status versions).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { realService } from '../../../test/support/real-services';
import { call, eventually, registerOven, startFixture, tokenFor, type Fixture } from './support';
import { runAdminSql } from '@rsp/persistence';

const database = await realService('database');

(database.url ? describe : describe.skip)('owner registry on PostgreSQL', () => {
  const schema = `owner_test_${randomBytes(6).toString('hex')}`;
  const admin = (sql: string) => runAdminSql(database.url as string, sql);
  let f: Fixture;

  beforeAll(async () => {
    await admin(`CREATE SCHEMA "${schema}"`);
    f = await startFixture({ databaseUrl: database.url as string, databaseSchema: schema });
  });

  afterAll(async () => {
    await f?.close();
    await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('migrates, claims once, and sells in one transaction', async () => {
    const tables = (await f.registry.dataSource.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [schema])) as Array<{ table_name: string }>;
    expect(tables.map((row) => row.table_name)).toEqual(expect.arrayContaining(['owner_device', 'owner_grant', 'owner_transfer', 'owner_audit', 'rsp_outbox_message']));
    const alice = await tokenFor(f.idp, 'alice');
    const bob = await tokenFor(f.idp, 'bob');
    const oven = await registerOven(f.registry);
    const claims = await Promise.all([alice, bob].map((token) => call(f.registry, 'POST', '/devices/claim', { token, body: { deviceUrl: oven.deviceUrl, claimCode: oven.claimCode } })));
    expect(claims.map((c) => c.status).sort()).toEqual([201, 409]);
    const [winner, loser] = claims[0]?.status === 201 ? [alice, bob] : [bob, alice];
    const winnerSub = winner === alice ? 'alice' : 'bob';
    const started = await call(f.registry, 'POST', `/devices/${oven.eid}/transfers`, { token: await tokenFor(f.idp, winnerSub, { fresh: true }), body: { subscription: 'leave' } });
    expect(started.status).toBe(201);
    const redeemed = await call(f.registry, 'POST', '/transfers/redeem', { token: loser, body: { deviceUrl: oven.deviceUrl, transferCode: started.body.transferCode } });
    expect(redeemed.status).toBe(200);
    expect((await call(f.registry, 'GET', `/devices/${oven.eid}`, { token: winner })).status).toBe(404);
    await eventually(() => f.statuses.get(oven.eid)?.consentEpoch === 1);
    const [row] = (await f.registry.dataSource.query(`SELECT consent_epoch, status_version FROM "${schema}".owner_device WHERE eid = $1`, [oven.eid])) as Array<{ consent_epoch: number; status_version: number }>;
    expect(row).toEqual({ consent_epoch: 1, status_version: 3 }); // register, claim, redeem
    expect(f.statuses.get(oven.eid)).toMatchObject({ owned: true, version: 3 });
    // The signed document over HTTP, read in one REPEATABLE READ snapshot.
    const signed = await fetch(`${f.registry.httpUrl}/device-status/${oven.eid}`);
    expect(JSON.parse(Buffer.from((await signed.text()).split('.')[1] as string, 'base64url').toString())).toMatchObject({ sub: oven.eid, owned: true, consentEpoch: 1, version: 3 });
  });
});
