/**
 * Card-originated notifications (SGP.02 §4.1.1.11 eUICC notifications; SPEC-NOTES "Card notifications").
 *
 * Layout (a bare BER-TLV, sent by the transport until the SM-SR confirms it with
 * HandleNotificationConfirmation `3A08`):
 *
 *   E1 L {
 *     4C 10 EID (16 bytes BCD, plain nibble order)
 *     4D 01 notification type        (NOTIFICATION_TYPE: 01 declaration, 02 change ok, 05 after fall-back …)
 *     4E 02 sequence number          (big-endian, strictly increasing per card)
 *     [2F L ISD-P AID]               (ETSI TS 102 223 AID tag; present for profile changes)
 *     [14 L IMEI]                    (ETSI TS 102 223 IMEI tag; when the device told us)
 *   }
 *
 * [U] The tag values come from SPEC-NOTES (njiwa), not from the SGP.02 text; the 2F/14 tags match the
 * ETSI TS 102 223 COMPREHENSION-TLV tags (without the CR bit).
 */
import { eidToBytes } from '@rsp/pki';
import { encodeTlv } from '@rsp/tlv';
import type { CardContext } from './context';
import type { CardState, NotificationState } from './model';

const TAG_NOTIFICATION = 0xe1;
const TAG_EID = 0x4c;
const TAG_TYPE = 0x4d;
const TAG_SEQ = 0x4e;
const TAG_AID = 0x2f;
const TAG_IMEI = 0x14;
/** The sequence number is 2 bytes: it wraps after 0xFFFF (never 0, so a fresh card's first is 1). */
const MAX_SEQ = 0xffff;

/** Encodes one notification TLV (see the module comment for the layout). */
export function encodeNotification(eid: string, type: number, seq: number, aid?: string, imei?: string): Buffer {
  const parts = [
    encodeTlv(TAG_EID, eidToBytes(eid)),
    encodeTlv(TAG_TYPE, Buffer.of(type)),
    encodeTlv(TAG_SEQ, Buffer.of(seq >> 8, seq & 0xff)),
  ];
  if (aid) parts.push(encodeTlv(TAG_AID, Buffer.from(aid, 'hex')));
  if (imei) parts.push(encodeTlv(TAG_IMEI, Buffer.from(imei, 'hex')));
  return encodeTlv(TAG_NOTIFICATION, ...parts);
}

/**
 * Appends a pending notification to a state (used at manufacture and by {@link queueNotification}).
 * Returns the stored notification; the sequence counter advances in the same state, so both persist
 * together with the change that caused the notification.
 */
export function appendNotification(
  state: CardState,
  type: number,
  now: Date,
  aid?: string,
  extra: Pick<NotificationState, 'disabledAid'> = {},
): NotificationState {
  const seq = state.notifications.nextSeq;
  const notification: NotificationState = {
    seq,
    type,
    tlv: encodeNotification(state.eid, type, seq, aid, state.imei).toString('hex'),
    createdAt: now.toISOString(),
    attempts: 0,
    ...(aid ? { aid } : {}),
    ...(extra.disabledAid ? { disabledAid: extra.disabledAid } : {}),
  };
  state.notifications.pending.push(notification);
  state.notifications.nextSeq = seq >= MAX_SEQ ? 1 : seq + 1;
  return notification;
}

/** Queues a notification in the command's draft state and emits 'notification-queued' after commit. */
export function queueNotification(
  ctx: CardContext,
  type: number,
  aid?: string,
  extra: Pick<NotificationState, 'disabledAid'> = {},
): NotificationState {
  const notification = appendNotification(ctx.state, type, ctx.env.now(), aid, extra);
  ctx.emit({ type: 'notification-queued', seq: notification.seq, notificationType: type });
  return notification;
}

/** Notifications still waiting for the SM-SR's confirmation, oldest first (the transport resends them). */
export function pendingNotifications(state: CardState): readonly NotificationState[] {
  return state.notifications.pending.map((notification) => ({ ...notification }));
}
