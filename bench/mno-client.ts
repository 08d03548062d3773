/**
 * The bench's MNO on a worker thread (mno-client-worker.ts): the main thread, the services', only starts
 * jobs and reads their results and the client thread's CPU, which the bench reports apart.
 */
import { Worker } from 'node:worker_threads';
import { tsWorkerBootstrap } from '@rsp/mqtt-transport';

export interface MnoClientInit {
  smdpUrl: string;
  apiKey: string;
  mnoId: string;
  smsrId: string;
  profileType: string;
}
export interface ProvisioningResult {
  status: string;
  ms: number;
  /** Epoch ms when the call was sent (performance.timeOrigin + now: comparable across threads). */
  sentAt: number;
}
export type MnoClientJob =
  | { id: number; kind: 'closed'; eids: string[]; inFlight: number }
  | { id: number; kind: 'open'; eids: string[]; rate: number }
  | { id: number; kind: 'cpu' };
export type MnoClientReply = { id: number; results: ProvisioningResult[]; cpuMs: number | undefined } | { id: number; error: string };

export class MnoClientThread {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: MnoClientReply) => void>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: MnoClientReply) => {
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
  }

  static async start(init: MnoClientInit): Promise<MnoClientThread> {
    const worker = new Worker(tsWorkerBootstrap(new URL('./mno-client-worker.ts', import.meta.url).href), { eval: true, workerData: init });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return new MnoClientThread(worker);
  }

  /** One provisioning per card, at most `inFlight` at a time; with the client thread's CPU ms during the job. */
  closedLoop(eids: readonly string[], inFlight: number): Promise<{ results: ProvisioningResult[]; cpuMs: number | undefined }> {
    return this.job({ kind: 'closed', eids: [...eids], inFlight });
  }

  /** One provisioning started every 1/rate s, whatever the answers do. */
  openLoop(eids: readonly string[], rate: number): Promise<{ results: ProvisioningResult[]; cpuMs: number | undefined }> {
    return this.job({ kind: 'open', eids: [...eids], rate });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private async job(job: Omit<Extract<MnoClientJob, { kind: 'closed' }>, 'id'> | Omit<Extract<MnoClientJob, { kind: 'open' }>, 'id'>) {
    const before = await this.send({ kind: 'cpu' });
    const after = await this.send(job);
    return { results: after.results, cpuMs: before.cpuMs !== undefined && after.cpuMs !== undefined ? after.cpuMs - before.cpuMs : undefined };
  }

  private send(job: Omit<MnoClientJob, 'id'>): Promise<{ results: ProvisioningResult[]; cpuMs: number | undefined }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (reply) => ('error' in reply ? reject(new Error(`MNO client: ${reply.error}`)) : resolve(reply)));
      this.worker.postMessage({ ...job, id } as MnoClientJob);
    });
  }
}
