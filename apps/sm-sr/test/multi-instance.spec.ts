/**
 * Two instances of one SM-SR id sharing the work (docs/services.md "Several instances"): Mosquitto with the
 * shipped configuration and MQTT 5 (`$share/{group}/…` splits the ES3 requests; each instance its own broker
 * identity acting for the same SM-SR id) and one PostgreSQL schema (the registry and the
 * `smsr_card_lease` rows). Four simulated cards on the broker (ES5 over MQTT, real SCP03, the ISD-R
 * handover on), concurrent ES3 CreateISDP on the same and on different cards: all succeed, each card's
 * ISD-Ps match the registry, both instances served requests. Then the lease itself: A holding a card
 * makes B wait until A lets go, and a crashed holder's expired lease is taken over.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { es3Pattern, type BrokerPrincipal } from '@rsp/contracts';
import { connectMqtt, issueMqttCredentials, RspRequester } from '@rsp/mqtt-transport';
import { generateIccid } from '@rsp/pki';
import { buildSignedEis } from '../../../simulator/src/eum';
import { Fleet } from '../../../simulator/src/fleet';
import { MqttEs5Bridge } from '../../../simulator/src/mqtt-es5';
import { realService } from '../../../test/support/real-services';
import { secureMosquittoSkipReason, startSecureMosquitto, type TestBroker } from '../../../test/support/brokers';
import { SqlCardLeaseStore } from '../src/adapters/persistence/card-lease-store';
import { startSmSr, type SmSrHandle } from '../src/app';
import { EUM_ID, header, MNO, pki, post } from './support';
import { runAdminSql } from '@rsp/persistence';

const database = await realService('database');
const mosquittoSkip = secureMosquittoSkipReason();
const available = Boolean(database.url && mosquittoSkip === undefined);
const schema = `rsp_smsr_mi_${randomBytes(6).toString('hex')}`;
const SMSR_ID = `smsr.mi-${randomBytes(3).toString('hex')}`;
const SMDP_ID = 'smdp.mi';
const GATEWAY = 'mi-gateway';
const PRINCIPALS: BrokerPrincipal[] = [
  { name: 'smsr-a', role: 'sm-sr', serviceId: SMSR_ID },
  { name: 'smsr-b', role: 'sm-sr', serviceId: SMSR_ID },
  { name: SMDP_ID, role: 'sm-dp', serviceId: SMDP_ID },
  { name: GATEWAY, role: 'gateway', serviceId: GATEWAY },
];
const secretBoxKeys = `k1:${randomBytes(32).toString('base64')}`;
let mqtt: TestBroker;

const admin = (sql: string): Promise<void> => runAdminSql(database.url as string, sql);

const startInstance = (principal: string) =>
  startSmSr({
    smsrId: SMSR_ID,
    instanceGroup: `mi-${SMSR_ID.replaceAll('.', '-')}`,
    httpPort: 0,
    mqttUrl: mqtt.url,
    mqttCredentials: issueMqttCredentials(pki, principal),
    mqttProtocolVersion: 5,
    databaseUrl: database.url as string,
    databaseSchema: schema,
    ciCertificate: pki.ci.der,
    eums: [{ eumId: EUM_ID, certificate: pki.eum.der }],
    mnos: [{ ...MNO }],
    secretBoxKeys,
    smsrCertificate: pki.smSr.cert,
    smsrPrivateKey: pki.smSr.privateKey,
    outboxPollMs: 50,
  });

(available ? describe : describe.skip)('several SM-SR instances (Mosquitto MQTT 5 + PostgreSQL)', () => {
  let fleet: Fleet;
  let bridge: MqttEs5Bridge;
  let a: SmSrHandle;
  let b: SmSrHandle;
  let requester: RspRequester;
  let smdp: MqttClient;
  let eids: string[];
  let serial = 0;
  const nextIccid = () => generateIccid('8900077', 100_000 + (serial += 1));

  beforeAll(async () => {
    await admin(`CREATE SCHEMA "${schema}"`);
    mqtt = await startSecureMosquitto({ principals: PRINCIPALS, pki });
    fleet = await Fleet.create({ size: 4, model: 'oven', pki, firstSerial: 60_000_000 + Math.floor(Math.random() * 1e6) * 10 });
    eids = [...fleet.eids()];
    bridge = await MqttEs5Bridge.start({
      url: mqtt.url,
      pool: fleet.pool,
      mode: 'gateway',
      gatewayId: GATEWAY,
      smsrId: SMSR_ID,
      credentials: (name) => issueMqttCredentials(pki, name),
      protocolVersion: 5,
      announce: false,
    });
    a = await startInstance('smsr-a'); // runs the migrations
    b = await startInstance('smsr-b');
    smdp = await connectMqtt({ url: mqtt.url, credentials: issueMqttCredentials(pki, SMDP_ID), protocolVersion: 5 });
    requester = new RspRequester({ client: smdp, caller: SMDP_ID, protocolVersion: 5 });
    for (const eid of eids) {
      const eis = buildSignedEis(fleet.pool.snapshot(eid), { eumId: EUM_ID, smsrId: SMSR_ID, eumPrivateKey: pki.eum.privateKey });
      const registered = await post(`${a.httpUrl}/gsma/es1/registerEIS`, { header: header(EUM_ID), eis });
      expect(registered.body.header.functionExecutionStatus.status).toBe('Executed-Success');
    }
  }, 60_000);

  afterAll(async () => {
    await requester?.close();
    await smdp?.endAsync();
    await a?.close();
    await b?.close();
    await bridge?.close();
    await fleet?.close();
    await mqtt?.close();
    await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  const createIsdp = (eid: string, iccid: string) =>
    requester.request<{ header: { functionExecutionStatus: { status: string } }; isdpAid?: string }>(
      es3Pattern(SMSR_ID, 'CreateISDP'),
      { header: header(SMDP_ID), eid, iccid, mnoId: MNO.mnoId, requiredMemory: 1024 },
      { timeoutMs: 60_000 },
    );

  it('12 concurrent CreateISDP (3 per card, first contact = ISD-R handover) all succeed, split over both instances, cards match the registry', async () => {
    const before = a.servedRequests() + b.servedRequests();
    const requests = eids.flatMap((eid) => [0, 1, 2].map(() => ({ eid, iccid: nextIccid() })));
    const results = await Promise.all(requests.map(({ eid, iccid }) => createIsdp(eid, iccid)));
    for (const result of results) expect(result.header.functionExecutionStatus.status).toBe('Executed-Success');
    expect(a.servedRequests() + b.servedRequests() - before).toBe(12);
    expect(a.servedRequests()).toBeGreaterThan(0);
    expect(b.servedRequests()).toBeGreaterThan(0);

    for (const eid of eids) {
      const record = await a.registry.find(eid);
      const created = (record?.profiles ?? []).filter((profile) => !profile.fallback);
      expect(created.map((profile) => profile.iccid).sort()).toEqual(requests.filter((r) => r.eid === eid).map((r) => r.iccid).sort());
      const aids = created.map((profile) => profile.isdpAid.toUpperCase());
      expect(new Set(aids).size).toBe(3);
      const onCard = fleet.pool.snapshot(eid).isdps.map((isdp) => isdp.aid.toUpperCase());
      for (const aid of aids) expect(onCard).toContain(aid);
      expect(onCard).toHaveLength((record?.profiles ?? []).length); // no ISD-P the registry does not know
      const keys = await a.registry.isdRKeyRecord(eid);
      expect(keys).toMatchObject({ establishedBySmsr: true, retireKvns: [] }); // one handover won, and it sticks
      expect(fleet.pool.snapshot(eid).isdR.keySets).toHaveLength(1);
    }
    const leases = (await a.dataSource.query(`SELECT * FROM "${schema}"."smsr_card_lease"`)) as unknown[];
    expect(leases).toHaveLength(0); // every lease released
  }, 120_000);

  it("instance A holding a card's lease makes B wait; B proceeds once A releases", async () => {
    const eid = eids[0] as string;
    let releaseA!: () => void;
    let aHolds!: () => void;
    const held = new Promise<void>((resolve) => (aHolds = resolve));
    const aWork = a.service.cards.exclusive(eid, async () => {
      aHolds();
      await new Promise<void>((resolve) => (releaseA = resolve));
    });
    await held;
    let bDone = false;
    const bCall = b.service
      .call('ES3', 'CreateISDP', { header: header(SMDP_ID), eid, iccid: nextIccid(), mnoId: MNO.mnoId, requiredMemory: 512 })
      .finally(() => (bDone = true));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(bDone).toBe(false);
    releaseA();
    await aWork;
    const result = await bCall;
    expect(result.header.functionExecutionStatus.status).toBe('Executed-Success');
  }, 30_000);

  it('an expired lease left by a crashed instance is taken over', async () => {
    const eid = eids[1] as string;
    const now = Date.now();
    await a.dataSource.query(`INSERT INTO "${schema}"."smsr_card_lease" ("eid", "holder", "expires_at") VALUES ($1, $2, $3)`, [eid, 'crashed/1', now + 700]);
    const started = Date.now();
    const result = await b.service.call('ES3', 'CreateISDP', { header: header(SMDP_ID), eid, iccid: nextIccid(), mnoId: MNO.mnoId, requiredMemory: 512 });
    expect(result.header.functionExecutionStatus.status).toBe('Executed-Success');
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  }, 30_000);

  it('the lease store on PostgreSQL: 20 concurrent acquirers on two connection pools, exactly one wins', async () => {
    const stores = [new SqlCardLeaseStore(a.dataSource), new SqlCardLeaseStore(b.dataSource)];
    const eid = '89049032000000000000000000009999';
    const now = Date.now();
    const won = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 2]!.tryAcquire(eid, `h${i}`, now + 5000, now)));
    expect(won.filter(Boolean)).toHaveLength(1);
    const expiredTakers = await Promise.all(Array.from({ length: 10 }, (_, i) => stores[i % 2]!.tryAcquire(eid, `t${i}`, now + 20_000, now + 6000)));
    expect(expiredTakers.filter(Boolean)).toHaveLength(1); // one UPDATE takes the expired row, the rest re-check and miss
  });
});
