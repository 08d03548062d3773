/**
 * Keeps the owner registry's device statuses (docs/owner-registry.md "Device status"): subscribes QoS 1
 * to `rsp/v1/owner/device/+/status`. The registry publishes them RETAINED, so at (re)start this service
 * receives the latest status of every device at once, then each change; mqtt.js re-subscribes after a
 * reconnect. An empty retained payload clears a device; a malformed message is dropped (logged by code).
 */
import { randomUUID } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { DEVICE_STATUS_FILTER, DeviceStatusCache, eidOfDeviceStatusTopic, parseDeviceStatus } from '@rsp/identity';
import type { SmSrLogger as Logger } from '../../domain/model';

export class DeviceStatusSubscriber {
  readonly cache = new DeviceStatusCache();

  private constructor(
    private readonly client: MqttClient,
    private readonly logger: Logger,
  ) {}

  static async connect(options: { url: string; protocolVersion: 4 | 5; clientIdPrefix: string; logger: Logger }): Promise<DeviceStatusSubscriber> {
    const client = await connectAsync(options.url, {
      clientId: `${options.clientIdPrefix}-owner-status-${randomUUID()}`.slice(0, 128),
      protocolVersion: options.protocolVersion,
      reconnectPeriod: 1000,
    });
    client.on('error', () => undefined); // mqtt.js reconnects
    const subscriber = new DeviceStatusSubscriber(client, options.logger);
    client.on('message', (topic, payload) => subscriber.onMessage(topic, payload));
    await client.subscribeAsync(DEVICE_STATUS_FILTER, { qos: 1 });
    return subscriber;
  }

  close(): Promise<void> {
    return this.client.endAsync();
  }

  private onMessage(topic: string, payload: Buffer): void {
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
