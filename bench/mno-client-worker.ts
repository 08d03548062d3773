/**
 * The bench's MNO (its load generator) on a worker thread of its own (mno-client.ts): ES2 DownloadProfile
 * calls over HTTP, in a closed loop (at most N in flight) or an open loop (one every 1/rate s), so that
 * the client's fetch, JSON and sockets are not counted as the services' CPU, nor compete on their thread.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { threadCpuMs } from '@rsp/mqtt-transport';
import type { MnoClientInit, MnoClientJob, MnoClientReply, ProvisioningResult } from './mno-client';

const init = workerData as MnoClientInit;
const port = parentPort;
if (!port) throw new Error('mno-client-worker runs only as a worker thread');

/** One ES2 DownloadProfile with enable; its status and latency. */
async function downloadProfile(eid: string): Promise<ProvisioningResult> {
  const started = performance.now();
  const response = await fetch(`${init.smdpUrl}/gsma/es2/downloadProfile`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': init.apiKey },
    body: JSON.stringify({
      header: { functionRequesterIdentifier: init.mnoId, functionCallIdentifier: randomUUID() },
      eid,
      smsrId: init.smsrId,
      profileType: init.profileType,
      enableProfile: true,
    }),
  });
  const body = (await response.json()) as { header: { functionExecutionStatus: { status: string } } };
  return { status: body.header.functionExecutionStatus.status, ms: performance.now() - started, sentAt: performance.timeOrigin + started };
}

async function closedLoop(eids: readonly string[], inFlight: number): Promise<ProvisioningResult[]> {
  const queue = [...eids];
  const results: ProvisioningResult[] = [];
  await Promise.all(
    Array.from({ length: Math.min(inFlight, queue.length) }, async () => {
      for (let eid = queue.shift(); eid !== undefined; eid = queue.shift()) results.push(await downloadProfile(eid));
    }),
  );
  return results;
}

async function openLoop(eids: readonly string[], rate: number): Promise<ProvisioningResult[]> {
  const pending: Array<Promise<ProvisioningResult>> = [];
  const gapMs = 1000 / rate;
  const started = performance.now();
  for (const [index, eid] of eids.entries()) {
    const wait = started + index * gapMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(downloadProfile(eid));
  }
  return Promise.all(pending);
}

port.on('message', (job: MnoClientJob) => {
  const run = job.kind === 'closed' ? closedLoop(job.eids, job.inFlight) : job.kind === 'open' ? openLoop(job.eids, job.rate) : Promise.resolve([]);
  run.then(
    (results) => port.postMessage({ id: job.id, results, cpuMs: threadCpuMs() } satisfies MnoClientReply),
    (error: unknown) => port.postMessage({ id: job.id, error: (error as Error).message } satisfies MnoClientReply),
  );
});
port.postMessage({ id: 0, results: [], cpuMs: threadCpuMs() } satisfies MnoClientReply);
