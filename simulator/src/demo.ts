/**
 * The demo devices `npm start` brings up: an oven and a BBQ, each with its own eUICC (EIDs from the
 * test EUM's range), speaking ES5 over MQTT with client id = EID, and the device API on one port.
 */
import { FileCardStore } from '@rsp/card';
import { DEMO_EID_FIRST_SERIAL, type TestPki } from '@rsp/pki';
import { startDeviceApi, type DeviceApi, type DeviceDirectory } from './device-api';
import type { DeviceHandle, DeviceModel } from './device';
import { Fleet } from './fleet';

export interface DemoDevices {
  readonly api: DeviceApi;
  readonly fleets: readonly Fleet[];
  readonly devices: ReadonlyArray<{ eid: string; model: DeviceModel }>;
  close(): Promise<void>;
}

export interface DemoOptions {
  pki: TestPki;
  mqttUrl: string;
  apiPort: number;
  apiHost?: string;
  /** Keep the cards' states as files here (across restarts); default in memory. */
  stateDir?: string;
}

/** One device directory over several fleets (one fleet per device model). */
export class CombinedDirectory implements DeviceDirectory {
  constructor(private readonly fleets: readonly Fleet[]) {}

  get size(): number {
    return this.fleets.reduce((sum, fleet) => sum + fleet.size, 0);
  }

  list(offset: number, limit: number): Array<{ eid: string; model: DeviceModel }> {
    return this.fleets.flatMap((fleet) => fleet.list(0, fleet.size)).slice(offset, offset + limit);
  }

  device(eid: string): DeviceHandle | undefined {
    return this.owner(eid)?.device(eid);
  }

  transmit(eid: string, apdu: Uint8Array): Buffer {
    // An unknown EID reaches the first fleet, whose pool answers with its UnknownCardError (404).
    return (this.owner(eid) ?? (this.fleets[0] as Fleet)).transmit(eid, apdu);
  }

  private owner(eid: string): Fleet | undefined {
    return this.fleets.find((fleet) => fleet.eids().includes(eid));
  }
}

export async function startDemoDevices(options: DemoOptions): Promise<DemoDevices> {
  const models: DeviceModel[] = ['oven', 'bbq'];
  const fleets: Fleet[] = [];
  for (const [index, model] of models.entries()) {
    const fleet = await Fleet.create({
      size: 1,
      model,
      pki: options.pki,
      firstSerial: DEMO_EID_FIRST_SERIAL + index,
      ...(options.stateDir ? { backingStore: new FileCardStore(options.stateDir) } : {}),
    });
    await fleet.startMqtt({ url: options.mqttUrl, mode: 'single' });
    fleets.push(fleet);
  }
  const directory = new CombinedDirectory(fleets);
  const api = await startDeviceApi(directory, { port: options.apiPort, ...(options.apiHost ? { host: options.apiHost } : {}) });
  return {
    api,
    fleets,
    devices: directory.list(0, directory.size),
    close: async () => {
      await api.close();
      for (const fleet of fleets) await fleet.close();
    },
  };
}
