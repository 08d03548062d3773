/**
 * Secrets never reach the registry's log lines or its audit rows: claim codes, transfer codes, PACs,
 * owners' ID tokens and minted consent tokens (docs/owner-registry.md "Guessing": codes are hashed).
 * Runs register → claim → consent → transfer (step-up) → redeem → porting code → port, with wrong
 * codes and a forged token on the way, and searches every recorded line and audit row.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditRecord } from '../src/adapters/entities/audit.entity';
import { MNO_A_KEY, MNO_B_KEY, MAKER_KEY, call, eventually, registerOven, startFixture, tokenFor, type Fixture } from './support';

const lines: string[] = [];
const record = (...parts: unknown[]) => void lines.push(parts.map((part) => (part instanceof Error ? `${part.message} ${part.stack ?? ''}` : typeof part === 'string' ? part : JSON.stringify(part))).join(' '));
const recordingLogger = { log: record, warn: record, error: record, debug: record, verbose: record, fatal: record };

let f: Fixture;

beforeAll(async () => {
  f = await startFixture({ logger: recordingLogger });
});

afterAll(async () => {
  await f?.close();
});

/** The exact string, and for a JWT also its signature part. */
const needles = (secret: string): string[] => {
  const parts = secret.split('.');
  return parts.length === 3 ? [secret, parts[2] as string] : [secret];
};

describe('no secrets in logs or audit', () => {
  it('keeps claim codes, transfer codes, PACs, ID tokens and consent tokens out', async () => {
    const secrets: string[] = [MAKER_KEY, MNO_A_KEY, MNO_B_KEY];
    const alice = await tokenFor(f.idp, 'alice');
    const bob = await tokenFor(f.idp, 'bob');
    secrets.push(alice, bob);

    const oven = await registerOven(f.registry);
    secrets.push(oven.claimCode);
    const wrongClaim = await call(f.registry, 'POST', '/devices/claim', { token: bob, body: { deviceUrl: oven.deviceUrl, claimCode: `${oven.claimCode}-X` } });
    expect(wrongClaim.status).toBe(403);
    secrets.push(`${oven.claimCode}-X`);
    expect((await call(f.registry, 'POST', '/devices/claim', { token: alice, body: { deviceUrl: oven.deviceUrl, claimCode: oven.claimCode } })).status).toBe(201);

    const consent = await call(f.registry, 'POST', `/devices/${oven.eid}/consents`, { token: alice, body: { mnoId: 'mno.a', operations: ['EnableProfile'] } });
    expect(consent.status).toBe(201);
    secrets.push(consent.body.consent as string);

    const forged = `${alice.slice(0, alice.lastIndexOf('.'))}.${'A'.repeat(86)}`;
    expect((await call(f.registry, 'GET', `/devices/${oven.eid}`, { token: forged })).status).toBe(401);
    secrets.push(forged);

    const fresh = await tokenFor(f.idp, 'alice', { fresh: true });
    secrets.push(fresh);
    const started = await call(f.registry, 'POST', `/devices/${oven.eid}/transfers`, { token: fresh, body: { subscription: 'leave', mnoId: 'mno.a', iccid: '8988299000000000001' } });
    expect(started.status).toBe(201);
    const transferCode = started.body.transferCode as string;
    secrets.push(transferCode, `${transferCode}X`);
    expect((await call(f.registry, 'POST', '/transfers/redeem', { token: bob, body: { deviceUrl: oven.deviceUrl, transferCode: `${transferCode}X` } })).status).toBe(403);
    expect((await call(f.registry, 'POST', '/transfers/redeem', { token: bob, body: { deviceUrl: oven.deviceUrl, transferCode } })).status).toBe(200);

    const pac = await call(f.registry, 'POST', '/mno/porting-codes', { apiKey: MNO_A_KEY, body: { eid: oven.eid, iccid: '8988299000000000099' } });
    expect(pac.status).toBe(201);
    secrets.push(pac.body.pac as string, 'ZZZ999999');
    expect((await call(f.registry, 'POST', `/devices/${oven.eid}/port`, { token: bob, body: { pac: 'ZZZ999999', recipientMnoId: 'mno.b', profileType: 'm2m' } })).status).toBe(403);
    expect((await call(f.registry, 'POST', `/devices/${oven.eid}/port`, { token: bob, body: { pac: pac.body.pac, recipientMnoId: 'mno.b', profileType: 'm2m' } })).status).toBe(200);
    // The ES2 consents the registry minted on its own behalf (resale 'leave', porting).
    await eventually(() => f.es2Calls.length >= 4); // leave: disable + delete; port: download, donor delete
    for (const es2 of f.es2Calls) if (es2.consent) secrets.push(es2.consent);

    const rows = await f.registry.dataSource.getRepository(AuditRecord).find();
    expect(rows.length).toBeGreaterThan(5);
    const haystacks = [...lines.map((line) => `log: ${line}`), ...rows.map((row) => `audit: ${JSON.stringify(row)}`)];
    expect(lines.length).toBeGreaterThan(0); // the logger is wired (Nest's start-up lines at least)
    const leaks = secrets.flatMap((secret) => needles(secret).flatMap((needle) => haystacks.filter((haystack) => haystack.includes(needle)).map((haystack) => `${needle.slice(0, 12)}… in ${haystack.slice(0, 200)}`)));
    expect(leaks).toEqual([]);
  });
});
