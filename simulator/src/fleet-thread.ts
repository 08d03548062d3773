/**
 * Cards on a thread of their own (issue 11 item 3): a {@link Fleet} served over MQTT from a worker thread,
 * as the real devices it stands for run on machines of their own. The services' thread then carries
 * only the services' work, a second core can run the cards, and the bench can split the CPU between the
 * two ({@link threadCpuMs}).
 *
 * The worker (fleet-thread-worker.ts) manufactures the fleet under the same test PKI, connects as one
 * gateway identity (the broker ACL is unchanged: the gateway may act for the cards it serves), and
 * registers each card with the SM-SR through ES1 as its EUM would (SGP.02 §5.5.1). Nothing crosses the
 * thread boundary after start but the CPU reading and the close: the cards talk to the SM-SR over the
 * broker only, exactly as the in-process fleet does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { writeTestPki, type TestPki } from '@rsp/pki';
import { tsWorkerBootstrap, type MqttCredentials } from '@rsp/mqtt-transport';
export { threadCpuMs } from '@rsp/mqtt-transport';
import type { DeviceModel } from './device';
import type { FaultPlan } from './faults';

export interface FleetThreadOptions {
  model: DeviceModel;
  count: number;
  firstSerial: number;
  eidPrefix?: string;
  faults?: FaultPlan;
  /** The PKI whose EUM issues the cards' ECASD certificates and signs their EIS. */
  pki: TestPki;
  mqtt: {
    url: string;
    /** The gateway's broker identity (principal = gatewayId); PEM strings, so they cross the thread. */
    credentials: MqttCredentials;
    gatewayId: string;
    smsrId: string;
    protocolVersion?: 4 | 5;
  };
  /** ES1 RegisterEIS of every card with this SM-SR (HTTP), signed by the PKI's EUM. */
  register?: { smsrUrl: string; smsrId: string; eumId: string };
}

/** What the worker receives (workerData): the options, with the PKI as a directory it reads back. */
export interface FleetThreadInit extends Omit<FleetThreadOptions, 'pki'> {
  pkiDir: string;
  curve: TestPki['curve'];
}

/** Messages from the worker. */
export type FleetThreadMessage =
  | { type: 'ready'; eids: string[] }
  | { type: 'failed'; message: string }
  | { type: 'cpu'; id: number; ms: number | undefined }
  | { type: 'closed' };

/** Messages to the worker. */
export type FleetThreadRequest = { type: 'cpu'; id: number } | { type: 'close' };

export class FleetThread {
  private nextRequest = 1;
  private readonly pending = new Map<number, (ms: number | undefined) => void>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly eids: readonly string[],
  ) {
    worker.on('message', (message: FleetThreadMessage) => {
      if (message.type !== 'cpu') return;
      this.pending.get(message.id)?.(message.ms);
      this.pending.delete(message.id);
    });
  }

  /** Starts the worker and resolves once its cards are online (and registered, with `register`). */
  static async start(options: FleetThreadOptions): Promise<FleetThread> {
    const pkiDir = mkdtempSync(join(tmpdir(), 'rsp-fleet-thread-'));
    try {
      writeTestPki(options.pki, pkiDir); // test keys, mode 0600, removed once the worker has read them
      const { pki, ...rest } = options;
      const init: FleetThreadInit = { ...rest, pkiDir, curve: pki.curve };
      const worker = new Worker(tsWorkerBootstrap(new URL('./fleet-thread-worker.ts', import.meta.url).href), { eval: true, workerData: init });
      const eids = await new Promise<string[]>((resolve, reject) => {
        const fail = (error: Error): void => {
          void worker.terminate();
          reject(error);
        };
        worker.once('error', fail);
        worker.once('exit', (code) => reject(new Error(`card thread exited (${code}) before its cards were online`)));
        worker.on('message', (message: FleetThreadMessage) => {
          if (message.type === 'ready') resolve(message.eids);
          if (message.type === 'failed') fail(new Error(`card thread: ${message.message}`));
        });
      });
      worker.removeAllListeners('exit');
      worker.removeAllListeners('error');
      worker.on('error', () => undefined); // after start, a crash shows as cards going silent, as on a real fleet
      return new FleetThread(worker, eids);
    } finally {
      rmSync(pkiDir, { recursive: true, force: true });
    }
  }

  /** CPU time (ms) the card thread has used since it started; undefined off Linux. */
  cpuMs(): Promise<number | undefined> {
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ type: 'cpu', id } satisfies FleetThreadRequest);
    });
  }

  /** Disconnects the cards and ends the thread. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => void this.worker.terminate().then(() => resolve()), 5_000);
      this.worker.on('message', (message: FleetThreadMessage) => {
        if (message.type !== 'closed') return;
        clearTimeout(timer);
        void this.worker.terminate().then(() => resolve());
      });
      this.worker.postMessage({ type: 'close' } satisfies FleetThreadRequest);
    });
    return this.closing;
  }
}
