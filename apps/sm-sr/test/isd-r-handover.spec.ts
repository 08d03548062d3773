/**
 * ISD-R key set handover at first contact (apps/sm-sr/src/domain/isd-r-handover.ts): with
 * smsrCertificate + smsrPrivateKey, the SM-SR replaces a card's EUM key set (KVN 0x30, public TEST
 * derivation) by its own (KVN 0x31) before its first ES5 exchange, then deletes 0x30. Simulator cards in
 * process (LocalEs5Channel reading the registry's keys, real SCP03), SQLite registry.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultIsdRKeySet, getStatusApdu } from '@rsp/offcard';
import { statusCodeFor } from '@rsp/contracts';
import { generateIccid } from '@rsp/pki';
import { buildSignedEis } from '../../../simulator/src/eum';
import { Fleet } from '../../../simulator/src/fleet';
import { startSmSr, type SmSrHandle, type SmSrOptions } from '../src/app';
import { Es5Error } from '../src/es5';
import { LocalEs5Channel } from './local-es5-channel';
import { establishIsdRKeySet, finaliseIsdRHandover } from '../src/es5/isd-r-key-establishment';
import { realService } from '../../../test/support/real-services';
import { startTestBroker, type TestBroker } from '../../../test/support/brokers';
import { EUM_ID, header, MNO, pki, SMSR_ID } from './support';
import { runAdminSql } from '@rsp/persistence';

const database = await realService('database');

const SMDP = 'smdp.handover';
const TEST_KVN = 0x30;
const SMSR_KVN = 0x31;

interface Instance {
  smsr: SmSrHandle;
  es5: LocalEs5Channel;
  logs: string[];
  close(): Promise<void>;
}

let fleet: Fleet;
let broker: TestBroker;
let dir: string;
let testKeys: LocalEs5Channel;
let main: Instance;

/** One SM-SR whose ES5 channel takes each card's keys from its own registry, as the default MQTT channel does. */
async function startInstance(name: string, extra: Partial<SmSrOptions> = {}): Promise<Instance> {
  const started: { smsr?: SmSrHandle } = {};
  const es5 = new LocalEs5Channel(
    fleet.pool,
    async (eid) => {
      const keys = await started.smsr?.registry.isdRKeys(eid);
      if (!keys) throw new Es5Error.CardUnreachable(`no ISD-R keys for ${eid}`);
      return keys;
    },
    { defaultTimeoutMs: 3000 },
  );
  const logs: string[] = [];
  const smsr = await startSmSr({
    smsrId: SMSR_ID,
    httpPort: 0,
    mqttUrl: broker.url,
    // Each instance its own broker identity acting for SMSR_ID (one connection per identity).
    mqttCredentials: broker.credentialsFor(`smsr-${name}`),
    databaseUrl: `sqlite://${join(dir, `${name}.db`)}`,
    ciCertificate: pki.ci.der,
    eums: [{ eumId: EUM_ID, certificate: pki.eum.der }],
    mnos: [{ ...MNO }],
    secretBoxKeys: `k1:${randomBytes(32).toString('base64')}`,
    es5Channel: es5,
    logger: { log: (message) => logs.push(message), warn: (message) => logs.push(message), error: (message) => logs.push(message) },
    smsrCertificate: pki.smSr.cert,
    smsrPrivateKey: pki.smSr.privateKey,
    ...extra,
  });
  started.smsr = smsr;
  return {
    smsr,
    es5,
    logs,
    async close() {
      await smsr.close();
      await es5.close();
    },
  };
}

const card = (index: number) => fleet.eids()[index] as string;
const kvnsOnCard = (eid: string) => fleet.pool.withCard(eid, (euicc) => euicc.snapshot().isdR.keySets.map((keySet) => keySet.kvn));
const eisOf = (eid: string) => buildSignedEis(fleet.pool.snapshot(eid), { eumId: EUM_ID, smsrId: SMSR_ID, eumPrivateKey: pki.eum.privateKey });
const established = (instance: Instance) => instance.logs.filter((line) => line.includes('established (Scenario#3)')).length;

