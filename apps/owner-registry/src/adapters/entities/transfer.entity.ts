import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '@rsp/persistence';
import type { SubscriptionChoice, Transfer } from '../../domain/records';

/** A resale in progress: the transfer code (hashed), single use, 10 min, 5 attempts then burned. */
@Entity({ name: 'owner_transfer' })
export class TransferRecord implements Transfer {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'id' })
  id!: string;

  @Column({ type: 'varchar', length: 32, name: 'eid' })
  eid!: string;

  /** `salt.hex(sha256(salt ‖ code))`. @secret */
  @Column({ type: 'varchar', length: 160, name: 'code_hash' })
  codeHash!: string;

  @Column({ type: 'varchar', length: 512, name: 'seller_iss' })
  sellerIss!: string;

  @Column({ type: 'varchar', length: 255, name: 'seller_sub' })
  sellerSub!: string;

  @Column({ type: 'varchar', length: 8, name: 'subscription' })
  subscription!: SubscriptionChoice;

  /** The seller's MNO whose profile leaves (or passes) with the device. */
  @Column({ type: 'varchar', length: 128, name: 'mno_id', nullable: true })
  mnoId!: string | null;

  @Column({ type: 'varchar', length: 20, name: 'iccid', nullable: true })
  iccid!: string | null;

  @TimestampColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @Column({ type: 'integer', name: 'attempts' })
  attempts!: number;

  @TimestampColumn({ name: 'used_at', nullable: true })
  usedAt!: Date | null;

  /** Set after the 5th wrong attempt, or when a newer transfer replaced this one. */
  @TimestampColumn({ name: 'burned_at', nullable: true })
  burnedAt!: Date | null;

  @Column({ type: 'varchar', length: 512, name: 'buyer_iss', nullable: true })
  buyerIss!: string | null;

  @Column({ type: 'varchar', length: 255, name: 'buyer_sub', nullable: true })
  buyerSub!: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;
}
