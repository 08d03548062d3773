/**
 * What the registry's outbox destinations mean; the relay (@rsp/persistence OutboxRelay) delivers them at
 * least once, with the outbox's backoff and dead letters:
 * - `status:{eid}` → the device's CURRENT status, signed (JWS), published retained at QoS 1 on
 *   `rsp/v1/owner/device/{eid}/status` (so a retried older message never publishes stale content);
 * - `mqtt:{topic}` → the payload at QoS 1 (seller notifications);
 * - `es2:{mnoId}` → a queued ES2 call on the owner's behalf (domain/es2.ts `runJob`: fresh consent,
 *   audited, void once the device's epoch moved on).
 */
import type { MqttClient } from 'mqtt';
import { UNREGISTERED_VERSION, deviceStatusTopic } from '@rsp/identity';
import type { OutboxMessage } from '@rsp/persistence';
import { DESTINATION, type DeviceStatusDocuments } from '../domain/device-status';
import type { Es2Job, OnBehalfEs2 } from '../domain/es2';

export interface RegistryDeliveryOptions {
  mqtt: MqttClient;
  statuses: DeviceStatusDocuments;
  es2: OnBehalfEs2;
}

export interface RegistryDelivery {
  deliver(message: OutboxMessage): Promise<void>;
  /** Publishes the device's current signed status, retained (also at start-up). */
  publishStatus(eid: string): Promise<void>;
}

export function ownerRegistryOutboxDelivery(options: RegistryDeliveryOptions): RegistryDelivery {
  const publishStatus = async (eid: string): Promise<void> => {
    const status = await options.statuses.current(eid);
    if (status.version === UNREGISTERED_VERSION) return; // not a device of ours
    await options.mqtt.publishAsync(deviceStatusTopic(eid), await options.statuses.sign(status), { qos: 1, retain: true });
  };
  return {
    publishStatus,
    async deliver({ destination, payload }) {
      if (destination.startsWith(DESTINATION.status)) return publishStatus(destination.slice(DESTINATION.status.length));
      if (destination.startsWith(DESTINATION.mqtt)) {
        await options.mqtt.publishAsync(destination.slice(DESTINATION.mqtt.length), JSON.stringify(payload), { qos: 1 });
        return;
      }
      if (destination.startsWith(DESTINATION.es2)) return options.es2.runJob(payload as Es2Job);
      throw new Error('unknown outbox destination kind');
    },
  };
}
