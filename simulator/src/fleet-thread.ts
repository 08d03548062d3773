/**
 * Cards on a thread of their own (issue 11 item 3): {@link Fleet}s served over MQTT from a worker thread,
 * as the real devices they stand for run on machines of their own. The services' thread then carries
 * only the services' work, a second core can run the cards, and the bench can split the CPU between the
 * two ({@link threadCpuMs}).
 *
 * The worker (fleet-thread-worker.ts) manufactures each group's cards under the same test PKI and serves
 * them as the stack's in-thread fleets are served: a group of several cards over one gateway identity (the
 * broker ACL lets a gateway act for the cards it serves), a single card over a connection of its own whose
 * identity is its EID. Each card is registered with the SM-SR through ES1 as its EUM would (SGP.02
 * §5.5.1). With `cardStateDir` the cards keep their state in files (a restart keeps their profiles); with
 * `deviceApi` the worker also serves the device and raw APDU API over its cards (device-api.ts), so that
 * the cards' own API runs where the cards do. After start nothing crosses the thread boundary but the CPU
 * reading and the close: the cards talk to the SM-SR over the broker only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { RspError } from '@rsp/errors';
import { writeTestPki, type TestPki } from '@rsp/pki';
import { tsWorkerBootstrap } from '@rsp/mqtt-transport';
export { threadCpuMs } from '@rsp/mqtt-transport';
import type { DeviceModel } from './device';
import type { FaultPlan } from './faults';

export interface FleetThreadGroup {
  model: DeviceModel;
  count: number;
  firstSerial: number;
  eidPrefix?: string;
  faults?: FaultPlan;
  /** The broker identity a group of several cards is served under (a listed gateway principal). */
  gatewayId?: string;
}

export interface FleetThreadOptions {
  groups: FleetThreadGroup[];
  /** The PKI whose EUM issues the cards' ECASD certificates and signs their EIS, and whose Test TLS CA issues their broker identities. */
  pki: TestPki;
  mqtt: {
    url: string;
    smsrId: string;
    protocolVersion?: 4 | 5;
    /** Keep the broker identities here (MqttCredentialStore, as the stack's `mqttCredentialsDir`); default issued per start. */
    credentialsDir?: string;
  };
  /** ES1 RegisterEIS of every card with this SM-SR (HTTP), signed by the PKI's EUM; a card it knows stays registered. */
  register?: { smsrUrl: string; smsrId: string; eumId: string };
  /** Keep the cards' states as files here (FileCardStore); default in memory. */
  cardStateDir?: string;
  /** Serve the device and raw APDU API (device-api.ts) over these cards, from the card thread; `portSetting` is named when the port is taken. */
  deviceApi?: { port: number; host?: string; portSetting?: string };
}

/** What the worker receives (workerData): the options, with the PKI as a directory it reads back. */
export interface FleetThreadInit extends Omit<FleetThreadOptions, 'pki'> {
  pkiDir: string;
  curve: TestPki['curve'];
}

/** Messages from the worker. */
export type FleetThreadMessage =
  | { type: 'ready'; devices: Array<{ eid: string; model: DeviceModel }>; deviceApiUrl?: string }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'cpu'; id: number; ms: number | undefined }
  | { type: 'closed' };

/** Messages to the worker. */
export type FleetThreadRequest = { type: 'cpu'; id: number } | { type: 'close' };

/** The card thread could not start its cards (the message names the cause and its code, e.g. a device API port in use). */
export class CardThreadError extends RspError {
  static override readonly code = 'ERR_SIM_CARD_THREAD';
}

export class FleetThread {
  private nextRequest = 1;
  private readonly pending = new Map<number, (ms: number | undefined) => void>();
  private closing: Promise<void> | undefined;

  /** The cards' EIDs, group by group. */
  readonly eids: readonly string[];

  private constructor(
    private readonly worker: Worker,
    /** Every card of the thread and its device model. */
    readonly devices: ReadonlyArray<{ eid: string; model: DeviceModel }>,
    /** The device API's URL, when the thread serves it. */
    readonly deviceApiUrl: string | undefined,
  ) {
    this.eids = devices.map((device) => device.eid);
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
      const ready = await new Promise<Extract<FleetThreadMessage, { type: 'ready' }>>((resolve, reject) => {
        const fail = (error: Error): void => {
          void worker.terminate();
          reject(error);
        };
        worker.once('error', fail);
        worker.once('exit', (code) => reject(new Error(`card thread exited (${code}) before its cards were online`)));
        worker.on('message', (message: FleetThreadMessage) => {
          if (message.type === 'ready') resolve(message);
          if (message.type === 'failed') fail(new CardThreadError(`card thread: ${message.code ? `${message.code}: ` : ''}${message.message}`));
        });
      });
      worker.removeAllListeners('exit');
      worker.removeAllListeners('error');
      worker.on('error', () => undefined); // after start, a crash shows as cards going silent, as on a real fleet
      return new FleetThread(worker, ready.devices, ready.deviceApiUrl);
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
