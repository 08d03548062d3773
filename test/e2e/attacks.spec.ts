/**
 * The attacker's suite (docs/security.md "Threats and the checks that stop them"): on the embedded broker +
 * SQLite and on Mosquitto with the shipped configuration + PostgreSQL, each attack on a trust boundary ends
 * with a refusal carrying its code, the cards unchanged and nothing lost. Restarts have their own suite
 * (restarts.spec.ts); 40 parallel downloads too (parallel-downloads.spec.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { SignJWT } from 'jose';
import { type CardState } from '@rsp/card';
import { buildEstablishKeySetStep1, buildEstablishKeySetStep2, decodeResponseScript, encodeCommandScript, parseEstablishKeySetStep1Response } from '@rsp/offcard';
import { es3Pattern, es5CommandTopic, serviceTopic, type BrokerPrincipal } from '@rsp/contracts';
import { Scp03Host } from '@rsp/crypto';
import { deviceStatusTopic } from '@rsp/identity';
import { connectMqtt, mqttClientOptions, RspRequester } from '@rsp/mqtt-transport';
import { DEMO_EID_PREFIX, generateEid, generateIccid, generateTestPki } from '@rsp/pki';
import { decodeResponseApdu, encodeCommandApdu, type CommandApdu } from '@rsp/tlv';
import { forgedStep2 } from '../../libs/card/test/support/scenario3-forgery';
import { STACK_PRINCIPALS, type Stack } from '../../scripts/stack';
import { principal, secureMosquittoSkipReason } from '../support/brokers';
import { realService } from '../support/real-services';
import { apiClient, OwnerClient } from './owner-support';
import { eventually, MnoClient, startE2eStack, type E2eStack } from './support';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const mosquittoSkip = secureMosquittoSkipReason();
const postgres = await realService('database');
const MAKER_KEY = randomBytes(16).toString('hex');
const ALL_OPS = ['DownloadProfile', 'EnableProfile', 'DisableProfile', 'DeleteProfile'];
const EVIL_SMDP = 'smdp.evil';
const ROGUE_REGISTRY = 'registry.rogue';
const settle = (ms = 200) => new Promise((resolve) => setTimeout(resolve, ms));
const ISD_R = Buffer.from('A0000005591010FFFFFFFF8900000100', 'hex');

function suite(kind: 'embedded' | 'real') {
  const available = kind === 'embedded' || (mosquittoSkip === undefined && postgres.url !== undefined);
  const SMSR_ID = `smsr.attacks-${kind}`;
  const SMDP_ID = `smdp.attacks-${kind}`;
  const firstSerial = 50_000_000 + (kind === 'embedded' ? 0 : 100);
  /** A card of the same EUM that is not in the fleet: its own device identity, nothing more. */
  const ATTACKER_EID = generateEid(DEMO_EID_PREFIX, firstSerial + 50);
  const protocolVersion: 4 | 5 = kind === 'real' ? 5 : 4; // MQTT 5 lets Mosquitto say "not authorized" in the PUBACK

  (available ? describe : describe.skip)(`attacks on ${kind === 'embedded' ? 'aedes + SQLite' : 'Mosquitto (shipped configuration) + PostgreSQL'}`, () => {
    let stack: E2eStack;
    let mno: MnoClient;
    let oven: string;
    let bbq: string;
    let alice: OwnerClient;
    let ovenConsent: string;
    let ovenProfile: string;
    const open: MqttClient[] = [];
    const capturedStatuses: string[] = [];

    /** A raw client of any identity of the stack's PKI (refusals are outcomes, not exceptions). */
    const raw = (name: string, extra: IClientOptions = {}): Promise<MqttClient> =>
      new Promise((resolve, reject) => {
        const client = connect(stack.mqttUrl, { ...mqttClientOptions({ url: stack.mqttUrl, credentials: stack.credentialsFor(name), protocolVersion, reconnectPeriod: 0 }), ...extra });
        open.push(client);
        client.once('connect', () => resolve(client));
        client.once('error', reject);
        client.once('close', () => reject(new Error('closed before CONNACK')));
      });
    /** How the broker answered a QoS 1 publish: accepted, a PUBACK reason (MQTT 5), or the connection closed (aedes). */
    const publishOutcome = (client: MqttClient, topic: string, payload: string | Buffer, retain = false): Promise<string> =>
      new Promise((resolve) => {
        client.once('close', () => resolve('connection closed by the broker'));
        client.publish(topic, payload, { qos: 1, retain }, (error, packet) => {
          const reason = (packet as { reasonCode?: number } | undefined)?.reasonCode ?? (error as { code?: number } | undefined)?.code;
          resolve(error || (reason !== undefined && reason >= 0x80) ? `refused: reason 0x${(reason ?? 0).toString(16)}` : 'accepted');
        });
      });
    const expectRefused = (outcome: string) => expect(outcome).toMatch(/^(refused: reason 0x87|connection closed by the broker)$/);
    const card = (eid: string): CardState => stack.fleetOf(eid).pool.snapshot(eid);
    const persistent = (state: CardState) => ({ isdps: state.isdps, keySets: state.isdR.keySets });
    const status = (result: { header: { functionExecutionStatus: unknown } }) => result.header.functionExecutionStatus;
    const consentless = () => new MnoClient(mno.mnoId, mno.apiKey, stack.smdp.httpUrl, stack.smsr.httpUrl);
    const CONSENT_MISSING = { status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '1.2' } };

    beforeAll(async () => {
      const apiKey = randomBytes(16).toString('hex');
      stack = await startE2eStack(kind, {
        pki,
        database: kind === 'real' ? { kind: 'postgres', url: postgres.url as string, schemaPrefix: `atk_${randomBytes(4).toString('hex')}_` } : { kind: 'sqlite-memory' },
        ids: { smsrId: SMSR_ID, smdpId: SMDP_ID },
        mnos: [{ mnoId: 'mno.a', apiKey }],
        devices: [
          { model: 'oven', count: 1, firstSerial },
          { model: 'bbq', count: 1, firstSerial: firstSerial + 1 },
        ],
        owners: { registryUrl: `https://owners.attacks-${kind}.test`, makers: [{ makerId: 'oven-maker', makerDomain: 'oven-maker.example', apiKey: MAKER_KEY }] },
        extraPrincipals: [principal(EVIL_SMDP, 'sm-dp'), principal(ROGUE_REGISTRY, 'owner-registry')] satisfies BrokerPrincipal[],
        logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      });
      [oven, bbq] = stack.eids as [string, string];
      mno = new MnoClient('mno.a', apiKey, stack.smdp.httpUrl, stack.smsr.httpUrl);
      await mno.stock('a-iot', 8, kind === 'embedded' ? '8949051' : '8949052');

      // Watch the oven's genuine statuses (a replay needs one), then the maker registers it and alice claims it.
      const monitor = await connectMqtt({ url: stack.mqttUrl, credentials: stack.credentialsFor(STACK_PRINCIPALS.monitor), protocolVersion });
      open.push(monitor);
      monitor.on('message', (_topic, payload) => payload.length > 0 && capturedStatuses.push(payload.toString('latin1')));
      await monitor.subscribeAsync(deviceStatusTopic(oven), { qos: 1 });
      const registryUrl = (stack.registry as NonNullable<Stack['registry']>).httpUrl;
      const claimCode = `CLAIM-${randomBytes(3).toString('hex').toUpperCase()}`;
      const made = await apiClient(registryUrl, MAKER_KEY).post('/makers/devices', { eid: oven, deviceId: `oven-${kind}`, model: 'oven-x1', claimCode });
      expect(made.status).toBe(201);
      await eventually(() => capturedStatuses.length, (n) => n >= 1);
      const token = await (stack.idp as NonNullable<Stack['idp']>).issueIdToken({ sub: 'alice', aud: 'owner-portal', authTime: Math.floor(Date.now() / 1000), amr: ['pwd'] });
      alice = new OwnerClient(registryUrl, token);
      expect((await alice.post('/devices/claim', { deviceUrl: made.body.deviceUrl, claimCode })).status).toBe(201);
      await eventually(() => stack.smdp.deviceStatuses?.get(oven)?.owned, (owned) => owned === true);
      const consent = await alice.post(`/devices/${oven}/consents`, { mnoId: 'mno.a', operations: ALL_OPS, expiresInSeconds: 600 });
      ovenConsent = consent.body.consent as string;
      // A profile to attack: MNO-A downloads and enables one, with alice's consent.
      mno.consent = ovenConsent;
      const download = await mno.es2('downloadProfile', { eid: oven, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: true });
      expect(status(download)).toEqual({ status: 'Executed-Success' });
      ovenProfile = download.iccid as string;
      mno.consent = undefined;
    }, 120_000);

    afterAll(async () => {
      for (const client of open) client.end(true);
      await stack?.close();
    });

    it('an anonymous connect is refused (TLS without a client certificate)', async () => {
      const outcome = await new Promise<string>((resolve) => {
        const client = connect(stack.mqttUrl, { ca: stack.credentialsFor(STACK_PRINCIPALS.monitor).ca, reconnectPeriod: 0, connectTimeout: 3000, protocolVersion });
        open.push(client);
        client.once('connect', () => resolve('connected'));
        client.once('error', (error) => resolve(`refused: ${(error as { code?: string }).code ?? error.message}`));
        client.once('close', () => resolve('refused: closed'));
      });
      expect(outcome).toMatch(/^refused: /);
    });

    it('a card identity subscribing to another card\u2019s command topic is refused: it never receives the commands', async () => {
      const attacker = await raw(ATTACKER_EID);
      const seen: string[] = [];
      attacker.on('message', (topic) => seen.push(topic));
      const suback = await attacker.subscribeAsync(es5CommandTopic(oven), { qos: 1 }).catch((error: { packet?: { granted: number[] } }) => error.packet);
      // aedes refuses the SUBSCRIBE; Mosquitto's acl_file grants it and checks reads on delivery (deploy/mosquitto/README.md).
      if (kind === 'embedded') expect(suback).toMatchObject({ granted: [128] });
      const before = persistent(card(oven));
      expect(status(await consentless().es4('auditEIS', { eid: oven }))).toEqual({ status: 'Executed-Success' }); // ES5 traffic to the oven
      await settle();
      expect(seen).toEqual([]);
      expect(persistent(card(oven))).toEqual(before);
      attacker.end(true);
    });

    it('a client-id takeover is refused: the card stays connected and keeps answering', async () => {
      // aedes refuses the CONNECT (identifier rejected); Mosquitto replaces the client id by the attacker's CN.
      const attempt = await raw(ATTACKER_EID, { clientId: oven }).then(
        (client) => (client.end(true), 'connected under its own CN'),
        (error: Error) => `refused: ${error.message}`,
      );
      expect(attempt).toMatch(kind === 'embedded' ? /^refused: .*[Ii]dentifier rejected/ : /^connected under its own CN$/);
      expect(status(await consentless().es4('auditEIS', { eid: oven }))).toEqual({ status: 'Executed-Success' });
    });

    it('a forged ES3 DisableProfile from a card identity is refused by the broker; the card is unchanged', async () => {
      const before = persistent(card(oven));
      const body = JSON.stringify({ v: 1, id: randomUUID(), pattern: es3Pattern(SMSR_ID, 'DisableProfile'), data: { header: { functionRequesterIdentifier: SMDP_ID, functionCallIdentifier: randomUUID() }, eid: oven, iccid: ovenProfile } });
      expectRefused(await publishOutcome(await raw(ATTACKER_EID), serviceTopic(SMDP_ID, es3Pattern(SMSR_ID, 'DisableProfile')), body));
      expectRefused(await publishOutcome(await raw(ATTACKER_EID), serviceTopic(ATTACKER_EID, es3Pattern(SMSR_ID, 'DisableProfile')), body));
      await settle();
      expect(persistent(card(oven))).toEqual(before);
    });

    it('a forged ES3 from another SM-DP identity: refused by the broker under the victim\u2019s name, 1.1 / 1.2 under its own; the card is unchanged', async () => {
      const before = persistent(card(oven));
      const data = { header: { functionRequesterIdentifier: SMDP_ID, functionCallIdentifier: randomUUID() }, eid: oven, iccid: ovenProfile };
      expectRefused(await publishOutcome(await raw(EVIL_SMDP), serviceTopic(SMDP_ID, es3Pattern(SMSR_ID, 'DisableProfile')), JSON.stringify({ v: 1, id: randomUUID(), pattern: es3Pattern(SMSR_ID, 'DisableProfile'), data })));
      const evil = await connectMqtt({ url: stack.mqttUrl, credentials: stack.credentialsFor(EVIL_SMDP), protocolVersion });
      open.push(evil);
      const requester = new RspRequester({ client: evil, caller: EVIL_SMDP, protocolVersion });
      try {
        const reply = await requester.request<{ header: { functionExecutionStatus: unknown } }>(es3Pattern(SMSR_ID, 'DisableProfile'), data);
        expect(reply.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.1', reasonCode: '1.2' } });
        const eis = await requester.request<{ header: { functionExecutionStatus: unknown } }>(es3Pattern(SMSR_ID, 'GetEIS'), { ...data, header: { ...data.header, functionCallIdentifier: randomUUID() } });
        expect(eis.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.1', reasonCode: '1.2' } });
      } finally {
        await requester.close();
      }
      expect(persistent(card(oven))).toEqual(before);
    });

    it('forged, unsigned, empty and replayed owner statuses are ignored; a consent-less ES2 on the owned oven stays refused', async () => {
      const topic = deviceStatusTopic(oven);
      // Anyone but the registry: refused by the broker.
      expectRefused(await publishOutcome(await raw(ATTACKER_EID), topic, JSON.stringify({ eid: oven, owned: false }), true));
      // A registry identity (stolen, or misconfigured) still cannot make the services believe it:
      const rogue = await connectMqtt({ url: stack.mqttUrl, credentials: stack.credentialsFor(ROGUE_REGISTRY), protocolVersion });
      open.push(rogue);
      const unsigned = JSON.stringify({ eid: oven, owned: false, status: 'Active', consentEpoch: 0, revokedConsents: [], updatedAt: '2099-01-01T00:00:00.000Z' });
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const foreignKey = await new SignJWT({ eid: oven, owned: false, status: 'Active', consentEpoch: 0, revokedConsents: [], version: 1_000_000, updatedAt: '2099-01-01T00:00:00.000Z' })
        .setProtectedHeader({ alg: 'ES256', typ: 'rsp-device-status+jwt', kid: 'consent-forged' })
        .setIssuer(`https://owners.attacks-${kind}.test`)
        .sign(privateKey);
      const replay = capturedStatuses[0] as string; // genuine, signed, from before the claim: owned false
      for (const forged of [unsigned, '', foreignKey, replay]) {
        await rogue.publishAsync(topic, forged, { qos: 1, retain: true });
        await settle(150);
        expect(stack.smdp.deviceStatuses?.get(oven)?.owned).toBe(true);
        expect(stack.smsr.deviceStatuses?.get(oven)?.owned).toBe(true);
        expect(status(await consentless().es2('downloadProfile', { eid: oven, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: true }))).toMatchObject(CONSENT_MISSING);
      }
    });

    it('a consent-less ES2 on the owned oven is refused during and after a broker restart', async () => {
      const before = persistent(card(oven));
      const during = stack.restartBroker();
      const results = await Promise.all(Array.from({ length: 10 }, () => consentless().es2('downloadProfile', { eid: oven, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: true })));
      await during;
      for (const result of results) expect(status(result)).toMatchObject(CONSENT_MISSING);
      // The broker forgot every retained status: the services kept what they had verified.
      expect(status(await consentless().es2('downloadProfile', { eid: oven, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: true }))).toMatchObject(CONSENT_MISSING);
      expect(persistent(card(oven))).toEqual(before);
      // And the stack works again after the restart (the services reconnected).
      mno.consent = ovenConsent;
      await eventually(() => mno.es4('auditEIS', { eid: oven }).then(status), (s) => (s as { status: string }).status === 'Executed-Success', 20_000);
      mno.consent = undefined;
    }, 60_000);

    it.each([0x00, 0x01, 0x11])('ES5 EXTERNAL AUTHENTICATE at security level %s is refused with 6982, even with the right keys', async (level) => {
      const keys = await stack.smsr.registry.isdRKeys(bbq);
      if (!keys) throw new Error('no ISD-R keys');
      const fleet = stack.fleetOf(bbq);
      const before = persistent(card(bbq));
      const host = new Scp03Host({ keys: { enc: keys.enc, mac: keys.mac, dek: keys.dek }, kvn: keys.kvn });
      const send = (apdu: CommandApdu | Buffer) => decodeResponseApdu(fleet.transmit(bbq, Buffer.isBuffer(apdu) ? apdu : encodeCommandApdu(apdu)));
      expect(send(Buffer.concat([Buffer.from('00A4040010', 'hex'), ISD_R, Buffer.of(0)])).sw).toBe(0x9000);
      host.processInitializeUpdateResponse(send(host.initializeUpdateCommand()));
      expect(send(host.externalAuthenticateCommand(level)).sw).toBe(0x6982);
      expect(persistent(card(bbq))).toEqual(before);
    });

    it('a Scenario#3 challenge cannot be reused after a refused 3A02 (ES8 through ES3 SendData)', async () => {
      const es3 = (fn: string, body: object) =>
        stack.smsr.service.call('ES3', fn, { header: { functionRequesterIdentifier: SMDP_ID, functionCallIdentifier: randomUUID() }, ...body }, SMDP_ID);
      const iccid = generateIccid('8949059', kind === 'embedded' ? 1 : 2);
      const created = await es3('CreateISDP', { eid: bbq, iccid, mnoId: 'mno.a', requiredMemory: 4096 });
      expect(status(created)).toEqual({ status: 'Executed-Success' });
      const isdpAid = created.isdpAid as string;
      const sendData = async (commands: CommandApdu[]) => {
        const result = await es3('SendData', { eid: bbq, sdAid: isdpAid, data: encodeCommandScript({ commands: commands.map((c) => encodeCommandApdu(c)) }).toString('hex') });
        expect(status(result)).toEqual({ status: 'Executed-Success' });
        return decodeResponseScript(Buffer.from(result.euiccResponseData as string, 'hex')).responses.map((r) => decodeResponseApdu(r));
      };
      try {
        const step1 = await sendData(buildEstablishKeySetStep1({ isdpAid, smdpCertificate: pki.smDp.cert }));
        const challenge = parseEstablishKeySetStep1Response((step1.at(-1) as { data: Buffer }).data);
        const install = buildEstablishKeySetStep1({ isdpAid, smdpCertificate: pki.smDp.cert })[0] as CommandApdu; // INSTALL [for personalization]
        const forged = await sendData([install, forgedStep2({ forgery: 'bad signature', challenge, signer: pki.smDp.privateKey, otherSigner: pki.smSr.privateKey, curve: pki.curve })]);
        expect(forged.at(-1)?.sw).toBe(0x6982);
        const genuine = buildEstablishKeySetStep2({ challenge, smdpPrivateKey: pki.smDp.privateKey, ecasdCertificate: stack.fleetOf(bbq).ecasdCertificate(bbq) as Buffer, isdpAid });
        expect((await sendData(genuine.commands)).at(-1)?.sw).toBe(0x6985); // the challenge was burned by the refusal
      } finally {
        expect(status(await es3('DeleteISDP', { eid: bbq, iccid }))).toEqual({ status: 'Executed-Success' });
      }
    });

    it('ES4 with a reused functionCallIdentifier and another request answers 1.6 / 3.3 and runs nothing', async () => {
      const callId = randomUUID();
      const before = persistent(card(bbq));
      expect(status(await mno.es4('getEIS', { eid: bbq }, { functionCallIdentifier: callId }))).toEqual({ status: 'Executed-Success' });
      const replayed = await mno.es4('auditEIS', { eid: bbq }, { functionCallIdentifier: callId });
      expect(status(replayed)).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '1.6', reasonCode: '3.3' } });
      expect(persistent(card(bbq))).toEqual(before);
    });
  });
}

suite('embedded');
suite('real');
