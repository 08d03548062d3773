/**
 * The stack's virtual devices (scripts/stack.ts): each group of cards manufactured under the stack's PKI,
 * served over the broker and registered with the SM-SR by the demo EUM (ES1, SGP.02 §5.5.1), either on the
 * services' thread (a {@link Fleet} the tests can reach into: faults, snapshots) or on a card thread of
 * their own (issue 11 item 3: {@link FleetThread}, as real devices run on machines of their own). With
 * `deviceApi` the device and raw APDU API (simulator/src/device-api.ts) is served where the cards are.
 */
import { FileCardStore } from '@rsp/card';
import type { MqttCredentials } from '@rsp/mqtt-transport';
import type { TestPki } from '@rsp/pki';
import type { SmSrHandle } from '../apps/sm-sr/src/app';
import { CombinedDirectory } from '../simulator/src/demo';
import type { DeviceModel } from '../simulator/src/device';
import { startDeviceApi } from '../simulator/src/device-api';
import type { FaultPlan } from '../simulator/src/faults';
import type { Fleet } from '../simulator/src/fleet';
import { startFleetGroup } from '../simulator/src/fleet-group';
import { FleetThread } from '../simulator/src/fleet-thread';

/** A group of devices of one model; `faults` is a fault plan for its cards (simulator/src/faults.ts, docs/device-api.md). */
export interface DeviceGroup {
  model: DeviceModel;
  count: number;
  firstSerial: number;
  faults?: FaultPlan;
  /**
   * `'worker'`: on the card thread (every such group shares one), reached over the broker only (its cards
   * are in `eids` and `cardThreads`, not in `fleets`). Default `'main'`, the services' thread.
   */
  thread?: 'main' | 'worker';
}

export interface StackDevicesOptions {
  groups: readonly DeviceGroup[];
  pki: TestPki;
  eumId: string;
  smsr: SmSrHandle;
  mqtt: { url: string; smsrId: string; protocolVersion?: 4 | 5; credentialsFor(principal: string): MqttCredentials; credentialsDir?: string };
  /** Card states as files in this directory (FileCardStore): a restart keeps the cards' profiles. */
  cardStateDir?: string;
  /** Serve the device and raw APDU API over every group; they must all run on one thread. */
  deviceApi?: { port: number; host?: string; portSetting?: string };
}

export interface StackDevices {
  fleets: Fleet[];
  cardThreads: FleetThread[];
  /** Every card, group by group, with its device model. */
  devices: Array<{ eid: string; model: DeviceModel }>;
  /** The device API's URL, with `deviceApi`. */
  deviceApiUrl?: string;
  close(): Promise<void>;
}

/** The gateway id of a stack fleet (several cards share one connection). */
export function fleetGatewayId(group: { model: DeviceModel; firstSerial: number }): string {
  return `gw-${group.model}-${group.firstSerial}`;
}

export async function startStackDevices(options: StackDevicesOptions): Promise<StackDevices> {
  const onWorker = options.groups.filter((group) => group.thread === 'worker');
  const onMain = options.groups.filter((group) => group.thread !== 'worker');
  if (options.deviceApi && onWorker.length > 0 && onMain.length > 0) {
    throw new Error("the device API serves the cards of one thread: give every device group the same `thread` when it is asked for");
  }
  const closers: Array<() => Promise<void>> = [];
  const started: StackDevices = {
    fleets: [],
    cardThreads: [],
    devices: [],
    close: async () => {
      for (const closer of closers.reverse()) await closer().catch(() => undefined);
    },
  };
  try {
    if (onWorker.length > 0) {
      const cardThread = await FleetThread.start({
        groups: onWorker.map((group) => ({
          model: group.model,
          count: group.count,
          firstSerial: group.firstSerial,
          ...(group.faults ? { faults: group.faults } : {}),
          ...(group.count > 1 ? { gatewayId: fleetGatewayId(group) } : {}),
        })),
        pki: options.pki,
        mqtt: {
          url: options.mqtt.url,
          smsrId: options.mqtt.smsrId,
          ...(options.mqtt.protocolVersion ? { protocolVersion: options.mqtt.protocolVersion } : {}),
          ...(options.mqtt.credentialsDir ? { credentialsDir: options.mqtt.credentialsDir } : {}),
        },
        register: { smsrUrl: options.smsr.httpUrl, smsrId: options.smsr.smsrId, eumId: options.eumId },
        ...(options.cardStateDir ? { cardStateDir: options.cardStateDir } : {}),
        ...(options.deviceApi ? { deviceApi: options.deviceApi } : {}),
      });
      closers.push(() => cardThread.close());
      started.cardThreads.push(cardThread);
      started.devices.push(...cardThread.devices);
      if (cardThread.deviceApiUrl) started.deviceApiUrl = cardThread.deviceApiUrl;
    }
    const environment = {
      pki: options.pki,
      mqtt: options.mqtt,
      credentials: options.mqtt.credentialsFor,
      ...(options.cardStateDir && onMain.length > 0 ? { backingStore: new FileCardStore(options.cardStateDir) } : {}),
      register: { smsrUrl: options.smsr.httpUrl, smsrId: options.smsr.smsrId, eumId: options.eumId },
    };
    for (const group of onMain) {
      const fleet = await startFleetGroup({ ...group, ...(group.count > 1 ? { gatewayId: fleetGatewayId(group) } : {}) }, environment);
      closers.push(() => fleet.close());
      started.fleets.push(fleet);
      started.devices.push(...fleet.list(0, fleet.size));
    }
    if (options.deviceApi && onMain.length > 0) {
      const api = await startDeviceApi(new CombinedDirectory(started.fleets), options.deviceApi);
      closers.push(() => api.close());
      started.deviceApiUrl = api.url;
    }
    return started;
  } catch (error) {
    await started.close();
    throw error;
  }
}
