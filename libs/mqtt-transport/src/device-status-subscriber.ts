/**
 * Keeps the owner registry's device statuses (docs/owner-registry.md "Device status"): subscribes QoS 1
 * to `rsp/v1/owner/device/+/status`. The registry publishes them RETAINED, so at (re)start this service
 * receives the latest status of every device at once, then each change; mqtt.js re-subscribes after a
 * reconnect. An empty retained payload clears a device; a malformed message is dropped (logged by code).
 *
 * `connect` returns only once the retained statuses have arrived (no message for {@link SETTLE_MS} after
 * the SUBACK, at most {@link SETTLE_LIMIT_MS}): a service that started taking calls before would treat an
 * owned device as unknown, and let an operator through without the owner's consent.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { DEVICE_STATUS_FILTER, DeviceStatusCache, eidOfDeviceStatusTopic, parseDeviceStatus } from '@rsp/identity';

/** Quiet time after which the retained burst is taken as complete. */
export const SETTLE_MS = 150;
/** Upper bound of the wait for the retained burst. */
export const SETTLE_LIMIT_MS = 3000;

export interface DeviceStatusLogger {
  warn(message: string): void;
}

export class DeviceStatusSubscriber {
  readonly cache = new DeviceStatusCache();
  private lastMessageAt = Date.now();

  private constructor(
    private readonly client: MqttClient,
    private readonly logger: DeviceStatusLogger,
  ) {}

  static async connect(options: { url: string; protocolVersion: 4 | 5; clientIdPrefix: string; logger: DeviceStatusLogger }): Promise<DeviceStatusSubscriber> {
    const client = await mqtt.connectAsync(options.url, {
      clientId: `${options.clientIdPrefix}-owner-status-${randomUUID()}`.slice(0, 128),
      protocolVersion: options.protocolVersion,
      reconnectPeriod: 1000,
    });
    client.on('error', () => undefined); // mqtt.js reconnects
    const subscriber = new DeviceStatusSubscriber(client, options.logger);
    client.on('message', (topic, payload) => subscriber.onMessage(topic, payload));
    await client.subscribeAsync(DEVICE_STATUS_FILTER, { qos: 1 });
    await subscriber.settle();
    return subscriber;
  }

  private async settle(): Promise<void> {
    const started = Date.now();
    this.lastMessageAt = started;
    while (Date.now() - this.lastMessageAt < SETTLE_MS && Date.now() - started < SETTLE_LIMIT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  close(): Promise<void> {
    return this.client.endAsync();
  }

  private onMessage(topic: string, payload: Buffer): void {
    this.lastMessageAt = Date.now();
    const eid = eidOfDeviceStatusTopic(topic);
    if (eid === undefined) return;
    if (payload.length === 0) {
      this.cache.forget(eid);
      return;
    }
    try {
      const status = parseDeviceStatus(JSON.parse(payload.toString('utf8')));
      if (status.eid !== eid) throw new Error('EID of the topic and of the status differ');
      this.cache.apply(status);
    } catch (error) {
      this.logger.warn(`device status on ${topic} dropped: ${(error as { code?: string }).code ?? 'malformed'}`);
    }
  }
}
