/**
 * ES3 over real MQTT service requests (docs/services.md "ES3 over MQTT"): the SM-DP's own MQTT client
 * (no injected Es3Client) talks to a stand-in SM-SR served by RspMqttServer on
 * `smsr/{smsrId}/es3/{FunctionName}`, which plays the fake SM-SR against the virtual eUICCs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { es3 } from '@rsp/contracts';
import { RspMqttServer } from '@rsp/mqtt-transport';
import { es3Pattern } from '@rsp/contracts';
import type { TestBroker } from '../../../test/support/brokers';
import { generateTestPki } from '@rsp/pki';
import { startSmDp, type SmDpHandle } from '../src/app';
import type { Es3Function } from '../src/domain/es3-client';
import { Fleet } from '../../../simulator/src/fleet';
import { FakeSmSr } from './fake-sm-sr';
import { KEY_A, SMSR_ID, header, post, smDpOptions, startBroker } from './support';

describe('SM-DP ES3 client over MQTT', () => {
  let fleet: Fleet;
  let broker: TestBroker;
  let smsr: RspMqttServer;
  let smdp: SmDpHandle;
  let fake: FakeSmSr;
  const callers = new Set<string>();

  beforeAll(async () => {
    const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
    fleet = await Fleet.create({ size: 1, model: 'oven', pki });
    broker = await startBroker(pki);
    fake = new FakeSmSr(fleet, pki, SMSR_ID);
    // The fake SM-SR behind the broker, under its own identity; it records who the topic says called.
    smsr = new RspMqttServer({ url: broker.url, credentials: broker.credentialsFor(SMSR_ID) });
    for (const fn of Object.keys(es3.ES3_REQUESTS) as Es3Function[]) {
      smsr.addHandler(es3Pattern(SMSR_ID, fn), async (data: unknown, context?: unknown) => {
        callers.add((context as { getCaller(): string }).getCaller());
        return fake.call(fn, SMSR_ID, data as never);
      });
    }
    await new Promise<void>((resolve, reject) => void smsr.listen((error?: unknown) => (error ? reject(error as Error) : resolve())));
    const options = smDpOptions(pki, fake, broker, { databaseUrl: 'sqlite::memory:' });
    delete options.es3;
    smdp = await startSmDp(options);
    await smdp.inventory.putProfileType('mno.a', { name: 'm2m' });
    await smdp.inventory.generateSubscriptions('mno.a', 'm2m', 1);
  });

  afterAll(async () => {
    await smdp?.close();
    await smsr?.close();
    await fleet?.close();
    await broker?.close();
  });

  it('runs the whole download over ES3 service requests, and relays an SM-SR refusal as is', async () => {
    const eid = fleet.eids()[0] as string;
    const { body } = await post(smdp, '/gsma/es2/downloadProfile', { header: header('mno.a'), eid, smsrId: SMSR_ID, profileType: 'm2m', enableProfile: true }, KEY_A);
    expect(body.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    expect(fleet.device(eid)?.identity().iccid).toBe(body.iccid);
    expect(fake.count('SendData')).toBe(3); // 2 key establishment + 1 SCP03t script (scripting mode)
    expect([...callers]).toEqual(['smdp.test']); // the SM-DP's proven broker identity, not a header

    // An SM-SR nobody serves: the ES3 request times out → Failed, never a stack trace.
    const eis = await post(smdp, '/gsma/es2/getEIS', { header: header('mno.a', 1), eid, smsrId: 'smsr.nobody' }, KEY_A);
    expect(eis.body.header.functionExecutionStatus.status).toBe('Expired');
    const own = await post(smdp, '/gsma/es2/getEIS', { header: header('mno.a'), eid, smsrId: SMSR_ID }, KEY_A);
    expect(own.body.eis.profiles).toEqual([expect.objectContaining({ iccid: body.iccid, state: 'Enabled' })]);
  });
});
