import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '@rsp/persistence';
import type { Subscription, SubscriptionState } from '../../domain/inventory-store';

/**
 * One subscription of the SM-DP's pool (SGP.02 §3.1.1 step "profile reservation"): the values that
 * personalise a profile. Ki and OPc are stored only sealed with SecretBox (AES-256-GCM, the ICCID as
 * associated data), never in clear.
 */
@Entity({ name: 'smdp_subscription' })
// ICCID last (COLLATE "C" on PostgreSQL): a reservation takes the first available one by ICCID straight
// from the index (migration 1767744000000, which defines it; this decorator only names it).
@Index('smdp_subscription_pick_idx', ['mnoId', 'profileType', 'state', 'iccid'])
export class SubscriptionRecord implements Subscription {
  @PrimaryColumn({ type: 'varchar', length: 20, name: 'iccid' })
  iccid!: string;

  @Column({ type: 'varchar', length: 15, name: 'imsi' })
  imsi!: string;

  /** SecretBox-sealed Ki. @secret */
  @Column({ type: 'text', name: 'ki_sealed' })
  kiSealed!: string;

  /** SecretBox-sealed OPc. @secret */
  @Column({ type: 'text', name: 'opc_sealed' })
  opcSealed!: string;

  @Column({ type: 'varchar', length: 128, name: 'mno_id' })
  mnoId!: string;

  @Column({ type: 'varchar', length: 64, name: 'profile_type' })
  profileType!: string;

  @Column({ type: 'varchar', length: 16, name: 'state' })
  state!: SubscriptionState;

  /** The eUICC the profile is reserved for / installed on. */
  @Column({ type: 'varchar', length: 32, name: 'eid', nullable: true })
  eid!: string | null;

  /** The download transaction holding the reservation. */
  @Column({ type: 'varchar', length: 64, name: 'transaction_id', nullable: true })
  transactionId!: string | null;

  @Column({ type: 'varchar', length: 32, name: 'isdp_aid', nullable: true })
  isdpAid!: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
