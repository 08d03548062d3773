/**
 * Profile change notifications (SGP.02 §5.4 ES3 / §5.6 ES4 Handle*Notification [U exact numbers]):
 * after an enable, disable or delete the SM-SR tells the profile's SM-DP (ES3, MQTT service request
 * `smdp/{smdpId}/es3/{Function}`) and its MNO (ES4: webhook POST and MQTT `rsp/v1/mno/{mnoId}/es4/notify`,
 * payload `{ interface: 'ES4', function, body }`). Written to the outbox in the same transaction as the
 * registry change, delivered and retried by the outbox worker.
 */
import { randomUUID } from 'node:crypto';
import { es3CallbackPattern, isId, mnoNotifyTopic, type ProfileChangeNotification, type RequestHeader } from '@rsp/contracts';
import type { OutboundMessage, ProfileRecord } from './model';

/** The outbox destination of an MNO's ES4 notifications on the bus (`rsp/v1/mno/{mnoId}/es4/notify`, docs/topics.md). */
export function es4NotifyDestination(mnoId: string): string {
  return `mqtt:${mnoNotifyTopic(mnoId, 'es4')}`;
}

export type ProfileChange = 'Enabled' | 'Disabled' | 'Deleted';
export type NotificationFunction = `HandleProfile${ProfileChange}Notification`;

/** An MNO's ES4 notification endpoints (from configuration). */
export interface MnoEndpoint {
  mnoId: string;
  webhookUrl?: string;
}

/** Owner ids that never receive notifications: profiles installed at manufacture (see simulator/src/eum.ts). */
export const UNNOTIFIED_OWNERS: ReadonlySet<string> = new Set(['bootstrap']);

export class NotificationPlanner {
  constructor(
    private readonly smsrId: string,
    private readonly mnos: ReadonlyMap<string, MnoEndpoint>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The outbox messages announcing `change` of `profile`. */
  messagesFor(profile: ProfileRecord, change: ProfileChange, completedAt: Date = this.now()): OutboundMessage[] {
    const fn: NotificationFunction = `HandleProfile${change}Notification`;
    const body = (): { header: RequestHeader } & ProfileChangeNotification => ({
      header: { functionRequesterIdentifier: this.smsrId, functionCallIdentifier: randomUUID() },
      eid: profile.eid,
      iccid: profile.iccid,
      completionTimestamp: completedAt.toISOString(),
    });
    const messages: OutboundMessage[] = [];
    if (!UNNOTIFIED_OWNERS.has(profile.smdpId) && isId(profile.smdpId)) {
      messages.push({ destination: `svc:${es3CallbackPattern(profile.smdpId, fn)}`, payload: body() });
    }
    const mno = this.mnos.get(profile.mnoId);
    if (mno && !UNNOTIFIED_OWNERS.has(mno.mnoId)) {
      const payload = { interface: 'ES4', function: fn, body: body() };
      if (mno.webhookUrl) messages.push({ destination: mno.webhookUrl, payload });
      if (isId(mno.mnoId)) messages.push({ destination: es4NotifyDestination(mno.mnoId), payload });
    }
    return messages;
  }
}
