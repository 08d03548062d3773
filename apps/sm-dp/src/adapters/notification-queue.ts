/**
 * The Notifier's queue (domain/notifier.ts NotificationQueue) on the persisted outbox: every channel of
 * one notification in ONE INSERT (atomic on its own, no transaction), written claimed by this process and
 * handed straight to the relay (@rsp/persistence OutboxRelay); should the process die first, the claim
 * runs out and a poll delivers them: at least once.
 */
import type { DataSource } from 'typeorm';
import type { Outbox } from '@rsp/persistence';
import type { NotificationQueue } from '../domain/notifier';

export function outboxNotificationQueue(outbox: Outbox, dataSource: DataSource): NotificationQueue {
  return {
    async enqueue(messages) {
      const rows = outbox.prepare(messages, true);
      await outbox.insert(dataSource, rows);
      outbox.committed(rows);
    },
  };
}
