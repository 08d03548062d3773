/**
 * The whole product end to end, on both stacks: aedes + SQLite (the embedded defaults) and Mosquitto +
 * PostgreSQL (what production runs). An MNO downloads, enables, disables and deletes profiles on virtual
 * eUICCs through ES2; the SM-DP runs Scenario#3 and SCP03t through the SM-SR's ES3 / ES5 over MQTT; a
 * network attach with the MNO's own subscriber record proves the installed credentials; notifications
 * reach the MNO's webhook. Failures end Failed / Expired with SGP.02 codes and a consistent card.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enabledIsdp, type CardState } from '@rsp/card';
import { generateTestPki } from '@rsp/pki';
import { runRsp } from '../../cli/rsp';
import { startSmDp } from '../../apps/sm-dp/src/app';
import type { Stack } from '../../scripts/stack';
import { principal } from '../support/brokers';
import { attachWithSubscriber } from '../../simulator/src/network';
import { realService } from '../support/real-services';
import { secureMosquittoSkipReason } from '../support/brokers';
import { eventually, MnoClient, recordMqtt, startE2eStack, startWebhookServer, type WebhookServer } from './support';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
/** Another CI's PKI: its SM-DP certificate is one the cards' CI never issued. */
const foreignPki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const mosquittoSkip = secureMosquittoSkipReason();
const postgres = await realService('database');

type StackKind = 'embedded' | 'real';

function iccidsOn(state: CardState): string[] {
  return state.isdps.flatMap((isdp) => (isdp.profile ? [isdp.profile.iccid] : []));
}