async function register(instance: Instance, eid: string): Promise<void> {
  const result = await instance.smsr.service.call('ES1', 'RegisterEIS', { header: header(EUM_ID), eis: eisOf(eid) });
  expect(result.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
}
const es3 = (instance: Instance, fn: string, body: object, extra: { validityPeriod?: number } = {}) =>
  instance.smsr.service.call('ES3', fn, { header: header(SMDP, extra), ...body });

beforeAll(async () => {
  fleet = await Fleet.create({ size: 7, model: 'oven', pki, firstSerial: 83_000_000 + Math.floor(Math.random() * 1e5) * 10 });
  const instances = ['main', 'wrong-role', 'half', 'pg'].map((name) => ({ name: `smsr-${name}`, role: 'sm-sr' as const, serviceId: SMSR_ID }));
  broker = await startTestBroker({ principals: instances, pki });
  dir = mkdtempSync(join(tmpdir(), 'rsp-smsr-handover-'));
  testKeys = new LocalEs5Channel(fleet.pool, defaultIsdRKeySet, { defaultTimeoutMs: 3000 });
  main = await startInstance('main');
  for (const eid of fleet.eids().slice(0, 5)) await register(main, eid);
});
afterAll(async () => {
  await main?.close();
  await testKeys?.close();
  await broker?.close();
  await fleet?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ISD-R key set handover at first contact', () => {
  it('RegisterEIS stores the EUM key set and does not touch the card (the handover is lazy)', async () => {
    const eid = card(0);
    expect(await main.smsr.registry.isdRKeyRecord(eid)).toMatchObject({ keys: { kvn: TEST_KVN }, establishedBySmsr: false, retireKvns: [] });
    expect(kvnsOnCard(eid)).toEqual([TEST_KVN]);
    expect(established(main)).toBe(0);
  });

  it('the first ES3 operation establishes KVN 0x31, stores it, deletes 0x30; the TEST keys fail (ERR_ES5_SECURE_CHANNEL); operations keep working', async () => {
    const eid = card(0);
    const iccid = generateIccid('8900013', 1001);
    // Count the ES5 exchanges: 3A01, 3A02, then FinaliseISDRhandover's DELETE first in CreateISDP's script.
    const scripts: string[][] = [];
    const run = main.es5.run.bind(main.es5);
    main.es5.run = (target, commands, options) => {
      if (target === eid) scripts.push(commands.map((apdu) => apdu.ins.toString(16)));
      return run(target, commands, options);
    };
    let created;
    try {
      created = await es3(main, 'CreateISDP', { eid, iccid, mnoId: MNO.mnoId, requiredMemory: 1000 });
    } finally {
      main.es5.run = run;
    }
    expect(created.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    expect(scripts).toHaveLength(3);
    expect(scripts[2]?.[0]).toBe('e4'); // DELETE the EUM's key set, then the CreateISDP commands, one exchange
    expect((scripts[2] ?? []).length).toBeGreaterThan(1);

    const stored = await main.smsr.registry.isdRKeyRecord(eid);
    expect(stored).toMatchObject({ keys: { kvn: SMSR_KVN }, establishedBySmsr: true, retireKvns: [] });
    expect(stored?.keys.enc.equals(defaultIsdRKeySet(eid).enc)).toBe(false);
    expect(kvnsOnCard(eid)).toEqual([SMSR_KVN]);
    await expect(testKeys.run(eid, [getStatusApdu()])).rejects.toMatchObject({ code: 'ERR_ES5_SECURE_CHANNEL' });

    const audit = await es3(main, 'AuditEIS', { eid });
    expect(audit.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    const deleted = await es3(main, 'DeleteISDP', { eid, iccid });
    expect(deleted.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    expect(established(main)).toBe(1);
    expect(kvnsOnCard(eid)).toEqual([SMSR_KVN]);
  });

  it('concurrent first operations on a card (two AuditEIS, a CreateISDP, a card notification) share one handover', async () => {
    const eid = card(1);
    const before = established(main);
    const pending = fleet.pool.pendingNotifications(eid)[0];
    const results = await Promise.all([
      es3(main, 'AuditEIS', { eid }),
      es3(main, 'AuditEIS', { eid }),
      es3(main, 'CreateISDP', { eid, iccid: generateIccid('8900013', 1002), mnoId: MNO.mnoId, requiredMemory: 1000 }),
      ...(pending ? [main.smsr.service.cardNotifications.handle({ eid, seq: pending.seq, tlv: pending.tlv })] : []),
    ]);
    for (const result of results.slice(0, 3)) expect((result as { header: { functionExecutionStatus: unknown } }).header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    if (pending) expect(results[3]).toBe('confirmed');
    expect(established(main) - before).toBe(1);
    expect(kvnsOnCard(eid)).toEqual([SMSR_KVN]);
    expect(await main.smsr.registry.isdRKeyRecord(eid)).toMatchObject({ keys: { kvn: SMSR_KVN }, retireKvns: [] });
  });

  it('an offline card fails the operation (8.1 / 5.1) and keeps the EUM keys; once back, the handover happens', async () => {
    const eid = card(2);
    main.es5.carrier.offline.add(eid);
    try {
      const offline = await es3(main, 'AuditEIS', { eid }); // no validityPeriod: the channel's 3 s timeout, not Expired
      expect(offline.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.1', reasonCode: '5.1' } });
    } finally {
      main.es5.carrier.offline.delete(eid);
    }
    expect(await main.smsr.registry.isdRKeyRecord(eid)).toMatchObject({ keys: { kvn: TEST_KVN }, establishedBySmsr: false });
    expect(kvnsOnCard(eid)).toEqual([TEST_KVN]);
    expect((await es3(main, 'AuditEIS', { eid })).header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    expect(kvnsOnCard(eid)).toEqual([SMSR_KVN]);
  });

  it('restart safety: a crash after storing the new keys (old KVN still on the card) is finished by the next operation', async () => {
    const eid = card(3);
    // Steps 1 and 2 as the handover runs them, then "crash" before FinaliseISDRhandover.
    const before = await main.smsr.registry.isdRKeyRecord(eid);
    const keys = await establishIsdRKeySet(main.es5, eid, { smsrCertificate: pki.smSr.cert, smsrPrivateKey: pki.smSr.privateKey, ecasdCertificate: fleet.ecasdCertificate(eid) as Buffer });
    expect(await main.smsr.registry.replaceIsdRKeys(eid, { keys, establishedBySmsr: true, retireKvns: [TEST_KVN] }, before?.revision as string)).toBe(true);
    expect(kvnsOnCard(eid)).toEqual([TEST_KVN, SMSR_KVN]);

    const count = established(main);
    expect((await es3(main, 'AuditEIS', { eid })).header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    expect(established(main)).toBe(count); // no second establishment, only the finalisation
    expect(kvnsOnCard(eid)).toEqual([SMSR_KVN]);
    expect(await main.smsr.registry.isdRKeyRecord(eid)).toMatchObject({ keys: { kvn: SMSR_KVN }, establishedBySmsr: true, retireKvns: [] });
  });

  it('restart safety: a crash after FinaliseISDRhandover ran on the card (6A88 on retry) settles without error', async () => {
    const eid = card(4);
    const before = await main.smsr.registry.isdRKeyRecord(eid);
    const keys = await establishIsdRKeySet(main.es5, eid, { smsrCertificate: pki.smSr.cert, smsrPrivateKey: pki.smSr.privateKey, ecasdCertificate: fleet.ecasdCertificate(eid) as Buffer });
    expect(await main.smsr.registry.replaceIsdRKeys(eid, { keys, establishedBySmsr: true, retireKvns: [TEST_KVN] }, before?.revision as string)).toBe(true);
    await finaliseIsdRHandover(main.es5, eid, { deleteKvns: [TEST_KVN] }); // ran, but its answer "was lost"
    expect(kvnsOnCard(eid)).toEqual([SMSR_KVN]);

    expect((await es3(main, 'AuditEIS', { eid })).header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    expect(await main.smsr.registry.isdRKeyRecord(eid)).toMatchObject({ keys: { kvn: SMSR_KVN }, retireKvns: [] });
  });

  it('a stale revision does not overwrite the key set (compare-and-set)', async () => {
    const eid = card(0);
    const current = await main.smsr.registry.isdRKeyRecord(eid);
    expect(await main.smsr.registry.replaceIsdRKeys(eid, { keys: defaultIsdRKeySet(eid), establishedBySmsr: false, retireKvns: [] }, 'stale')).toBe(false);
    expect(await main.smsr.registry.isdRKeyRecord(eid)).toEqual(current);
  });
});

describe('ISD-R handover configuration and refusals', () => {
  it('a certificate the card refuses (SM-DP role) fails with the card-security code and leaves the EUM keys working', async () => {
    const wrongRole = await startInstance('wrong-role', { smsrCertificate: pki.smDp.cert, smsrPrivateKey: pki.smDp.privateKey });
    try {
      const eid = card(5);
      await register(wrongRole, eid);
      const result = await wrongRole.smsr.service.call('ES3', 'AuditEIS', { header: header(SMDP), eid });
      const { subjectCode, reasonCode } = statusCodeFor('ERR_CARD_SECURITY_STATUS') ?? {};
      expect(result.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode, reasonCode } });
      expect(kvnsOnCard(eid)).toEqual([TEST_KVN]);
      expect(await wrongRole.smsr.registry.isdRKeyRecord(eid)).toMatchObject({ keys: { kvn: TEST_KVN }, establishedBySmsr: false });
      const [status] = await testKeys.run(eid, [getStatusApdu()]);
      expect(status?.sw).toBe(0x9000);
    } finally {
      await wrongRole.close();
    }
  });

  it('smsrCertificate without smsrPrivateKey is a configuration error', async () => {
    await expect(startInstance('half', { smsrPrivateKey: undefined })).rejects.toMatchObject({ code: 'ERR_CONTRACT_INVALID_PARAMETER' });
  });
});

(database.url ? describe : describe.skip)('ISD-R handover on PostgreSQL', () => {
  const schema = `rsp_smsr_handover_${randomBytes(6).toString('hex')}`;
  const admin = (sql: string) => runAdminSql(database.url as string, sql);
  let instance: Instance | undefined;
  beforeAll(async () => {
    await admin(`CREATE SCHEMA "${schema}"`);
    instance = await startInstance('pg', { databaseUrl: database.url as string, databaseSchema: schema });
  });
  afterAll(async () => {
    await instance?.close();
    await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('stores the new key set with compare-and-set and finishes the handover', async () => {
    const eid = card(6);
    const pgInstance = instance as Instance;
    await register(pgInstance, eid);
    expect((await es3(pgInstance, 'AuditEIS', { eid })).header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    const stored = await pgInstance.smsr.registry.isdRKeyRecord(eid);
    expect(stored).toMatchObject({ keys: { kvn: SMSR_KVN }, establishedBySmsr: true, retireKvns: [] });
    expect(kvnsOnCard(eid)).toEqual([SMSR_KVN]);
    expect(await pgInstance.smsr.registry.replaceIsdRKeys(eid, { keys: defaultIsdRKeySet(eid), establishedBySmsr: false, retireKvns: [] }, 'stale')).toBe(false);
  });
});
