/**
 * The card thread of fleet-thread.ts: manufactures each group's fleet, serves it over MQTT (a gateway for
 * several cards, the card's own identity for one) and registers its cards with the SM-SR (ES1); with
 * `deviceApi` it serves the device and raw APDU API over them. Then it answers CPU readings until it is
 * told to close.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FileCardStore } from '@rsp/card';
import { isRspError } from '@rsp/errors';
import { issueMqttCredentials, MqttCredentialStore, type MqttCredentials } from '@rsp/mqtt-transport';
import { readTestPki } from '@rsp/pki';
import { CombinedDirectory } from './demo';
import { startDeviceApi, type DeviceApi } from './device-api';
import type { Fleet } from './fleet';
import { startFleetGroup } from './fleet-group';
import { threadCpuMs, type FleetThreadInit, type FleetThreadMessage, type FleetThreadRequest } from './fleet-thread';

const init = workerData as FleetThreadInit;
const port = parentPort;
if (!port) throw new Error('fleet-thread-worker runs only as a worker thread');
const post = (message: FleetThreadMessage): void => port.postMessage(message);

interface Served {
  fleets: Fleet[];
  api: DeviceApi | undefined;
}

async function start(served: Served): Promise<void> {
  const pki = readTestPki(init.pkiDir, init.curve);
  // The stack's rule for a broker identity: kept in the credentials directory, else issued under the Test TLS CA.
  const store = init.mqtt.credentialsDir ? new MqttCredentialStore(init.mqtt.credentialsDir, pki) : undefined;
  const credentialsFor = (principal: string): MqttCredentials => store?.get(principal) ?? issueMqttCredentials(pki, principal);
  const environment = {
    pki,
    mqtt: init.mqtt,
    credentials: credentialsFor,
    ...(init.cardStateDir ? { backingStore: new FileCardStore(init.cardStateDir) } : {}),
    ...(init.register ? { register: init.register } : {}),
  };
  for (const group of init.groups) served.fleets.push(await startFleetGroup(group, environment));
  if (init.deviceApi) served.api = await startDeviceApi(new CombinedDirectory(served.fleets), init.deviceApi);
}

async function closeAll(served: Served): Promise<void> {
  await served.api?.close().catch(() => undefined);
  for (const fleet of served.fleets) await fleet.close().catch(() => undefined);
}

const served: Served = { fleets: [], api: undefined };
start(served).then(
  () => {
    port.on('message', (request: FleetThreadRequest) => {
      if (request.type === 'cpu') post({ type: 'cpu', id: request.id, ms: threadCpuMs() });
      if (request.type === 'close') void closeAll(served).finally(() => post({ type: 'closed' }));
    });
    const devices = served.fleets.flatMap((fleet) => fleet.list(0, fleet.size));
    post({ type: 'ready', devices, ...(served.api ? { deviceApiUrl: served.api.url } : {}) });
  },
  // What was started before the failure is closed (its connections, its port), then the failure is told.
  (error: unknown) => void closeAll(served).finally(() => post({ type: 'failed', message: (error as Error).message, ...(isRspError(error) ? { code: error.code } : {}) })),
);
