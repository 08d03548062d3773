/**
 * The owner-identity binding end to end, on real virtual eUICCs: OIDC owners (dev IdP), the owner
 * registry, and the SM-DP / SM-SR enforcing owner consents and quarantine on ES2 / ES4 — on aedes +
 * SQLite and on Mosquitto + PostgreSQL. docs/owner-registry.md is the contract.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { enabledIsdp, type CardState } from '@rsp/card';
import { generateTestPki } from '@rsp/pki';
import { AuditRecord } from '../../apps/owner-registry/src/adapters/entities/audit.entity';
import { startDevIdp } from '../../apps/owner-registry/src/dev-idp/dev-idp';
import type { Stack } from '../../scripts/stack';
import { secureMosquittoSkipReason } from '../support/brokers';
import { realService } from '../support/real-services';
import { apiClient, OwnerClient } from './owner-support';
import { eventually, MnoClient, startE2eStack } from './support';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const mosquittoSkip = secureMosquittoSkipReason();
const postgres = await realService('database');
const ALL_OPS = ['DownloadProfile', 'EnableProfile', 'DisableProfile', 'DeleteProfile'];
const MAKER_KEY = randomBytes(16).toString('hex');

function iccidsOn(state: CardState): string[] {
  return state.isdps.flatMap((isdp) => (isdp.profile ? [isdp.profile.iccid] : []));
}

function suite(kind: 'embedded' | 'real') {
  const available = kind === 'embedded' || (mosquittoSkip === undefined && postgres.url !== undefined);
  // Own SM-SR / SM-DP ids: test runs sharing one broker never answer each other's ES3 requests.
  const SMSR_ID = `smsr.${kind}-${process.pid}`;
  (available ? describe : describe.skip)(`owner-identity binding end to end on ${kind === 'embedded' ? 'aedes + SQLite' : 'Mosquitto + PostgreSQL'}`, () => {
    let stack: Stack;
    let mnoA: MnoClient;
    let mnoB: MnoClient;
    const ovens: Array<{ eid: string; deviceUrl: string; claimCode: string }> = [];
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    const token = (sub: string, options: { fresh?: boolean; aud?: string; expiresInSeconds?: number; iat?: number } = {}) =>
      (stack.idp as NonNullable<Stack['idp']>).issueIdToken({
        sub,
        aud: options.aud ?? 'owner-portal',
        authTime: options.fresh ? nowSeconds() : nowSeconds() - 3600,
        amr: ['pwd'],
        ...(options.expiresInSeconds === undefined ? {} : { expiresInSeconds: options.expiresInSeconds }),
        ...(options.iat === undefined ? {} : { iat: options.iat }),
      });
    const owner = async (sub: string, fresh = false) => new OwnerClient((stack.registry as NonNullable<Stack['registry']>).httpUrl, await token(sub, { fresh }));
    const card = (eid: string) => stack.fleetOf(eid).pool.snapshot(eid);
    const statusSeen = (eid: string, accept: (status: { owned: boolean; status: string; consentEpoch: number } | undefined) => boolean) =>
      eventually(
        () => [stack.smdp.deviceStatuses?.get(eid), stack.smsr.deviceStatuses?.get(eid)] as const,
        ([dp, sr]) => accept(dp) && accept(sr),
      );
    const consentFor = async (client: OwnerClient, eid: string, mnoId: string, operations = ALL_OPS) => {
      const reply = await client.post(`/devices/${eid}/consents`, { mnoId, operations, expiresInSeconds: 600 });
      expect(reply.status).toBe(201);
      return reply.body as { consent: string; jti: string };
    };

    beforeAll(async () => {
      const keyA = randomBytes(16).toString('hex');
      const keyB = randomBytes(16).toString('hex');
      stack = await startE2eStack(kind, {
        pki,
        database: kind === 'real' ? { kind: 'postgres', url: postgres.url as string, schemaPrefix: `own_${randomBytes(4).toString('hex')}_` } : { kind: 'sqlite-memory' },
        ids: { smsrId: SMSR_ID, smdpId: `smdp.${kind}-${process.pid}` },
        mnos: [
          { mnoId: 'mno.a', apiKey: keyA },
          { mnoId: 'mno.b', apiKey: keyB },
        ],
        devices: [{ model: 'oven', count: 3, firstSerial: 40_000_000 + (kind === 'embedded' ? 0 : 1000) + (process.pid % 400) * 2 }],
        owners: { registryUrl: 'https://owners.rsp.test', makers: [{ makerId: 'oven-maker', makerDomain: 'oven-maker.example', apiKey: MAKER_KEY }] },
        logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      });
      mnoA = new MnoClient('mno.a', keyA, stack.smdp.httpUrl, stack.smsr.httpUrl);
      mnoB = new MnoClient('mno.b', keyB, stack.smdp.httpUrl, stack.smsr.httpUrl);
      const prefix = kind === 'embedded' ? '894902' : '894903';
      await mnoA.stock('a-iot', 4, `${prefix}1`);
      await mnoB.stock('b-iot', 3, `${prefix}2`);
      await mnoB.inventory('profileTypes', { name: 'b-empty' }); // a profile type with no subscriptions: its downloads fail
      const maker = apiClient((stack.registry as NonNullable<Stack['registry']>).httpUrl, MAKER_KEY);
      for (const [index, eid] of stack.eids.entries()) {
        const claimCode = `CLAIM-${randomBytes(3).toString('hex').toUpperCase()}`;
        const reply = await maker.post('/makers/devices', { eid, deviceId: `oven-${kind}-${index}`, model: 'oven-x1', claimCode });
        expect(reply.status).toBe(201);
        ovens.push({ eid, deviceUrl: reply.body.deviceUrl as string, claimCode });
      }
    }, 90_000);

    afterAll(async () => stack?.close());

    it('claim: alice claims the oven and consents to MNO-A, which downloads and enables; MNO-B without consent is refused', async () => {
      const oven = ovens[0] as (typeof ovens)[0];
      const alice = await owner('alice');
      expect((await alice.post('/devices/claim', { deviceUrl: oven.deviceUrl, claimCode: oven.claimCode })).status).toBe(201);
      await statusSeen(oven.eid, (s) => s?.owned === true);

      const params = { eid: oven.eid, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: true };
      const without = await mnoA.es2('downloadProfile', params);
      expect(without.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '1.2' } });

      const consentA = await consentFor(alice, oven.eid, 'mno.a');
      mnoA.consent = consentA.consent;
      const download = await mnoA.es2('downloadProfile', params);
      expect(download.header.functionExecutionStatus.status).toBe('Executed-Success');
      expect(enabledIsdp(card(oven.eid))?.profile?.iccid).toBe(download.iccid);

      const before = iccidsOn(card(oven.eid));
      const refused = await mnoB.es2('downloadProfile', { ...params, profileType: 'b-iot' });
      expect(refused.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '1.2' } });
      // A replayed consent: MNO-B presents the one alice gave MNO-A.
      mnoB.consent = consentA.consent;
      const replayed = await mnoB.es2('downloadProfile', { ...params, profileType: 'b-iot' });
      expect(replayed.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '6.1' } });
      const es4Replay = await mnoB.es4('disableProfile', { eid: oven.eid, iccid: download.iccid as string });
      expect(es4Replay.header.functionExecutionStatus.status).toBe('Failed');
      mnoB.consent = undefined;
      expect(iccidsOn(card(oven.eid))).toEqual(before);
    });

    it('resale: step-up, one redemption, the seller and her admin lose everything, her settings follow her', async () => {
      const oven = ovens[0] as (typeof ovens)[0];
      const alice = await owner('alice');
      const issuer = (stack.idp as NonNullable<Stack['idp']>).issuer;
      expect((await alice.post(`/devices/${oven.eid}/grants`, { iss: issuer, sub: 'carol', role: 'admin' })).status).toBe(201);
      expect((await alice.put(`/devices/${oven.eid}/settings`, { temperatureUnit: 'C', presets: [180, 220] })).status).toBe(200);
      const enabled = enabledIsdp(card(oven.eid))?.profile?.iccid as string;
      const oldConsent = mnoA.consent as string;

      const stale = await alice.post(`/devices/${oven.eid}/transfers`, { subscription: 'leave', mnoId: 'mno.a', iccid: enabled });
      expect(stale.status).toBe(401);
      expect(stale.body.error?.code).toBe('ERR_IDENTITY_STEP_UP_REQUIRED');
      const freshAlice = await owner('alice', true);
      const started = await freshAlice.post(`/devices/${oven.eid}/transfers`, { subscription: 'leave', mnoId: 'mno.a', iccid: enabled });
      expect(started.status).toBe(201);
      const transferCode = started.body.transferCode as string;

      const bob = await owner('bob');
      const redeemed = await bob.post('/transfers/redeem', { deviceUrl: oven.deviceUrl, transferCode });
      expect(redeemed.status).toBe(200);
      await statusSeen(oven.eid, (s) => s?.consentEpoch === 1);

      // Alice and her admin are refused everywhere: the API, and ES2 / ES4 with her old consent.
      expect((await alice.get(`/devices/${oven.eid}`)).status).toBe(404);
      expect((await (await owner('carol')).get(`/devices/${oven.eid}`)).status).toBe(404);
      expect((await alice.post(`/devices/${oven.eid}/consents`, { mnoId: 'mno.a', operations: ALL_OPS })).status).toBe(404);
      mnoA.consent = oldConsent;
      const withOld = await mnoA.es2('downloadProfile', { eid: oven.eid, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: true });
      expect(withOld.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '6.1' } });
      const es4Old = await mnoA.es4('enableProfile', { eid: oven.eid, iccid: enabled });
      expect(es4Old.header.functionExecutionStatus.status).toBe('Failed');

      // The subscription left with the seller: her MNO disabled and deleted it, the card fell back.
      const after = await eventually(() => iccidsOn(card(oven.eid)), (list) => !list.includes(enabled), 15_000);
      expect(after).not.toContain(enabled);
      expect(enabledIsdp(card(oven.eid))?.profile?.iccid).toBeDefined();

      const second = await (await owner('dave')).post('/transfers/redeem', { deviceUrl: oven.deviceUrl, transferCode });
      expect(second.status).toBe(403);

      const snapshots = await alice.get('/me/settings-snapshots');
      const snapshot = (snapshots.body.snapshots as Array<{ id: string; sourceDeviceUrl: string; settings: unknown }>).find((s) => s.sourceDeviceUrl === oven.deviceUrl);
      expect(snapshot?.settings).toEqual({ temperatureUnit: 'C', presets: [180, 220] });
      const next = ovens[1] as (typeof ovens)[0];
      expect((await alice.post('/devices/claim', { deviceUrl: next.deviceUrl, claimCode: next.claimCode })).status).toBe(201);
      expect((await alice.post(`/devices/${next.eid}/settings/apply`, { snapshotId: snapshot?.id })).status).toBe(200);
      expect((await alice.get(`/devices/${next.eid}`)).body.settings).toEqual({ temperatureUnit: 'C', presets: [180, 220] });
    });

    it('porting: bob moves from MNO-A to MNO-B keeping his grants; a failing enable keeps the old profile', async () => {
      const oven = ovens[0] as (typeof ovens)[0];
      const bob = await owner('bob');
      mnoA.consent = (await consentFor(bob, oven.eid, 'mno.a')).consent;
      const onA = await mnoA.es2('downloadProfile', { eid: oven.eid, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: true });
      expect(onA.header.functionExecutionStatus.status).toBe('Executed-Success');
      const donorIccid = onA.iccid as string;
      const grantsBefore = (await bob.get(`/devices/${oven.eid}`)).body.grants;
      const donor = apiClient((stack.registry as NonNullable<Stack['registry']>).httpUrl, mnoA.apiKey);

      // A port whose enable fails (the recipient has no subscription of that type): nothing is deleted.
      const pacFail = await donor.post('/mno/porting-codes', { eid: oven.eid, iccid: donorIccid });
      expect(pacFail.status).toBe(201);
      const failed = await bob.post(`/devices/${oven.eid}/port`, { pac: pacFail.body.pac, recipientMnoId: 'mno.b', profileType: 'b-empty' });
      expect(JSON.stringify(failed.body)).toMatch(/Failed/);
      expect(enabledIsdp(card(oven.eid))?.profile?.iccid).toBe(donorIccid);

      const ported = await bob.post(`/devices/${oven.eid}/port`, { pac: pacFail.body.pac, recipientMnoId: 'mno.b', profileType: 'b-iot' });
      expect(ported.status).toBe(200);
      const enabledNow = await eventually(() => enabledIsdp(card(oven.eid))?.profile?.iccid, (iccid) => iccid !== donorIccid);
      expect(enabledNow).not.toBe(donorIccid);
      await eventually(() => iccidsOn(card(oven.eid)), (list) => !list.includes(donorIccid), 15_000);
      expect(iccidsOn(card(oven.eid))).not.toContain(donorIccid);
      expect((await bob.get(`/devices/${oven.eid}`)).body.grants).toEqual(grantsBefore);
    });

    it('quarantine: a suspended device refuses enable and download; reinstating needs step-up', async () => {
      const oven = ovens[0] as (typeof ovens)[0];
      const bob = await owner('bob');
      mnoB.consent = (await consentFor(bob, oven.eid, 'mno.b')).consent;
      expect((await bob.post(`/devices/${oven.eid}/suspend`, { reason: 'stolen' })).status).toBe(200);
      await statusSeen(oven.eid, (s) => s?.status === 'Suspended');
      const before = iccidsOn(card(oven.eid));
      const download = await mnoB.es2('downloadProfile', { eid: oven.eid, smsrId: SMSR_ID, profileType: 'b-iot', enableProfile: true });
      expect(download.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1', reasonCode: '3.8' } });
      const bootstrap = card(oven.eid).isdps.find((isdp) => isdp.fallback)?.profile?.iccid as string;
      const enable = await mnoB.es4('enableProfile', { eid: oven.eid, iccid: bootstrap });
      expect(enable.header.functionExecutionStatus.status).toBe('Failed');
      expect(iccidsOn(card(oven.eid))).toEqual(before);

      expect((await bob.post(`/devices/${oven.eid}/reinstate`, {})).status).toBe(401);
      expect((await (await owner('bob', true)).post(`/devices/${oven.eid}/reinstate`, {})).status).toBe(200);
      await statusSeen(oven.eid, (s) => s?.status === 'Active');
    });

    it('abuse: bad tokens, guessed transfer codes and a revoked consent are refused and audited', async () => {
      const registry = stack.registry as NonNullable<Stack['registry']>;
      const call = (bearer: string) => new OwnerClient(registry.httpUrl, bearer).get('/me/devices');
      const expired = await call(await token('alice', { iat: nowSeconds() - 7200, expiresInSeconds: 60 }));
      expect(expired.body.error?.code).toBe('ERR_IDENTITY_TOKEN_EXPIRED');
      const wrongAudience = await call(await token('alice', { aud: 'someone-else' }));
      expect(wrongAudience.body.error?.code).toBe('ERR_IDENTITY_AUDIENCE_MISMATCH');
      const rogueIdp = await startDevIdp({ port: 0 });
      try {
        const untrusted = await call(await rogueIdp.issueIdToken({ sub: 'alice', aud: 'owner-portal', authTime: nowSeconds() }));
        expect(untrusted.body.error?.code).toBe('ERR_IDENTITY_UNTRUSTED_ISSUER');
      } finally {
        await rogueIdp.close();
      }

      const oven = ovens[2] as (typeof ovens)[0];
      const erin = await owner('erin');
      expect((await erin.post('/devices/claim', { deviceUrl: oven.deviceUrl, claimCode: oven.claimCode })).status).toBe(201);
      const started = await (await owner('erin', true)).post(`/devices/${oven.eid}/transfers`, { subscription: 'leave' });
      expect(started.status).toBe(201);
      const mallory = await owner('mallory');
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 6; attempt += 1) {
        statuses.push((await mallory.post('/transfers/redeem', { deviceUrl: oven.deviceUrl, transferCode: `GUES-SCOD-E00${attempt}` })).status);
      }
      expect(statuses).toEqual([403, 403, 403, 403, 403, 429]);

      const consent = await consentFor(erin, oven.eid, 'mno.a');
      expect((await erin.delete(`/consents/${consent.jti}`)).status).toBe(200);
      await eventually(() => stack.smdp.deviceStatuses?.get(oven.eid)?.revokedConsents.includes(consent.jti), (seen) => seen === true);
      mnoA.consent = consent.consent;
      const revoked = await mnoA.es2('downloadProfile', { eid: oven.eid, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: false });
      expect(revoked.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '6.1' } });

      const audit = registry.dataSource.getRepository(AuditRecord);
      const outcomes = (await audit.find()).map((row) => row.outcome);
      expect(outcomes).toEqual(
        expect.arrayContaining(['ERR_IDENTITY_TOKEN_EXPIRED', 'ERR_IDENTITY_AUDIENCE_MISMATCH', 'ERR_IDENTITY_UNTRUSTED_ISSUER', 'ERR_OWNER_TRANSFER_CODE_INVALID', 'ERR_OWNER_RATE_LIMITED']),
      );
    });
  });
}

suite('embedded');
suite('real');
