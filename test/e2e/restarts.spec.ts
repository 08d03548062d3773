/**
 * Restarts open no window and lose nothing (docs/security.md), on the embedded broker + SQLite files and on
 * Mosquitto (shipped configuration, kept running) + PostgreSQL: the whole stack is stopped and started
 * twice on the same data (databases, card states, broker identities, sealing and consent keys, as
 * `npm start` keeps them in its data directory).
 *
 * - While the stack restarts and after, a consent-less ES2 on an owned device is refused (or finds no
 *   service at all): the services fail closed until a signed status is known, never let one through.
 * - A consent the owner minted before a restart still works after it.
 * - After two restarts a download succeeds on every demo card (same EIDs, ECASD keys and EIS).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshConsentKeys } from '@rsp/config';
import { generateTestPki } from '@rsp/pki';
import { stackPrincipals, startStack, type Stack, type StackOptions } from '../../scripts/stack';
import { secureMosquittoSkipReason, startSecureMosquitto, type TestBroker } from '../support/brokers';
import { realService } from '../support/real-services';
import { apiClient, OwnerClient } from './owner-support';
import { eventually, MnoClient, type ExecutionStatus } from './support';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const mosquittoSkip = secureMosquittoSkipReason();
const postgres = await realService('database');
const ALL_OPS = ['DownloadProfile', 'EnableProfile', 'DisableProfile', 'DeleteProfile'];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function suite(kind: 'embedded' | 'real') {
  const available = kind === 'embedded' || (mosquittoSkip === undefined && postgres.url !== undefined);
  (available ? describe : describe.skip)(`restarts on ${kind === 'embedded' ? 'aedes + SQLite files' : 'Mosquitto + PostgreSQL'}`, () => {
    const SMSR_ID = `smsr.restarts-${kind}`;
    const makerKey = randomBytes(16).toString('hex');
    const apiKey = randomBytes(16).toString('hex');
    let dir: string;
    let mosquitto: TestBroker | undefined;
    let options: StackOptions;
    let stack: Stack | undefined;
    let oven: string;
    let bbq: string;
    let consent: string;
    const mnoOf = (s: Stack, withConsent?: string) => Object.assign(new MnoClient('mno.a', apiKey, s.smdp.httpUrl, s.smsr.httpUrl), withConsent ? { consent: withConsent } : {});
    const download = (s: Stack, eid: string, withConsent?: string) =>
      mnoOf(s, withConsent).es2('downloadProfile', { eid, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: true });
    const CONSENT_MISSING = { status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '1.2' } };
    /** Before the registry answers, the services refuse with "owner status of the EID unavailable" (fail closed). */
    const STATUS_UNAVAILABLE = { status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '3.7' } };
    const expectRefusedWhileRestarting = (outcome: ExecutionStatus) =>
      expect(outcome).toMatchObject(outcome.statusCodeData?.reasonCode === STATUS_UNAVAILABLE.statusCodeData.reasonCode ? STATUS_UNAVAILABLE : CONSENT_MISSING);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `rsp-restarts-${kind}-`));
      const firstSerial = 52_000_000 + (kind === 'embedded' ? 0 : 100);
      options = {
        pki,
        database: kind === 'real' ? { kind: 'postgres', url: postgres.url as string, schemaPrefix: `rst_${randomBytes(4).toString('hex')}_` } : { kind: 'sqlite', dir },
        ids: { smsrId: SMSR_ID, smdpId: `smdp.restarts-${kind}` },
        mnos: [{ mnoId: 'mno.a', apiKey }],
        devices: [
          { model: 'oven', count: 1, firstSerial },
          { model: 'bbq', count: 1, firstSerial: firstSerial + 1 },
        ],
        // What npm start keeps in its data directory: keys, card states, broker identities; fixed ports.
        secretBoxKeys: `k1:${randomBytes(32).toString('base64')}`,
        cardStateDir: join(dir, 'cards'),
        mqttCredentialsDir: join(dir, 'mqtt'),
        smdpHttpPort: await freePort(),
        smsrHttpPort: await freePort(),
        owners: { registryUrl: `https://owners.restarts-${kind}.test`, makers: [{ makerId: 'oven-maker', makerDomain: 'oven-maker.example', apiKey: makerKey }], consentKeys: freshConsentKeys() },
        logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      };
      if (kind === 'real') {
        mosquitto = await startSecureMosquitto({ principals: stackPrincipals(options), pki });
        options.mqttUrl = mosquitto.url;
      } else {
        options.mqttPort = await freePort();
      }
      stack = await startStack(options);
      [oven, bbq] = stack.eids as [string, string];
      await mnoOf(stack).stock('a-iot', 10, kind === 'embedded' ? '8949061' : '8949062');
      const registryUrl = (stack.registry as NonNullable<Stack['registry']>).httpUrl;
      const claimCode = `CLAIM-${randomBytes(3).toString('hex').toUpperCase()}`;
      const made = await apiClient(registryUrl, makerKey).post('/makers/devices', { eid: oven, deviceId: `oven-restarts-${kind}`, model: 'oven-x1', claimCode });
      expect(made.status).toBe(201);
      const token = await (stack.idp as NonNullable<Stack['idp']>).issueIdToken({ sub: 'alice', aud: 'owner-portal', authTime: Math.floor(Date.now() / 1000), amr: ['pwd'] });
      const alice = new OwnerClient(registryUrl, token);
      expect((await alice.post('/devices/claim', { deviceUrl: made.body.deviceUrl, claimCode })).status).toBe(201);
      await eventually(() => stack?.smdp.deviceStatuses?.get(oven)?.owned, (owned) => owned === true);
      consent = (await alice.post(`/devices/${oven}/consents`, { mnoId: 'mno.a', operations: ALL_OPS, expiresInSeconds: 3600 })).body.consent as string;
      expect(typeof consent).toBe('string');
    }, 120_000);

    afterAll(async () => {
      await stack?.close();
      await mosquitto?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Stops the stack, then fires consent-less ES2 calls at the SM-DP's port while it starts again. */
    async function restartUnderFire(): Promise<Array<ExecutionStatus | 'no service'>> {
      await stack?.close();
      stack = undefined;
      const outcomes: Array<ExecutionStatus | 'no service'> = [];
      let starting = true;
      const smdpUrl = `http://127.0.0.1:${options.smdpHttpPort}`;
      const fire = async (): Promise<void> => {
        while (starting) {
          const client = new MnoClient('mno.a', apiKey, smdpUrl, smdpUrl);
          outcomes.push(
            await client.es2('downloadProfile', { eid: oven, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: true }).then(
              (result) => result.header.functionExecutionStatus,
              () => 'no service' as const,
            ),
          );
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      };
      const firing = Promise.all([fire(), fire()]);
      try {
        stack = await startStack(options);
      } finally {
        // A few more calls right after the start, before the registry's statuses could have been republished.
        await new Promise((resolve) => setTimeout(resolve, 50));
        starting = false;
        await firing;
      }
      return outcomes;
    }

    it('during and after a stack restart a consent-less ES2 on the owned oven is refused; the consent minted before still works', async () => {
      const outcomes = await restartUnderFire();
      const answered = outcomes.filter((outcome): outcome is ExecutionStatus => outcome !== 'no service');
      expect(answered.length).toBeGreaterThan(0);
      for (const outcome of answered) expectRefusedWhileRestarting(outcome);
      const live = stack as Stack;
      expect((await download(live, oven)).header.functionExecutionStatus).toMatchObject(CONSENT_MISSING);
      const withConsent = await download(live, oven, consent);
      expect(withConsent.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    }, 120_000);

    it('after a second restart a download succeeds on every demo card (same identities), the owned one still needs its consent', async () => {
      const ecasd = (s: Stack, eid: string) => s.fleetOf(eid).ecasdCertificate(eid)?.toString('hex');
      const before = { oven: ecasd(stack as Stack, oven), bbq: ecasd(stack as Stack, bbq) };
      const outcomes = await restartUnderFire();
      for (const outcome of outcomes) if (outcome !== 'no service') expectRefusedWhileRestarting(outcome);
      const live = stack as Stack;
      expect(live.eids).toEqual([oven, bbq]);
      expect({ oven: ecasd(live, oven), bbq: ecasd(live, bbq) }).toEqual(before);
      expect((await download(live, oven, consent)).header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
      expect((await download(live, bbq)).header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    }, 120_000);

    it("after a restart, the SM-SR still records an ES2 enable of a profile downloaded before it under the MNO, with the card's scripts", async () => {
      const before = stack as Stack;
      const downloaded = await mnoOf(before).es2('downloadProfile', { eid: bbq, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: false });
      expect(downloaded.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
      await stack?.close();
      stack = await startStack(options);
      const live = stack;
      const callId = `enable-after-restart-${kind}`;
      const enabled = await mnoOf(live).es2('enableProfile', { eid: bbq, smsrId: SMSR_ID, iccid: downloaded.iccid }, { functionCallIdentifier: callId });
      expect(enabled.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
      const read = async (url: string) => (await fetch(url, { headers: { 'x-api-key': apiKey } })).json() as Promise<{ hops: Array<{ interface: string; kind: string; label: string; correlationId?: string; to: string }> }>;
      const es3 = (await read(`${live.smdp.httpUrl}/transactions/${callId}`)).hops.find((hop) => hop.interface === 'ES3' && hop.kind === 'request');
      expect(es3).toMatchObject({ label: 'EnableProfile', correlationId: expect.any(String) });
      const atSmsr = await read(`${live.smsr.httpUrl}/transactions/${encodeURIComponent(es3?.correlationId as string)}`);
      expect(atSmsr).toMatchObject({ interface: 'ES3', functionName: 'EnableProfile', status: 'Executed-Success' });
      expect(atSmsr.hops.filter((hop) => hop.to === 'eUICC').map((hop) => hop.interface)).toContain('ES5'); // the card's enable script
    }, 120_000);
  });
}

suite('embedded');
suite('real');