function suite(kind: StackKind) {
  const available = kind === 'embedded' || (mosquittoSkip === undefined && postgres.url !== undefined);
  // Own SM-SR / SM-DP ids, though each stack has its own broker (a private Mosquitto for 'real').
  const SMSR_ID = `smsr.${kind}-${process.pid}`;
  (available ? describe : describe.skip)(`provisioning end to end on ${kind === 'embedded' ? 'aedes + SQLite' : 'Mosquitto + PostgreSQL'}`, () => {
    let stack: Stack;
    let webhook: WebhookServer;
    let mnoA: MnoClient;
    let mnoB: MnoClient;
    let stockA: Array<{ iccid: string; imsi: string; ki: string; opc: string }>;
    let stockB: Array<{ iccid: string; imsi: string; ki: string; opc: string }>;
    let mqttRecord: Awaited<ReturnType<typeof recordMqtt>>;
    const logLines: string[] = [];
    const logger = {
      log: (message: string) => void logLines.push(message),
      warn: (message: string) => void logLines.push(message),
      error: (message: string) => void logLines.push(message),
      verbose: (message: string) => void logLines.push(message),
      debug: (message: string) => void logLines.push(message),
    };
    const firstSerial = 60_000_000 + (kind === 'embedded' ? 0 : 1000) + (process.pid % 500) * 2;

    beforeAll(async () => {
      webhook = await startWebhookServer();
      const keyA = randomBytes(16).toString('hex');
      const keyB = randomBytes(16).toString('hex');
      stack = await startE2eStack(kind, {
        pki,
        extraPrincipals: [principal('smdp.rogue', 'sm-dp')],
        database:
          kind === 'real'
            ? { kind: 'postgres', url: postgres.url as string, schemaPrefix: `e2e_${randomBytes(4).toString('hex')}_` }
            : { kind: 'sqlite-memory' },
        ids: { smsrId: SMSR_ID, smdpId: `smdp.${kind}-${process.pid}` },
        mnos: [
          { mnoId: 'mno.a', apiKey: keyA, webhookUrl: webhook.url },
          { mnoId: 'mno.b', apiKey: keyB },
        ],
        devices: [{ model: 'oven', count: 4, firstSerial }],
        logger,
      });
      mqttRecord = await recordMqtt(stack);
      mnoA = new MnoClient('mno.a', keyA, stack.smdp.httpUrl, stack.smsr.httpUrl);
      mnoB = new MnoClient('mno.b', keyB, stack.smdp.httpUrl, stack.smsr.httpUrl);
      const prefix = kind === 'embedded' ? '894900' : '894901';
      stockA = await mnoA.stock('a-iot', 6, `${prefix}1`);
      stockB = await mnoB.stock('b-iot', 2, `${prefix}2`);
    }, 60_000);

    afterAll(async () => {
      await mqttRecord?.close();
      await stack?.close();
      await webhook?.close();
    });

    const card = (eid: string) => stack.fleetOf(eid).pool.snapshot(eid);
    const subscriber = (record: { imsi: string; ki: string; opc: string }) => ({
      imsi: record.imsi,
      ki: Buffer.from(record.ki, 'hex'),
      opc: Buffer.from(record.opc, 'hex'),
    });

    it('downloads and enables a profile, attaches with the MNO record, disables, replaces and deletes it', async () => {
      const eid = stack.eids[0] as string;
      const [first, second] = stockA as [(typeof stockA)[0], (typeof stockA)[0]];

      const download = await mnoA.es2('downloadProfile', { eid, smsrId: SMSR_ID, iccid: first.iccid, enableProfile: true });
      expect(download.header.functionExecutionStatus.status).toBe('Executed-Success');
      expect(enabledIsdp(card(eid))?.profile?.iccid).toBe(first.iccid);

      const transmit = (apdu: Uint8Array) => stack.fleetOf(eid).transmit(eid, apdu);
      expect(attachWithSubscriber(transmit, subscriber(first))).toBe('attached');
      expect(attachWithSubscriber(transmit, { ...subscriber(first), ki: randomBytes(16) })).toBe('authentication-failed');

      const disabled = await mnoA.es2('disableProfile', { eid, smsrId: SMSR_ID, iccid: first.iccid });
      expect(disabled.header.functionExecutionStatus.status).toBe('Executed-Success');
      expect(enabledIsdp(card(eid))?.profile?.iccid).not.toBe(first.iccid);

      const replacement = await mnoA.es2('downloadProfile', { eid, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: true });
      expect(replacement.header.functionExecutionStatus.status).toBe('Executed-Success');
      const replacementIccid = replacement.iccid as string;
      expect(replacementIccid).not.toBe(first.iccid);
      expect(enabledIsdp(card(eid))?.profile?.iccid).toBe(replacementIccid);
      const record = stockA.find((s) => s.iccid === replacementIccid) ?? second;
      expect(attachWithSubscriber(transmit, subscriber(record))).toBe('attached');

      const deleted = await mnoA.es2('deleteProfile', { eid, smsrId: SMSR_ID, iccid: first.iccid });
      expect(deleted.header.functionExecutionStatus.status).toBe('Executed-Success');
      expect(iccidsOn(card(eid))).not.toContain(first.iccid);
      expect(iccidsOn(card(eid))).toContain(replacementIccid);

      // The ES2 notifications reach the MNO's webhook (delivered from the SM-DP's outbox).
      const seen = await eventually(
        () => webhook.received.map((n) => `${n.function}:${String(n.body?.iccid)}`),
        (list) => list.includes(`HandleProfileDeletedNotification:${first.iccid}`),
      );
      expect(seen).toEqual(expect.arrayContaining([`HandleProfileEnabledNotification:${first.iccid}`, `HandleProfileDeletedNotification:${first.iccid}`]));
      // Once each on ES2: the download's enable is the SM-SR's ES3 notification, forwarded, and nothing of the flow's own.
      const onEs2 = (fn: string, iccid: string) => webhook.received.filter((n) => n.interface === 'ES2' && n.function === fn && n.body?.iccid === iccid).length;
      expect(onEs2('HandleProfileEnabledNotification', first.iccid)).toBe(1);
      expect(onEs2('HandleProfileEnabledNotification', replacementIccid)).toBe(1);
    });

    it('answers an unknown EID with Failed 8.1.1', async () => {
      const unknownEid = '89049032123451234512345678901235' === stack.eids[0] ? '89049032000000000000000000000094' : '89049032123451234512345678901235';
      const result = await mnoA.es2('downloadProfile', { eid: unknownEid, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: false });
      expect(result.header.functionExecutionStatus.status).toBe('Failed');
      expect(result.header.functionExecutionStatus.statusCodeData?.subjectCode).toBe('8.1.1');
    });

    it("refuses another MNO's ICCID and leaves the card untouched", async () => {
      const eid = stack.eids[1] as string;
      const before = iccidsOn(card(eid));
      const result = await mnoA.es2('downloadProfile', { eid, smsrId: SMSR_ID, iccid: (stockB[0] as { iccid: string }).iccid, enableProfile: true });
      expect(result.header.functionExecutionStatus.status).toBe('Failed');
      expect(result.header.functionExecutionStatus.statusCodeData?.subjectCode).toBe('8.2.1');
      expect(iccidsOn(card(eid))).toEqual(before);
    });

    it('replays a repeated functionCallIdentifier without a second download, and refuses it with other parameters', async () => {
      const eid = stack.eids[1] as string;
      const callId = randomUUID();
      const params = { eid, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: false };
      const first = await mnoA.es2('downloadProfile', params, { functionCallIdentifier: callId });
      expect(first.header.functionExecutionStatus.status).toBe('Executed-Success');
      const profilesAfterFirst = iccidsOn(card(eid)).length;
      const again = await mnoA.es2('downloadProfile', params, { functionCallIdentifier: callId });
      expect(again).toEqual(first);
      expect(iccidsOn(card(eid)).length).toBe(profilesAfterFirst);
      const different = await mnoA.es2('downloadProfile', { ...params, enableProfile: true }, { functionCallIdentifier: callId });
      expect(different.header.functionExecutionStatus.status).toBe('Failed');
    });

    it('ends Expired when the device stays offline until the validityPeriod runs out, and leaves no half profile', async () => {
      const eid = stack.eids[2] as string;
      const before = iccidsOn(card(eid));
      const fleet = stack.fleetOf(eid);
      fleet.device(eid)?.setConnectivity({ wifi: false, cellular: false }); // no path to the SM-SR: ES5 commands are lost
      try {
        const result = await mnoA.es2('downloadProfile', { eid, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: true }, { validityPeriod: 2 });
        expect(result.header.functionExecutionStatus.status).toBe('Expired');
      } finally {
        fleet.device(eid)?.setConnectivity({ wifi: true, cellular: true });
      }
      expect(iccidsOn(card(eid))).toEqual(before);
    });

    it('lets ES4 act only on the MNO’s own profiles', async () => {
      const eid = stack.eids[0] as string;
      const eis = await mnoB.es4('getEIS', { eid });
      expect(eis.header.functionExecutionStatus.status).toBe('Executed-Success');
      const profiles = (eis.eis as { profiles: Array<{ mnoId: string }> }).profiles;
      expect(profiles.every((p) => p.mnoId === 'mno.b')).toBe(true);
      const enabled = enabledIsdp(card(eid))?.profile?.iccid as string;
      const refused = await mnoB.es4('disableProfile', { eid, iccid: enabled });
      expect(refused.header.functionExecutionStatus.status).toBe('Failed');
      expect(enabledIsdp(card(eid))?.profile?.iccid).toBe(enabled);
    });

    it('runs the same download once through the operator CLI', async () => {
      const eid = stack.eids[3] as string;
      const output: string[] = [];
      const code = await runRsp(
        ['es2', 'download-profile', '--eid', eid, '--profile-type', 'a-iot', '--enable', '--smsr-id', SMSR_ID, '--json'],
        { stdout: (text) => void output.push(text), stderr: (text) => void output.push(text), env: { RSP_SMDP_URL: stack.smdp.httpUrl, RSP_API_KEY: mnoA.apiKey, RSP_REQUESTER_ID: 'mno.a' } },
      );
      expect(code).toBe(0);
      const body = JSON.parse(output.join('')) as { iccid: string };
      expect(enabledIsdp(card(eid))?.profile?.iccid).toBe(body.iccid);
    });

    it('stocks subscriptions through the operator CLI: Ki / OPc only in the --out file, the list, then a download of one of them', async () => {
      const env = { RSP_SMDP_URL: stack.smdp.httpUrl, RSP_API_KEY: mnoB.apiKey, RSP_REQUESTER_ID: 'mno.b' };
      const cli = async (args: string[]) => {
        const output: string[] = [];
        const code = await runRsp(args, { stdout: (text) => void output.push(text), stderr: (text) => void output.push(text), env });
        return { code, text: output.join('') };
      };
      const dir = mkdtempSync(join(tmpdir(), 'rsp-e2e-stock-'));
      try {
        const out = join(dir, 'hss.json');
        const stocked = await cli(['mno', 'stock', '--profile-type', 'b-iot', '--generate', '2', '--iccid-prefix', kind === 'embedded' ? '8949003' : '8949013', '--out', out]);
        expect(stocked.code).toBe(0);
        const records = JSON.parse(readFileSync(out, 'utf8')) as Array<{ iccid: string; imsi: string; ki: string; opc: string }>;
        expect(records).toHaveLength(2);
        for (const record of records) expect(stocked.text).not.toContain(record.ki);
        const listed = await cli(['mno', 'subscriptions', '--profile-type', 'b-iot', '--state', 'available']);
        expect(listed.code).toBe(0);
        for (const record of records) expect(listed.text).toContain(`  ${record.iccid}  available  type b-iot`);

        const eid = stack.eids[2] as string;
        const target = records[0] as (typeof records)[0];
        const download = await mnoB.es2('downloadProfile', { eid, smsrId: SMSR_ID, iccid: target.iccid, enableProfile: false });
        expect(download.header.functionExecutionStatus.status).toBe('Executed-Success');
        // The card holds the very Ki / OPc the CLI wrote for the MNO's HSS.
        const installed = card(eid).isdps.find((isdp) => isdp.profile?.iccid === target.iccid)?.profile;
        expect(installed && { ki: installed.ki, opc: installed.opc }).toEqual({ ki: target.ki.toLowerCase(), opc: target.opc.toLowerCase() });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('fails when the SM-DP certificate comes from a CI the card does not trust: the card refuses it', async () => {
      const eid = stack.eids[1] as string;
      const before = iccidsOn(card(eid));
      const rogue = await startSmDp({
        smdpId: 'smdp.rogue',
        httpPort: 0,
        mqttUrl: stack.mqttUrl,
        mqttCredentials: stack.credentialsFor('smdp.rogue'),
        databaseUrl: 'sqlite::memory:',
        ciCertificate: pki.ci.der,
        eumCertificates: [pki.eum.der],
        smdpCertificate: foreignPki.smDp.cert,
        smdpPrivateKey: foreignPki.smDp.privateKey,
        mnos: [{ mnoId: 'mno.a', apiKey: mnoA.apiKey }],
        secretBoxKeys: `k1:${randomBytes(32).toString('base64')}`,
        logger,
      });
      try {
        const rogueMno = new MnoClient('mno.a', mnoA.apiKey, rogue.httpUrl, stack.smsr.httpUrl);
        await rogueMno.stock('rogue', 1, kind === 'embedded' ? '8949003' : '8949004');
        const result = await rogueMno.es2('downloadProfile', { eid, smsrId: SMSR_ID, profileType: 'rogue', enableProfile: true });
        expect(result.header.functionExecutionStatus.status).toBe('Failed');
        expect(result.header.functionExecutionStatus.statusCodeData).toBeDefined();
      } finally {
        await rogue.close();
      }
      expect(iccidsOn(card(eid))).toEqual(before);
    });

    it('never puts a Ki, an OPc or a private key on MQTT or in a log line', async () => {
      const secrets = [
        ...[...stockA, ...stockB].flatMap((s) => [s.ki, s.opc]),
        ...[pki.smDp, pki.smSr].map((c) => c.privateKey.export({ format: 'jwk' }).d as string),
        pki.eum.privateKey.export({ format: 'jwk' }).d as string,
      ];
      const haystacks = [...mqttRecord.payloads.map((p) => p.toString('utf8')), ...mqttRecord.payloads.map((p) => p.toString('hex')), ...logLines];
      expect(mqttRecord.payloads.length).toBeGreaterThan(20);
      for (const secret of secrets) {
        const forms = [secret.toLowerCase(), secret.toUpperCase(), /^[0-9a-f]+$/i.test(secret) ? Buffer.from(secret, 'hex').toString('base64') : secret];
        for (const haystack of haystacks) for (const form of forms) expect(haystack.includes(form)).toBe(false);
      }
    });
  });
}

suite('embedded');
suite('real');
