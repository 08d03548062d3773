/**
 * `npm run bench -- provisioning`: full provisionings per second — ES2 DownloadProfile with enable
 * (reserve, GetEIS, ECASD chain check, CreateISDP, Scenario#3, SCP03t download and install, enable,
 * notification) — on the embedded stack (aedes + in-memory SQLite, one process), for N devices in
 * parallel (BENCH_DEVICES, default 40). Also prints the ES5 round trips per provisioning and the time
 * per provisioning at concurrency 1. Asserts nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { generateTestPki } from '@rsp/pki';
import { startStack } from '../scripts/stack';

async function downloadProfile(smdpUrl: string, apiKey: string, eid: string): Promise<string> {
  const response = await fetch(`${smdpUrl}/gsma/es2/downloadProfile`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({
      header: { functionRequesterIdentifier: 'mno.bench', functionCallIdentifier: randomUUID() },
      eid,
      smsrId: 'smsr.demo',
      profileType: 'bench',
      enableProfile: true,
    }),
  });
  const body = (await response.json()) as { header: { functionExecutionStatus: { status: string } } };
  return body.header.functionExecutionStatus.status;
}

export async function runProvisioningBench(): Promise<void> {
  const devices = Number(process.env.BENCH_DEVICES ?? 40);
  const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  const apiKey = randomBytes(16).toString('hex');
  const setupStart = performance.now();
  const stack = await startStack({
    pki,
    database: { kind: 'sqlite-memory' },
    mnos: [{ mnoId: 'mno.bench', apiKey }],
    devices: [{ model: 'generic', count: devices + 1, firstSerial: 50_000_000 }],
  });
  try {
    const post = (path: string, body: unknown) =>
      fetch(`${stack.smdp.httpUrl}/mno/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body: JSON.stringify(body) });
    await post('profileTypes', { name: 'bench' });
    await post('subscriptions', { profileType: 'bench', generate: devices + 1, iccidPrefix: '8949777' });
    console.log(`\n## provisioning (embedded stack: aedes + SQLite in memory, one process) — ${devices} devices, set-up ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

    const [warm, ...rest] = stack.eids;
    const single = performance.now();
    const warmStatus = await downloadProfile(stack.smdp.httpUrl, apiKey, warm as string);
    const singleMs = performance.now() - single;

    const start = performance.now();
    const statuses = await Promise.all(rest.map((eid) => downloadProfile(stack.smdp.httpUrl, apiKey, eid)));
    const seconds = (performance.now() - start) / 1000;
    const ok = statuses.filter((s) => s === 'Executed-Success').length;
    console.log(`one provisioning alone (first, cold)     ${singleMs.toFixed(0)} ms (${warmStatus})`);
    console.log(`${rest.length} in parallel                          ${seconds.toFixed(2)} s → ${(ok / seconds).toFixed(1)} provisionings/s (${ok}/${rest.length} Executed-Success)`);
    console.log('ES5 exchanges per provisioning: 2 scripts × (CreateISDP, 3A01, 3A02, SCP03t init, auth, segments, enable) = 14 MQTT round trips');
    console.log('goal: ≥ 1,000/s on 2 cores (later work: fewer ES5 round trips, batched SQLite writes, several processes)');
  } finally {
    await stack.close();
  }
}
