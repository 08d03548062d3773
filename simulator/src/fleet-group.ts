/**
 * One group of a stack's devices brought up: manufactured under the PKI, served over the broker and
 * registered with the SM-SR by their EUM (ES1, SGP.02 §5.5.1). The same steps on the services' thread
 * (scripts/stack-devices.ts) and on a card thread (fleet-thread-worker.ts).
 */
import type { CardStore } from '@rsp/card';
import type { MqttCredentials } from '@rsp/mqtt-transport';
import type { TestPki } from '@rsp/pki';
import { registerCard } from './eum';
import { Fleet } from './fleet';
import type { FleetThreadGroup } from './fleet-thread';

export interface FleetGroupEnvironment {
  pki: TestPki;
  mqtt: { url: string; smsrId: string; protocolVersion?: 4 | 5 };
  /** A principal's broker identity: a card's is its EID, a gateway's its id. */
  credentials: (principal: string) => MqttCredentials;
  /** Card states kept here (a file store keeps profiles across restarts); default in memory. */
  backingStore?: CardStore;
  /** ES1 RegisterEIS of every card with this SM-SR; a card it already knows (a restart) stays registered. */
  register?: { smsrUrl: string; smsrId: string; eumId: string };
}

/** A group of several cards is served over its gateway's one connection, a single card over its own. */
export async function startFleetGroup(group: FleetThreadGroup, environment: FleetGroupEnvironment): Promise<Fleet> {
  const gateway = group.count > 1;
  if (gateway && !group.gatewayId) throw new Error(`a group of ${group.count} ${group.model} cards needs its gateway's broker identity (gatewayId)`);
  const fleet = await Fleet.create({
    size: group.count,
    model: group.model,
    pki: environment.pki,
    firstSerial: group.firstSerial,
    ...(group.eidPrefix ? { eidPrefix: group.eidPrefix } : {}),
    ...(group.faults ? { faults: group.faults } : {}),
    ...(environment.backingStore ? { backingStore: environment.backingStore } : {}),
  });
  try {
    await fleet.startMqtt({
      url: environment.mqtt.url,
      mode: gateway ? 'gateway' : 'single',
      ...(gateway ? { gatewayId: group.gatewayId } : {}),
      smsrId: environment.mqtt.smsrId,
      credentials: environment.credentials,
      ...(environment.mqtt.protocolVersion ? { protocolVersion: environment.mqtt.protocolVersion } : {}),
      announce: false,
    });
    if (environment.register) {
      const eum = { ...environment.register, eumPrivateKey: environment.pki.eum.privateKey };
      for (const eid of fleet.eids()) await registerCard(eum, fleet.pool.snapshot(eid));
    }
    return fleet;
  } catch (error) {
    await fleet.close().catch(() => undefined);
    throw error;
  }
}
