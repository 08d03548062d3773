/**
 * Porting (docs/owner-registry.md "Porting") against stub ES2 servers recording the calls: the
 * recipient's download+enable comes first, the donor's delete only after its success; a failing
 * enable keeps the old profile (no delete) and the PAC usable.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { AuditRecord } from '../src/adapters/entities/audit.entity';
import { MNO_A_KEY, call, registerOven, startFixture, tokenFor, type Fixture } from './support';

let f: Fixture;
let alice: string;

beforeAll(async () => {
  f = await startFixture();
  alice = await tokenFor(f.idp, 'alice');
});

afterAll(async () => {
  await f?.close();
});

async function ownedOvenWithPac() {
  const oven = await registerOven(f.registry);
  expect((await call(f.registry, 'POST', '/devices/claim', { token: alice, body: { deviceUrl: oven.deviceUrl, claimCode: oven.claimCode } })).status).toBe(201);
  const pac = await call(f.registry, 'POST', '/mno/porting-codes', { apiKey: MNO_A_KEY, body: { eid: oven.eid, iccid: '8988299000000000099' } });
  expect(pac.status).toBe(201);
  expect(pac.body.pac).toMatch(/^[A-Z]{3}\d{6}$/);
  return { ...oven, pac: pac.body.pac as string };
}

describe('porting', () => {
  it('downloads and enables at the recipient, then deletes at the donor', async () => {
    const oven = await ownedOvenWithPac();
    const before = (await call(f.registry, 'GET', `/devices/${oven.eid}`, { token: alice })).body.grants;
    const reply = await call(f.registry, 'POST', `/devices/${oven.eid}/port`, { token: alice, body: { pac: oven.pac, recipientMnoId: 'mno.b', profileType: 'm2m' } });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ functionExecutionStatus: { status: 'Executed-Success' }, iccid: '8988299000000000017', donorDeletion: 'Executed-Success' });
    const calls = f.es2Calls.filter((c) => c.body.eid === oven.eid);
    expect(calls.map((c) => `${c.mnoId}:${c.fn}`)).toEqual(['mno.b:downloadProfile', 'mno.a:deleteProfile']);
    expect(calls[0]).toMatchObject({ apiKey: 'es2-key-b', body: { header: { functionRequesterIdentifier: 'mno.b' }, profileType: 'm2m', enableProfile: true, smsrId: 'smsr.test' } });
    expect(calls[1]).toMatchObject({ apiKey: 'es2-key-a', body: { header: { functionRequesterIdentifier: 'mno.a' }, iccid: '8988299000000000099' } });
    const keys = createRemoteJWKSet(new URL(f.registry.jwksUrl));
    expect((await jwtVerify(calls[0]?.consent as string, keys)).payload).toMatchObject({ mno: 'mno.b', ops: ['DownloadProfile', 'EnableProfile'], sub: oven.eid });
    expect((await jwtVerify(calls[1]?.consent as string, keys)).payload).toMatchObject({ mno: 'mno.a', ops: ['DeleteProfile'], sub: oven.eid });
    expect((await call(f.registry, 'GET', `/devices/${oven.eid}`, { token: alice })).body.grants).toEqual(before); // grants untouched
    const again = await call(f.registry, 'POST', `/devices/${oven.eid}/port`, { token: alice, body: { pac: oven.pac, recipientMnoId: 'mno.b', profileType: 'm2m' } });
    expect(again.body.error.code).toBe('ERR_OWNER_PAC_INVALID');
    const audit = await f.registry.dataSource.getRepository(AuditRecord).findBy({ eid: oven.eid, action: 'porting.port' });
    expect(audit.map((row) => row.outcome).sort()).toEqual(['ERR_OWNER_PAC_INVALID', 'ok']);
  });

  it('a failing enable keeps the old profile: no delete, the PAC stays usable', async () => {
    const oven = await ownedOvenWithPac();
    f.stubs['mno.b'].answer = () => ({ header: { functionExecutionStatus: { status: 'Failed', statusCodeData: { subjectCode: '8.2.1', reasonCode: '3.8', message: 'refused' } } } });
    try {
      const reply = await call(f.registry, 'POST', `/devices/${oven.eid}/port`, { token: alice, body: { pac: oven.pac, recipientMnoId: 'mno.b', profileType: 'm2m' } });
      expect(reply.status).toBe(200);
      expect(reply.body.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.2.1' } });
      expect(f.es2Calls.filter((c) => c.body.eid === oven.eid).map((c) => c.fn)).toEqual(['downloadProfile']);
    } finally {
      f.stubs['mno.b'].answer = (c) => ({ header: { functionExecutionStatus: { status: 'Executed-Success' } }, ...(c.fn === 'downloadProfile' ? { iccid: '8988299000000000025' } : {}) });
    }
    const retry = await call(f.registry, 'POST', `/devices/${oven.eid}/port`, { token: alice, body: { pac: oven.pac, recipientMnoId: 'mno.b', profileType: 'm2m' } });
    expect(retry.body).toMatchObject({ functionExecutionStatus: { status: 'Executed-Success' }, donorDeletion: 'Executed-Success' });
  });

  it('refuses a wrong PAC and a non-owner', async () => {
    const oven = await ownedOvenWithPac();
    const wrong = await call(f.registry, 'POST', `/devices/${oven.eid}/port`, { token: alice, body: { pac: 'AAA000000', recipientMnoId: 'mno.b', profileType: 'm2m' } });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('ERR_OWNER_PAC_INVALID');
    const bob = await tokenFor(f.idp, 'bob');
    expect((await call(f.registry, 'POST', `/devices/${oven.eid}/port`, { token: bob, body: { pac: oven.pac, recipientMnoId: 'mno.b', profileType: 'm2m' } })).status).toBe(404);
    expect(f.es2Calls.filter((c) => c.body.eid === oven.eid)).toEqual([]);
  });
});
