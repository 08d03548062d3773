/**
 * Hands the owner registry's device status messages to the service's VerifiedDeviceStatusCache
 * (docs/owner-registry.md "Device status"): subscribes QoS 1 to `rsp/v1/owner/device/+/status` and passes
 * every payload, with the EID of its topic, to `statuses.applySigned`, which verifies it and ignores what
 * is unsigned, forged, empty, about another EID or older. Nothing is decided here.
 *
 * The registry publishes RETAINED, so at (re)start this service receives the latest status of every
 * device at once; `connect` waits for that burst (no message for {@link SETTLE_MS} after the SUBACK, at
 * most {@link SETTLE_LIMIT_MS}). That wait only saves registry requests: a device with no verified status
 * is fetched from the registry, or refused, when an operation needs it.
 */
import type { MqttClient } from 'mqtt';
import { DEVICE_STATUS_FILTER, eidOfDeviceStatusTopic } from '@rsp/identity';
import { connectMqtt, type MqttConnectionOptions } from './connection';

/** Quiet time after which the retained burst is taken as complete. */
export const SETTLE_MS = 150;
/** Upper bound of the wait for the retained burst. */
export const SETTLE_LIMIT_MS = 3000;

/** Where payloads go (VerifiedDeviceStatusCache); must not throw. */
export interface DeviceStatusSink {
  applySigned(payload: Uint8Array, topicEid: string): Promise<unknown>;
}

export class DeviceStatusSubscriber {
  private lastMessageAt = Date.now();
  private pending = 0;
  private readonly onMessageBound = (topic: string, payload: Buffer) => this.onMessage(topic, payload);

  private constructor(
    private readonly client: MqttClient,
    private readonly statuses: DeviceStatusSink,
    private readonly ownsClient: boolean,
  ) {}

  /** On its own connection (closed by `close`): a broker identity of its own (connection.ts). */
  static async connect(options: MqttConnectionOptions & { statuses: DeviceStatusSink }): Promise<DeviceStatusSubscriber> {
    const client = await connectMqtt(options);
    return DeviceStatusSubscriber.start(client, options.statuses, true);
  }

  /** On the service's shared connection (mqtt.js re-subscribes after a reconnect); `close` only unsubscribes. */
  static attach(options: { client: MqttClient; statuses: DeviceStatusSink }): Promise<DeviceStatusSubscriber> {
    return DeviceStatusSubscriber.start(options.client, options.statuses, false);
  }

  private static async start(client: MqttClient, statuses: DeviceStatusSink, ownsClient: boolean): Promise<DeviceStatusSubscriber> {
    const subscriber = new DeviceStatusSubscriber(client, statuses, ownsClient);
    client.on('message', subscriber.onMessageBound);
    await client.subscribeAsync(DEVICE_STATUS_FILTER, { qos: 1 });
    await subscriber.settle();
    return subscriber;
  }

  /** Waits for the retained burst and its verification (a speed-up only, see above). */
  private async settle(): Promise<void> {
    const started = Date.now();
    this.lastMessageAt = started;
    while ((this.pending > 0 || Date.now() - this.lastMessageAt < SETTLE_MS) && Date.now() - started < SETTLE_LIMIT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async close(): Promise<void> {
    this.client.off('message', this.onMessageBound);
    if (this.ownsClient) return this.client.endAsync();
    await this.client.unsubscribeAsync(DEVICE_STATUS_FILTER).catch(() => undefined);
  }

  private onMessage(topic: string, payload: Buffer): void {
    this.lastMessageAt = Date.now();
    const eid = eidOfDeviceStatusTopic(topic);
    if (eid === undefined) return;
    this.pending += 1;
    void this.statuses
      .applySigned(payload, eid)
      .catch(() => undefined)
      .finally(() => {
        this.pending -= 1;
      });
  }
}
