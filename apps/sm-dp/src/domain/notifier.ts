/**
 * ES2 notifications to the MNO (SGP.02 §5.3 Handle*Notification; docs/services.md "Notifications to
 * MNOs"): written to the persisted outbox, then delivered at least once by the outbox relay as a webhook POST
 * `{ interface: 'ES2', function, body }` and on MQTT `{prefix}/mno/{mnoId}/es2/notify` (QoS 1).
 * ES3 notifications from the SM-SR (§5.4) are mapped to the owning MNO and forwarded the same way.
 */
import { randomUUID } from 'node:crypto';
import { NOTIFICATIONS, StatusError, executedSuccess, parse, topicLevel, type FunctionResponse, type ProfileChangeNotification } from '@rsp/contracts';
import type { Inventory } from './inventory';
import { SMDP_STATUS } from './status-codes';

export const PROFILE_NOTIFICATIONS = [
  'HandleProfileEnabledNotification',
  'HandleProfileDisabledNotification',
  'HandleProfileDeletedNotification',
] as const;
export type ProfileNotification = (typeof PROFILE_NOTIFICATIONS)[number];

/** The JSON every channel carries. */
export interface MnoNotificationPayload {
  interface: 'ES2';
  function: ProfileNotification;
  body: { header: { functionRequesterIdentifier: string; functionCallIdentifier: string } } & ProfileChangeNotification;
}

/** Outbox destinations: `mqtt:{topic}` for MQTT, anything else is a webhook URL. */
export const MQTT_DESTINATION_PREFIX = 'mqtt:';

/** The outbox destination of an MNO's ES2 notifications on the bus (`{root}/mno/{mnoId}/es2/notify`, docs/topics.md). */
export function es2NotifyDestination(topicRoot: string, mnoId: string): string {
  return `${MQTT_DESTINATION_PREFIX}${topicRoot}/mno/${topicLevel(mnoId, 'mnoId')}/es2/notify`;
}

/** The persisted outbox, as the Notifier writes to it (adapters/notification-queue.ts). */
export interface NotificationQueue {
  /** Queues the messages in one write; each is delivered at least once. */
  enqueue(messages: ReadonlyArray<{ destination: string; payload: unknown }>): Promise<void>;
}

export class Notifier {
  constructor(
    private readonly queue: NotificationQueue,
    private readonly inventory: Inventory,
    private readonly smdpId: string,
    /** `rsp/v1` in production: the topic is then `rsp/v1/mno/{mnoId}/es2/notify`. */
    private readonly topicRoot: string,
  ) {}

  /** Queues one ES2 notification to `mnoId` on every channel it has, in one statement. */
  async notifyMno(mnoId: string, fn: ProfileNotification, change: ProfileChangeNotification): Promise<void> {
    const mno = await this.inventory.mno(mnoId);
    if (!mno) return;
    const payload: MnoNotificationPayload = {
      interface: 'ES2',
      function: fn,
      body: {
        header: { functionRequesterIdentifier: this.smdpId, functionCallIdentifier: randomUUID() },
        eid: change.eid,
        iccid: change.iccid,
        completionTimestamp: change.completionTimestamp,
      },
    };
    const destinations = [es2NotifyDestination(this.topicRoot, mnoId), ...(mno.webhookUrl ? [mno.webhookUrl] : [])];
    await this.queue.enqueue(destinations.map((destination) => ({ destination, payload })));
  }

  /**
   * An ES3 Handle*Notification from the SM-SR: validated, the subscription updated (deleted), and the
   * notification forwarded to the MNO owning the ICCID. Unknown ICCID → 8.2.1 / 3.9.
   */
  async handleEs3Notification(fn: ProfileNotification, data: unknown): Promise<FunctionResponse> {
    const notification = parse(NOTIFICATIONS[fn], data);
    const owner = await this.inventory.ownerOf(notification.iccid);
    if (owner === null) throw new StatusError(SMDP_STATUS.ICCID_UNKNOWN, notification.iccid);
    if (fn === 'HandleProfileDeletedNotification') await this.inventory.markDeleted(notification.iccid);
    await this.notifyMno(owner, fn, notification);
    return { header: { functionExecutionStatus: executedSuccess() } };
  }
}
