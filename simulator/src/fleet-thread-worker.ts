/**
 * The card thread of fleet-thread.ts: manufactures the fleet, serves it over MQTT as one gateway and
 * registers its cards with the SM-SR (ES1), then answers CPU readings until it is told to close.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readTestPki } from '@rsp/pki';
import { registerCard } from './eum';
import { Fleet } from './fleet';
import { threadCpuMs, type FleetThreadInit, type FleetThreadMessage, type FleetThreadRequest } from './fleet-thread';

const init = workerData as FleetThreadInit;
const port = parentPort;
if (!port) throw new Error('fleet-thread-worker runs only as a worker thread');
const post = (message: FleetThreadMessage): void => port.postMessage(message);

async function start(): Promise<Fleet> {
  const pki = readTestPki(init.pkiDir, init.curve);
  const fleet = await Fleet.create({
    size: init.count,
    model: init.model,
    pki,
    firstSerial: init.firstSerial,
    ...(init.eidPrefix ? { eidPrefix: init.eidPrefix } : {}),
    ...(init.faults ? { faults: init.faults } : {}),
  });
  await fleet.startMqtt({
    url: init.mqtt.url,
    mode: 'gateway',
    gatewayId: init.mqtt.gatewayId,
    smsrId: init.mqtt.smsrId,
    credentials: () => init.mqtt.credentials, // gateway mode: the one connection is the gateway's
    ...(init.mqtt.protocolVersion ? { protocolVersion: init.mqtt.protocolVersion } : {}),
    announce: false,
  });
  if (init.register) {
    const target = { ...init.register, eumPrivateKey: pki.eum.privateKey };
    for (const eid of fleet.eids()) await registerCard(target, fleet.pool.snapshot(eid));
  }
  return fleet;
}

start().then(
  (fleet) => {
    port.on('message', (request: FleetThreadRequest) => {
      if (request.type === 'cpu') post({ type: 'cpu', id: request.id, ms: threadCpuMs() });
      if (request.type === 'close') void fleet.close().finally(() => post({ type: 'closed' }));
    });
    post({ type: 'ready', eids: [...fleet.eids()] });
  },
  (error: unknown) => post({ type: 'failed', message: (error as Error).message }),
);
