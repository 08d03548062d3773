/**
 * The embedded broker on a worker thread of its own (issue 11): aedes' packet parsing, TLS and routing
 * leave the services' thread, as a real broker runs beside the services, not inside them. The broker is
 * the same `startEmbeddedBroker` (TLS client certificates, the ACL in its hooks); only its configuration
 * crosses the thread boundary (PEM strings and principal records), and back come its address, its refusals
 * and its CPU time. Same {@link EmbeddedBroker} interface as the in-thread broker.
 */
import { Worker } from 'node:worker_threads';
import type { BrokerPrincipal } from '@rsp/contracts';
import { BrokerPortInUseError, BrokerRefusal, type EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded-broker';
import { tsWorkerBootstrap } from './worker-threads';

/** What the worker receives (workerData): the options without the callback. */
export type BrokerThreadInit = Omit<EmbeddedBrokerOptions, 'onRefusal'>;

/** Messages from the worker. */
export type BrokerThreadMessage =
  | { type: 'ready'; host: string; port: number; url: string }
  | { type: 'failed'; code: string; message: string }
  | { type: 'refusal'; reason: BrokerRefusal['reason']; message: string; clientId: string | undefined }
  | { type: 'cpu'; id: number; ms: number | undefined }
  | { type: 'closed' };

/** Messages to the worker. */
export type BrokerThreadRequest = { type: 'principals'; principals: BrokerPrincipal[] } | { type: 'cpu'; id: number } | { type: 'close' };

export interface BrokerThread extends EmbeddedBroker {
  /** CPU time (ms) the broker thread has used since it started; undefined off Linux. */
  cpuMs(): Promise<number | undefined>;
}

export interface BrokerThreadOptions extends EmbeddedBrokerOptions {
  /**
   * Told once if the thread stops after it listened without being closed (an uncaught error in it). Every
   * client then loses its connection and finds no broker to reconnect to: the stack says so and stops,
   * as it would if the broker had crashed on the services' thread.
   */
  onCrash?: (error: Error) => void;
}

export async function startEmbeddedBrokerThread(options: BrokerThreadOptions): Promise<BrokerThread> {
  const { onRefusal, onCrash, ...init } = options;
  const worker = new Worker(tsWorkerBootstrap(new URL('./broker-thread-worker.ts', import.meta.url).href), { eval: true, workerData: init satisfies BrokerThreadInit });
  const refusals: BrokerRefusal[] = [];
  const pendingCpu = new Map<number, (ms: number | undefined) => void>();
  let nextRequest = 1;
  worker.on('message', (message: BrokerThreadMessage) => {
    if (message.type === 'refusal') {
      const refusal = new BrokerRefusal(message.reason, message.message);
      refusals.push(refusal);
      if (refusals.length > 1000) refusals.shift();
      onRefusal?.(refusal, message.clientId);
    } else if (message.type === 'cpu') {
      pendingCpu.get(message.id)?.(message.ms);
      pendingCpu.delete(message.id);
    }
  });
  const address = await new Promise<{ host: string; port: number; url: string }>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`broker thread exited (${code}) before it listened`)));
    worker.on('message', (message: BrokerThreadMessage) => {
      if (message.type === 'ready') resolve(message);
      if (message.type === 'failed') {
        void worker.terminate();
        reject(message.code === BrokerPortInUseError.code ? new BrokerPortInUseError(message.message) : new Error(`broker thread: ${message.message}`));
      }
    });
  });
  worker.removeAllListeners('exit');
  worker.removeAllListeners('error');
  let closing: Promise<void> | undefined;
  let failure: Error | undefined;
  let exited = false;
  worker.on('error', (error) => void (failure = error)); // 'exit' follows
  worker.on('exit', (code) => {
    exited = true;
    if (!closing) onCrash?.(failure ?? new Error(`broker thread exited (${code})`));
  });
  return {
    ...address,
    refusals,
    setPrincipals(principals) {
      worker.postMessage({ type: 'principals', principals: [...principals] } satisfies BrokerThreadRequest);
    },
    cpuMs() {
      const id = nextRequest++;
      return new Promise((resolve) => {
        pendingCpu.set(id, resolve);
        worker.postMessage({ type: 'cpu', id } satisfies BrokerThreadRequest);
      });
    },
    close() {
      if (exited) closing ??= Promise.resolve(); // crashed: nothing left to close
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 5_000);
        worker.on('message', (message: BrokerThreadMessage) => {
          if (message.type !== 'closed') return;
          clearTimeout(timer);
          void worker.terminate().then(() => resolve());
        });
        worker.postMessage({ type: 'close' } satisfies BrokerThreadRequest);
      });
      return closing;
    },
  };
}
