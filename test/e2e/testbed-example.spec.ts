// The example of docs/scenarios.md "An in-process testbed", verbatim (a test checks the doc still shows it).
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createTestbed, type Testbed } from '../../scripts/testbed';

let bed: Testbed;
beforeAll(async () => {
  bed = await createTestbed({ devices: { oven: { type: 'oven' } }, operators: { 'mno.a': { profileTypes: { 'a-iot': 2 } } } });
}, 30_000);
afterAll(() => bed.close());

it('downloads a profile to the oven and the oven runs it', async () => {
  const eid = bed.eid('oven');
  const download = await bed.es2.call('DownloadProfile', { eid, smsrId: bed.stack.smsr.smsrId, profileType: 'a-iot', enableProfile: true });
  expect(download.body.header).toEqual({ functionExecutionStatus: { status: 'Executed-Success' } });
  const oven = await bed.device.get('oven');
  expect(oven.enabled?.iccid).toBe(download.body.iccid);
  expect(bed.hops.some((hop) => hop.interface === 'ES8')).toBe(true); // the SCP03t download, seen on the broker
});
