/**
 * The registry's signed device statuses (docs/owner-registry.md "Device status"): the retained MQTT
 * payload is a JWS of the consent key; `version` grows by one in the transaction of every status change
 * and survives a restart (the start-up republication re-signs, never resets it); `GET /device-status/{eid}`
 * answers any valid EID without credentials, unknown ones with a signed "not registered" (version 0).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceStatusVerifier, VerifiedDeviceStatusCache } from '@rsp/identity';
import { openDataSource } from '@rsp/persistence';
import { AuditRecord } from '../src/adapters/entities/audit.entity';
import { ownerRegistryEntities, ownerRegistryMigrations } from '../src/adapters/persistence';
import { startOwnerRegistry } from '../src/app';
import { AUDIENCE, MAKER_KEY, call, eventually, newEid, registerOven, startFixture, tokenFor, type Fixture } from './support';

const dir = mkdtempSync(join(tmpdir(), 'rsp-owner-status-'));
const databaseUrl = `sqlite://${join(dir, 'registry.db')}`;
const consentSigningKey = { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: `consent-${randomUUID()}` };
let f: Fixture;

beforeAll(async () => {
  f = await startFixture({ databaseUrl, consentSigningKey });
});

afterAll(async () => {
  await f?.close();
  rmSync(dir, { recursive: true, force: true });
});

const versionsPublished = (eid: string) => f.statusPayloads.filter((message) => message.eid === eid).map((message) => JSON.parse(Buffer.from(message.payload.split('.')[1] as string, 'base64url').toString()).version as number);
const get = (eid: string) => fetch(`${f.registry.httpUrl}/device-status/${eid}`);

describe('signed device statuses on MQTT', () => {
  it('publishes a JWS (typ rsp-device-status+jwt, the consent kid) that verifies with the JWKS; +1 version per change, in order', async () => {
    const alice = await tokenFor(f.idp, 'alice');
    const oven = await registerOven(f.registry);
    await eventually(() => f.statuses.get(oven.eid)?.version === 1);
    expect(f.statuses.get(oven.eid)).toMatchObject({ eid: oven.eid, owned: false, status: 'Active', consentEpoch: 0, version: 1 });
    const [payload] = f.statusPayloads.filter((message) => message.eid === oven.eid).map((message) => message.payload);
    expect(JSON.parse(Buffer.from((payload as string).split('.')[0] as string, 'base64url').toString())).toEqual({ alg: 'ES256', kid: consentSigningKey.kid, typ: 'rsp-device-status+jwt' });

    expect((await call(f.registry, 'POST', '/devices/claim', { token: alice, body: { deviceUrl: oven.deviceUrl, claimCode: oven.claimCode } })).status).toBe(201);
    await eventually(() => f.statuses.get(oven.eid)?.version === 2);
    expect(f.statuses.get(oven.eid)).toMatchObject({ owned: true, version: 2 });
    const consent = await call(f.registry, 'POST', `/devices/${oven.eid}/consents`, { token: alice, body: { mnoId: 'mno.a', operations: ['EnableProfile'] } });
    expect((await call(f.registry, 'DELETE', `/consents/${consent.body.jti}`, { token: alice })).status).toBe(200);
    await eventually(() => f.statuses.get(oven.eid)?.version === 3);
    expect(f.statuses.get(oven.eid)?.revokedConsents).toEqual([consent.body.jti]);
    expect((await call(f.registry, 'POST', `/devices/${oven.eid}/suspend`, { token: alice, body: { reason: 'lost' } })).status).toBe(200);
    await eventually(() => f.statuses.get(oven.eid)?.version === 4);
    expect(f.statuses.get(oven.eid)).toMatchObject({ status: 'Suspended', version: 4 });
    // A settings change is no status change: no new version.
    expect((await call(f.registry, 'PUT', `/devices/${oven.eid}/settings`, { token: alice, body: { temperature: 180 } })).status).toBe(200);
    const [row] = (await f.registry.dataSource.query(`SELECT status_version FROM owner_device WHERE eid = ?`, [oven.eid])) as Array<{ status_version: number }>;
    expect(row?.status_version).toBe(4);
    expect(versionsPublished(oven.eid)).toEqual([1, 2, 3, 4]);
  });
});

describe('GET /device-status/{eid}', () => {
  it('answers the current signed document of a known device, without credentials, never cached, no audit row', async () => {
    const oven = await registerOven(f.registry);
    const auditBefore = await f.registry.dataSource.getRepository(AuditRecord).count();
    const response = await get(oven.eid);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/jwt/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const verifier = new DeviceStatusVerifier({ issuer: f.registry.registryUrl, jwks: f.registry.jwksUrl });
    expect(await verifier.verify(await response.text(), oven.eid)).toMatchObject({ eid: oven.eid, owned: false, version: 1 });
    expect(await f.registry.dataSource.getRepository(AuditRecord).count()).toBe(auditBefore);
  });

  it('an EID the registry does not know: a signed "not registered" document (owned false, version 0), not published', async () => {
    const unknown = newEid();
    const response = await get(unknown);
    expect(response.status).toBe(200);
    const cache = new VerifiedDeviceStatusCache({ issuer: f.registry.registryUrl, jwks: f.registry.jwksUrl });
    expect(await cache.applySigned(await response.text(), unknown)).toMatchObject({
      outcome: 'accepted',
      status: { eid: unknown, owned: false, status: 'Active', consentEpoch: 0, revokedConsents: [], version: 0 },
    });
    expect(f.statusPayloads.some((message) => message.eid === unknown)).toBe(false);
  });

  it('an unknown EID is answered without a snapshot: it does not wait behind a registry transaction (SQLite runs them one at a time)', async () => {
    let release = (): void => undefined;
    const holding = f.registry.dataSource.transaction(() => new Promise<void>((resolve) => (release = resolve)));
    try {
      await new Promise((resolve) => setTimeout(resolve, 50)); // the transaction has begun
      const answered = await Promise.race([get(newEid()).then((response) => response.status), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1000))]);
      expect(answered).toBe(200);
    } finally {
      release();
      await holding;
    }
  });

  it('not an EID → 400 ERR_OWNER_BAD_REQUEST', async () => {
    const valid = newEid();
    const wrongCheckDigit = `${valid.slice(0, 31)}${(Number(valid[31]) + 1) % 10}`;
    for (const bad of ['123', wrongCheckDigit, 'jwks.json']) {
      const response = await get(bad);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('ERR_OWNER_BAD_REQUEST');
    }
  });

  it('is in the OpenAPI document', async () => {
    const document = (await (await fetch(`${f.registry.httpUrl}/docs-json`)).json()) as { paths: Record<string, { get?: { security?: unknown } }> };
    expect(document.paths['/device-status/{eid}']?.get).toBeDefined();
  });
});

// Closes the fixture's registry: keep it after the tests that use it.
describe('versions survive a restart', () => {
  it('the start-up republication re-signs the same version; the next change continues from it', async () => {
    const alice = await tokenFor(f.idp, 'alice');
    const oven = await registerOven(f.registry);
    expect((await call(f.registry, 'POST', '/devices/claim', { token: alice, body: { deviceUrl: oven.deviceUrl, claimCode: oven.claimCode } })).status).toBe(201);
    await eventually(() => f.statuses.get(oven.eid)?.version === 2);
    await f.registry.close();
    const published = f.statusPayloads.length;
    const restarted = await startOwnerRegistry({
      registryUrl: 'https://registry.test',
      httpPort: 0,
      databaseUrl,
      mqttUrl: f.broker.url,
      mqttCredentials: f.broker.credentialsFor('owner-registry'),
      trustedIssuers: [{ issuer: f.idp.issuer, audience: AUDIENCE }],
      makers: [{ makerId: 'oven-maker', makerDomain: 'oven-maker.example', apiKey: MAKER_KEY }],
      mnos: [],
      consentSigningKey,
      outboxIntervalMs: 50,
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
    });
    try {
      await eventually(() => f.statusPayloads.slice(published).some((message) => message.eid === oven.eid));
      expect(versionsPublished(oven.eid).at(-1)).toBe(2);
      expect((await call(restarted, 'POST', `/devices/${oven.eid}/suspend`, { token: alice, body: { reason: 'stolen' } })).status).toBe(200);
      await eventually(() => f.statuses.get(oven.eid)?.version === 3);
      expect(f.statuses.get(oven.eid)).toMatchObject({ status: 'Suspended', owned: true });
    } finally {
      await restarted.close();
    }
  });
});

describe('migration', () => {
  it('devices registered before status_version start at 1 (0 is "not registered")', async () => {
    const url = `sqlite://${join(dir, 'old.db')}`;
    const eid = newEid();
    const before = await openDataSource({ url, entities: ownerRegistryEntities, migrations: ownerRegistryMigrations.filter((migration) => migration.name !== 'OwnerDeviceStatusVersion1767571200000') });
    await before.query(
      `INSERT INTO owner_device (eid, maker_id, device_id, model, device_url, claim_code_hash, status, consent_epoch, settings, created_at, updated_at)
       VALUES (?, 'oven-maker', 'oven-old', 'oven-x1', 'https://registry.test/oven-maker.example/oven-old', 'x', 'Active', 0, '{}', datetime('now'), datetime('now'))`,
      [eid],
    );
    await before.destroy();
    const after = await openDataSource({ url, entities: ownerRegistryEntities, migrations: ownerRegistryMigrations });
    try {
      expect(await after.query(`SELECT status_version FROM owner_device WHERE eid = ?`, [eid])).toEqual([{ status_version: 1 }]);
    } finally {
      await after.destroy();
    }
  });
});
