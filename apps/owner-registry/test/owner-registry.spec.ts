/**
 * The owner registry end to end over HTTP (docs/owner-registry.md): sqlite in memory, the dev IdP
 * minting tokens verified through discovery, the embedded broker receiving the retained statuses.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startDevIdp } from '../src/dev-idp/dev-idp';
import type { FindOptionsWhere } from 'typeorm';
import { AuditRecord } from '../src/adapters/entities/audit.entity';
import { AUDIENCE, MAKER_KEY, MNO_A_KEY, MNO_B_KEY, call, eventually, newEid, registerOven, startFixture, tokenFor, type Fixture, type Json } from './support';

let f: Fixture;
let alice: string;
let bob: string;

beforeAll(async () => {
  f = await startFixture();
  alice = await tokenFor(f.idp, 'alice');
  bob = await tokenFor(f.idp, 'bob');
});

afterAll(async () => {
  await f?.close();
});

async function claimed(token = alice, model?: string) {
  const oven = await registerOven(f.registry, model);
  const reply = await call(f.registry, 'POST', '/devices/claim', { token, body: { deviceUrl: oven.deviceUrl, claimCode: oven.claimCode } });
  expect(reply.status).toBe(201);
  return oven;
}

const auditRows = (where: FindOptionsWhere<AuditRecord>) => f.registry.dataSource.getRepository(AuditRecord).findBy(where);

describe('devices', () => {
  it('registers, claims once, and refuses a second claim', async () => {
    const oven = await registerOven(f.registry);
    expect(oven.deviceUrl).toMatch(/^https:\/\/registry\.test\/oven-maker\.example\/oven-\d{8}$/);
    const claim = await call(f.registry, 'POST', '/devices/claim', { token: alice, body: { deviceUrl: oven.deviceUrl, claimCode: oven.claimCode } });
    expect(claim.status).toBe(201);
    expect(claim.body).toMatchObject({ eid: oven.eid, role: 'owner', status: 'Active', consentEpoch: 0 });
    const again = await call(f.registry, 'POST', '/devices/claim', { token: bob, body: { deviceUrl: oven.deviceUrl, claimCode: oven.claimCode } });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: { code: 'ERR_OWNER_DEVICE_ALREADY_CLAIMED', message: expect.any(String) } });
    const mine = await call(f.registry, 'GET', '/me/devices', { token: alice });
    expect(mine.body.devices.map((d: Json) => d.eid)).toContain(oven.eid);
    // Only a hash of the claim code is stored.
    const [row] = (await f.registry.dataSource.query(`SELECT claim_code_hash FROM owner_device WHERE eid = ?`, [oven.eid])) as Array<{ claim_code_hash: string }>;
    expect(row?.claim_code_hash).not.toContain(oven.claimCode);
    await eventually(() => f.statuses.get(oven.eid)?.owned === true);
    expect(f.statuses.get(oven.eid)).toMatchObject({ eid: oven.eid, owned: true, status: 'Active', consentEpoch: 0, revokedConsents: [] });
  });

  it('refuses a duplicate registration and a bad maker key', async () => {
    const eid = newEid();
    const body = { eid, deviceId: `dup-${eid.slice(-6)}`, model: 'oven-x1', claimCode: 'ABCD-1234' };
    expect((await call(f.registry, 'POST', '/makers/devices', { apiKey: MAKER_KEY, body })).status).toBe(201);
    expect((await call(f.registry, 'POST', '/makers/devices', { apiKey: MAKER_KEY, body })).body.error.code).toBe('ERR_OWNER_DEVICE_EXISTS');
    const wrong = await call(f.registry, 'POST', '/makers/devices', { apiKey: 'nope', body });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('ERR_OWNER_UNAUTHENTICATED');
  });
});

describe('grants and roles', () => {
  it('an admin adds a user but cannot remove or change the owner; users read, cannot share', async () => {
    const oven = await claimed();
    const issuer = f.idp.issuer;
    const addAdmin = await call(f.registry, 'POST', `/devices/${oven.eid}/grants`, { token: alice, body: { iss: issuer, sub: 'carol', role: 'admin' } });
    expect(addAdmin.status).toBe(201);
    const carol = await tokenFor(f.idp, 'carol');
    const addUser = await call(f.registry, 'POST', `/devices/${oven.eid}/grants`, { token: carol, body: { iss: issuer, sub: 'dave', role: 'user' } });
    expect(addUser.status).toBe(201);
    const device = await call(f.registry, 'GET', `/devices/${oven.eid}`, { token: carol });
    const ownerGrant = (device.body.grants as Json[]).find((grant) => grant.role === 'owner') as Json;
    expect(ownerGrant).toMatchObject({ iss: issuer, sub: 'alice' });
    const removeOwner = await call(f.registry, 'DELETE', `/grants/${ownerGrant.id}`, { token: carol });
    expect(removeOwner.body.error.code).toBe('ERR_OWNER_GRANT_IMMUTABLE');
    const demoteOwner = await call(f.registry, 'PATCH', `/grants/${ownerGrant.id}`, { token: carol, body: { role: 'user' } });
    expect(demoteOwner.body.error.code).toBe('ERR_OWNER_GRANT_IMMUTABLE');
    const dave = await tokenFor(f.idp, 'dave');
    expect((await call(f.registry, 'GET', `/devices/${oven.eid}`, { token: dave })).body.role).toBe('user');
    expect((await call(f.registry, 'POST', `/devices/${oven.eid}/grants`, { token: dave, body: { iss: issuer, sub: 'eve', role: 'user' } })).status).toBe(403);
    expect((await call(f.registry, 'GET', `/devices/${oven.eid}/audit`, { token: dave })).status).toBe(403);
    expect((await call(f.registry, 'GET', `/devices/${oven.eid}`, { token: bob })).status).toBe(404);
    const trail = await call(f.registry, 'GET', `/devices/${oven.eid}/audit`, { token: alice });
    expect(trail.body.events).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'grant.revoke', outcome: 'ERR_OWNER_GRANT_IMMUTABLE', actor: expect.objectContaining({ sub: 'carol' }), authContext: expect.objectContaining({ amr: ['pwd'] }) })]),
    );
  });

  it('a group member gets the group role on its devices', async () => {
    const oven = await claimed();
    const group = await call(f.registry, 'POST', '/groups', { token: alice, body: { name: 'Home' } });
    expect(group.status).toBe(201);
    expect((await call(f.registry, 'POST', `/groups/${group.body.id}/members`, { token: alice, body: { iss: f.idp.issuer, sub: 'frank', role: 'user' } })).status).toBe(201);
    expect((await call(f.registry, 'POST', `/groups/${group.body.id}/devices`, { token: alice, body: { eid: oven.eid } })).status).toBe(201);
    const frank = await tokenFor(f.idp, 'frank');
    expect((await call(f.registry, 'GET', `/devices/${oven.eid}`, { token: frank })).body.role).toBe('user');
    expect((await call(f.registry, 'GET', '/me/devices', { token: frank })).body.devices.map((d: Json) => d.eid)).toEqual([oven.eid]);
  });
});

describe('consents', () => {
  it('mints a consent that verifies with the JWKS and carries the right claims; revocation republishes', async () => {
    const oven = await claimed();
    const reply = await call(f.registry, 'POST', `/devices/${oven.eid}/consents`, { token: alice, body: { mnoId: 'mno.a', operations: ['DownloadProfile', 'EnableProfile'], expiresInSeconds: 600 } });
    expect(reply.status).toBe(201);
    const { payload, protectedHeader } = await jwtVerify(reply.body.consent as string, createRemoteJWKSet(new URL(f.registry.jwksUrl)), { issuer: 'https://registry.test', audience: 'urn:gsma:rsp:sm' });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'rsp-consent+jwt' });
    expect(payload).toMatchObject({ sub: oven.eid, mno: 'mno.a', ops: ['DownloadProfile', 'EnableProfile'], epoch: 0, jti: reply.body.jti });
    expect((payload.exp as number) - (payload.iat as number)).toBe(600);
    const bobTries = await call(f.registry, 'POST', `/devices/${oven.eid}/consents`, { token: bob, body: { mnoId: 'mno.a', operations: ['DeleteProfile'] } });
    expect(bobTries.status).toBe(404);
    const revoked = await call(f.registry, 'DELETE', `/consents/${reply.body.jti}`, { token: alice });
    expect(revoked.status).toBe(200);
    await eventually(() => (f.statuses.get(oven.eid)?.revokedConsents as string[] | undefined)?.includes(reply.body.jti) === true);
  });
});

describe('resale', () => {
  it('needs step-up, then moves ownership in one transaction', async () => {
    const oven = await claimed();
    await call(f.registry, 'PUT', `/devices/${oven.eid}/settings`, { token: alice, body: { temperatureUnit: 'C', presets: [180, 220] } });
    await call(f.registry, 'POST', `/devices/${oven.eid}/grants`, { token: alice, body: { iss: f.idp.issuer, sub: 'gina', role: 'admin' } });
    const consent = await call(f.registry, 'POST', `/devices/${oven.eid}/consents`, { token: alice, body: { mnoId: 'mno.a', operations: ['EnableProfile'] } });

    const stale = await call(f.registry, 'POST', `/devices/${oven.eid}/transfers`, { token: alice, body: { subscription: 'leave' } });
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('ERR_IDENTITY_STEP_UP_REQUIRED');
    expect(stale.headers.get('www-authenticate')).toMatch(/insufficient_user_authentication.*max_age=300/);

    const fresh = await tokenFor(f.idp, 'alice', { fresh: true });
    const started = await call(f.registry, 'POST', `/devices/${oven.eid}/transfers`, { token: fresh, body: { subscription: 'leave', mnoId: 'mno.a', iccid: '8988299000000000001' } });
    expect(started.status).toBe(201);
    expect(started.body.transferCode).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);

    const redeemed = await call(f.registry, 'POST', '/transfers/redeem', { token: bob, body: { deviceUrl: oven.deviceUrl, transferCode: started.body.transferCode } });
    expect(redeemed.status).toBe(200);
    expect(redeemed.body).toMatchObject({ eid: oven.eid, role: 'owner', consentEpoch: 1 });

    expect((await call(f.registry, 'GET', `/devices/${oven.eid}`, { token: alice })).status).toBe(404);
    const gina = await tokenFor(f.idp, 'gina');
    expect((await call(f.registry, 'GET', `/devices/${oven.eid}`, { token: gina })).status).toBe(404);
    const asBob = await call(f.registry, 'GET', `/devices/${oven.eid}`, { token: bob });
    expect(asBob.body).toMatchObject({ role: 'owner', consentEpoch: 1, recentlyTransferredAt: expect.any(String) });
    expect(asBob.body.grants).toEqual([expect.objectContaining({ role: 'owner', sub: 'bob' })]);

    await eventually(() => f.statuses.get(oven.eid)?.consentEpoch === 1);
    expect(f.statuses.get(oven.eid)).toMatchObject({ owned: true, consentEpoch: 1, revokedConsents: [], recentlyTransferredAt: expect.any(String) });
    const consentRow = (await f.registry.dataSource.query(`SELECT revoked_at FROM owner_consent WHERE jti = ?`, [consent.body.jti])) as Array<{ revoked_at: string | null }>;
    expect(consentRow[0]?.revoked_at).not.toBeNull();

    // The seller is told; her MNO is asked to disable then delete the profile, with a consent at the new epoch.
    await eventually(() => f.notifications.some((n) => n.payload.event === 'device-sold' && n.payload.eid === oven.eid));
    await eventually(() => f.es2Calls.filter((c) => c.body.eid === oven.eid).length === 2);
    const leave = f.es2Calls.filter((c) => c.body.eid === oven.eid);
    expect(leave.map((c) => c.fn)).toEqual(['disableProfile', 'deleteProfile']);
    expect(leave[1]).toMatchObject({ mnoId: 'mno.a', apiKey: 'es2-key-a', body: { header: { functionRequesterIdentifier: 'mno.a' }, iccid: '8988299000000000001', smsrId: 'smsr.test' } });
    const { payload } = await jwtVerify(leave[1]?.consent as string, createRemoteJWKSet(new URL(f.registry.jwksUrl)));
    expect(payload).toMatchObject({ epoch: 1, ops: ['DeleteProfile'], mno: 'mno.a', sub: oven.eid });

    const second = await call(f.registry, 'POST', '/transfers/redeem', { token: await tokenFor(f.idp, 'henry'), body: { deviceUrl: oven.deviceUrl, transferCode: started.body.transferCode } });
    expect(second.status).toBe(403);
    expect(second.body.error.code).toBe('ERR_OWNER_TRANSFER_CODE_INVALID');

    // The seller's settings snapshot applies to her next oven of the same model.
    const snapshots = await call(f.registry, 'GET', '/me/settings-snapshots', { token: alice });
    const snapshot = (snapshots.body.snapshots as Json[]).find((s) => s.sourceDeviceUrl === oven.deviceUrl) as Json;
    expect(snapshot.settings).toEqual({ temperatureUnit: 'C', presets: [180, 220] });
    const next = await claimed(alice);
    const applied = await call(f.registry, 'POST', `/devices/${next.eid}/settings/apply`, { token: alice, body: { snapshotId: snapshot.id } });
    expect(applied.status).toBe(200);
    expect((await call(f.registry, 'GET', `/devices/${next.eid}`, { token: alice })).body.settings).toEqual({ temperatureUnit: 'C', presets: [180, 220] });
    const otherModel = await claimed(alice, 'oven-z9');
    expect((await call(f.registry, 'POST', `/devices/${otherModel.eid}/settings/apply`, { token: alice, body: { snapshotId: snapshot.id } })).body.error.code).toBe('ERR_OWNER_MODEL_MISMATCH');
  });

  it("'pass' needs an MNO that accepts transfers", async () => {
    const oven = await claimed();
    const fresh = await tokenFor(f.idp, 'alice', { fresh: true });
    expect((await call(f.registry, 'POST', `/devices/${oven.eid}/transfers`, { token: fresh, body: { subscription: 'pass', mnoId: 'mno.a' } })).body.error.code).toBe('ERR_OWNER_TRANSFER_NOT_ALLOWED');
    expect((await call(f.registry, 'POST', `/devices/${oven.eid}/transfers`, { token: fresh, body: { subscription: 'pass', mnoId: 'mno.b' } })).status).toBe(201);
  });

  it('rate-limits wrong transfer codes per caller (429) and audits them', async () => {
    const oven = await claimed();
    const fresh = await tokenFor(f.idp, 'alice', { fresh: true });
    const started = await call(f.registry, 'POST', `/devices/${oven.eid}/transfers`, { token: fresh, body: { subscription: 'leave' } });
    const mallory = await tokenFor(f.idp, 'mallory');
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) {
      codes.push((await call(f.registry, 'POST', '/transfers/redeem', { token: mallory, body: { deviceUrl: oven.deviceUrl, transferCode: `WRNG-CODE-000${i}` } })).status);
    }
    expect(codes).toEqual([403, 403, 403, 403, 403, 429]);
    const rows = await auditRows({ actorSub: 'mallory', action: 'transfer.redeem' });
    expect(rows.map((row) => row.outcome).sort()).toEqual(['ERR_OWNER_RATE_LIMITED', ...Array(5).fill('ERR_OWNER_TRANSFER_CODE_INVALID')]);
    expect(rows.find((row) => row.outcome === 'ERR_OWNER_TRANSFER_CODE_INVALID')?.eid).toBe(oven.eid);
    // After 5 wrong attempts the code is burned: even the right code fails now.
    const late = await call(f.registry, 'POST', '/transfers/redeem', { token: bob, body: { deviceUrl: oven.deviceUrl, transferCode: started.body.transferCode } });
    expect(late.body.error.code).toBe('ERR_OWNER_TRANSFER_CODE_INVALID');
  });
});

describe('tokens', () => {
  it('refuses expired tokens, wrong audiences and untrusted issuers, and audits them', async () => {
    const expired = await tokenFor(f.idp, 'alice', { expiresInSeconds: -600 });
    const wrongAudience = await tokenFor(f.idp, 'alice', { aud: 'another-client' });
    const other = await startDevIdp({ port: 0, clients: [{ clientId: AUDIENCE, redirectUris: ['http://127.0.0.1/cb'] }] });
    try {
      const untrusted = await tokenFor(other, 'alice');
      const replies = await Promise.all([expired, wrongAudience, untrusted, 'not-a-jwt'].map((token) => call(f.registry, 'GET', '/me/devices', { token })));
      expect(replies.map((r) => r.status)).toEqual([401, 401, 401, 401]);
      expect(replies.map((r) => r.body.error.code)).toEqual(['ERR_IDENTITY_TOKEN_EXPIRED', 'ERR_IDENTITY_AUDIENCE_MISMATCH', 'ERR_IDENTITY_UNTRUSTED_ISSUER', 'ERR_IDENTITY_MALFORMED_TOKEN']);
      expect(JSON.stringify(replies.map((r) => r.body))).not.toMatch(/at .*\.ts|stack/);
      const missing = await call(f.registry, 'GET', '/me/devices');
      expect(missing.body.error.code).toBe('ERR_IDENTITY_MISSING_TOKEN');
      const rows = await auditRows({ actorKind: 'anonymous', action: 'me.devices' });
      expect(rows.map((row) => row.outcome)).toEqual(expect.arrayContaining(['ERR_IDENTITY_TOKEN_EXPIRED', 'ERR_IDENTITY_AUDIENCE_MISMATCH', 'ERR_IDENTITY_UNTRUSTED_ISSUER', 'ERR_IDENTITY_MISSING_TOKEN']));
    } finally {
      await other.close();
    }
  });
});

describe('quarantine', () => {
  it('suspends (owner or an MNO with a consent) and reinstates with step-up only', async () => {
    const oven = await claimed();
    const suspended = await call(f.registry, 'POST', `/devices/${oven.eid}/suspend`, { token: alice, body: { reason: 'stolen' } });
    expect(suspended.body).toMatchObject({ status: 'Suspended' });
    await eventually(() => f.statuses.get(oven.eid)?.status === 'Suspended');
    const stale = await call(f.registry, 'POST', `/devices/${oven.eid}/reinstate`, { token: alice });
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('ERR_IDENTITY_STEP_UP_REQUIRED');
    const reinstated = await call(f.registry, 'POST', `/devices/${oven.eid}/reinstate`, { token: await tokenFor(f.idp, 'alice', { fresh: true }) });
    expect(reinstated.body).toMatchObject({ status: 'Active' });
    await eventually(() => f.statuses.get(oven.eid)?.status === 'Active');

    expect((await call(f.registry, 'POST', `/devices/${oven.eid}/suspend`, { apiKey: MNO_A_KEY, body: { reason: 'compromised' } })).status).toBe(403);
    await call(f.registry, 'POST', `/devices/${oven.eid}/consents`, { token: alice, body: { mnoId: 'mno.a', operations: ['EnableProfile'] } });
    expect((await call(f.registry, 'POST', `/devices/${oven.eid}/suspend`, { apiKey: MNO_B_KEY, body: { reason: 'compromised' } })).status).toBe(403);
    expect((await call(f.registry, 'POST', `/devices/${oven.eid}/suspend`, { apiKey: MNO_A_KEY, body: { reason: 'compromised' } })).body).toMatchObject({ status: 'Suspended' });
  });
});
