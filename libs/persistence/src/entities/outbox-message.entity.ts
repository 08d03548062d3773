import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../columns';

/** Lifecycle of an outbox message; `dead` = dead-lettered after the last allowed attempt. */
export type OutboxStatus = 'pending' | 'delivered' | 'dead';

/**
 * A message to deliver at least once (webhook POST or MQTT publish), written in the same transaction
 * as the state change that caused it (transactional outbox).
 */
@Entity({ name: 'rsp_outbox_message' })
@Index('rsp_outbox_message_due_idx', ['status', 'nextAttemptAt'])
// An MNO's notification feed reads one destination's newest rows (Outbox.recentTo).
@Index('rsp_outbox_message_destination_idx', ['destination', 'createdAt'])
export class OutboxMessage {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'id' })
  id!: string;

  /** Webhook URL (`https://…`) or MQTT topic (`mqtt:topic/…`); interpreted by the delivering worker. */
  @Column({ type: 'varchar', length: 2048, name: 'destination' })
  destination!: string;

  @JsonColumn({ name: 'payload' })
  payload!: unknown;

  @Column({ type: 'varchar', length: 16, name: 'status' })
  status!: OutboxStatus;

  /** Failed delivery attempts so far. */
  @Column({ type: 'integer', name: 'attempts', default: 0 })
  attempts!: number;

  @TimestampColumn({ name: 'next_attempt_at' })
  nextAttemptAt!: Date;

  /** A claimer owns the message until this instant (a crashed claimer's lease simply runs out). */
  @TimestampColumn({ name: 'claimed_until', nullable: true })
  claimedUntil!: Date | null;

  @TimestampColumn({ name: 'delivered_at', nullable: true })
  deliveredAt!: Date | null;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError!: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;
}
