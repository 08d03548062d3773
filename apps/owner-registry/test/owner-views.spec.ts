/**
 * The portal's reads (docs/owner-registry.md "Resources"): consents of a device with their state and
 * never the token, the operators without credentials, the device's profiles through each connected
 * operator's ES2 GetEIS (sent without a consent). The attacker's side: another person, a mere user,
 * no token, and an MNO key instead of a bearer all get nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MNO_A_KEY, call, registerOven, startFixture, tokenFor, type Fixture } from './support';

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

async function ownedOven() {
  const oven = await registerOven(f.registry);
  expect((await call(f.registry, 'POST', '/devices/claim', { token: alice, body: { deviceUrl: oven.deviceUrl, claimCode: oven.claimCode } })).status).toBe(201);
  return oven;
}

describe('owner views', () => {
  it('lists the consents of a device with their state, newest first, without the tokens', async () => {
    const oven = await ownedOven();
    const first = await call(f.registry, 'POST', `/devices/${oven.eid}/consents`, { token: alice, body: { mnoId: 'mno.a', operations: ['EnableProfile'], expiresInSeconds: 600 } });
    const second = await call(f.registry, 'POST', `/devices/${oven.eid}/consents`, { token: alice, body: { mnoId: 'mno.b', operations: ['DownloadProfile', 'EnableProfile'] } });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect((await call(f.registry, 'DELETE', `/consents/${first.body.jti}`, { token: alice })).status).toBe(200);

    const listed = await call(f.registry, 'GET', `/devices/${oven.eid}/consents`, { token: alice });
    expect(listed.status).toBe(200);
    const byJti = Object.fromEntries((listed.body.consents as Array<{ jti: string; state: string; mnoId: string; operations: string[] }>).map((c) => [c.jti, c]));
    expect(byJti[first.body.jti]).toMatchObject({ mnoId: 'mno.a', operations: ['EnableProfile'], state: 'revoked' });
    expect(byJti[second.body.jti]).toMatchObject({ mnoId: 'mno.b', operations: ['DownloadProfile', 'EnableProfile'], state: 'active', revokedAt: null });
    expect(JSON.stringify(listed.body)).not.toContain(second.body.consent);
  });

  it('refuses the consents of a device to others, to a mere user, without a token and with an MNO key', async () => {
    const oven = await ownedOven();
    expect((await call(f.registry, 'GET', `/devices/${oven.eid}/consents`, { token: bob })).body.error.code).toBe('ERR_OWNER_NOT_FOUND');
    expect((await call(f.registry, 'POST', `/devices/${oven.eid}/grants`, { token: alice, body: { role: 'user', iss: f.idp.issuer, sub: 'bob' } })).status).toBe(201);
    const asUser = await call(f.registry, 'GET', `/devices/${oven.eid}/consents`, { token: bob });
    expect({ status: asUser.status, code: asUser.body.error.code }).toEqual({ status: 403, code: 'ERR_OWNER_FORBIDDEN' });
    expect((await call(f.registry, 'GET', `/devices/${oven.eid}/consents`, {})).status).toBe(401);
    expect((await call(f.registry, 'GET', `/devices/${oven.eid}/consents`, { apiKey: MNO_A_KEY })).status).toBe(401);
  });

  it('lists the operators without any credential of theirs', async () => {
    const reply = await call(f.registry, 'GET', '/operators', { token: alice });
    expect(reply.status).toBe(200);
    expect(reply.body.operators.map((o: { mnoId: string }) => o.mnoId)).toEqual(['mno.a', 'mno.b']);
    expect(reply.body.operators[0]).toEqual({ mnoId: 'mno.a', connected: true, acceptsTransfers: expect.any(Boolean) });
    expect(JSON.stringify(reply.body)).not.toMatch(/es2-key|apiKey|mno-a-/);
    expect((await call(f.registry, 'GET', '/operators', {})).status).toBe(401);
  });

  it("lists the device's profiles through each operator's GetEIS, without a consent; an operator failing is named", async () => {
    const oven = await ownedOven();
    f.stubs['mno.a'].answer = (c) =>
      c.fn === 'getEIS'
        ? {
            header: { functionExecutionStatus: { status: 'Executed-Success' } },
            eis: { profiles: [{ iccid: '8988299000000000099', mnoId: 'mno.a', profileType: 'demo-iot', state: 'Enabled', fallbackAttribute: false }, { iccid: '8988299000000000107', mnoId: 'mno.x', state: 'Disabled' }] },
          }
        : { header: { functionExecutionStatus: { status: 'Executed-Success' } } };
    f.stubs['mno.b'].answer = () => ({ header: { functionExecutionStatus: { status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '3.7' } } } });
    try {
      const reply = await call(f.registry, 'GET', `/devices/${oven.eid}/profiles`, { token: alice });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({
        profiles: [{ mnoId: 'mno.a', iccid: '8988299000000000099', profileType: 'demo-iot', state: 'Enabled', fallback: false }],
        unavailable: [{ mnoId: 'mno.b', reason: 'Failed 8.1.1/3.7' }],
      });
      const reads = f.es2Calls.filter((c) => c.body.eid === oven.eid && c.fn === 'getEIS');
      expect(reads.map((c) => c.mnoId).sort()).toEqual(['mno.a', 'mno.b']);
      expect(reads.every((c) => c.consent === undefined)).toBe(true);
    } finally {
      for (const mno of ['mno.a', 'mno.b'] as const) f.stubs[mno].answer = () => ({ header: { functionExecutionStatus: { status: 'Executed-Success' } } });
    }
    expect((await call(f.registry, 'GET', `/devices/${oven.eid}/profiles`, { token: bob })).body.error.code).toBe('ERR_OWNER_NOT_FOUND');
  });
});
