import { Column, Entity, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '@rsp/persistence';
import type { Device, DeviceLifecycle } from '../../domain/records';

/**
 * A device a maker registered (docs/owner-registry.md "Device identifiers"): its URL never changes,
 * owners do. Only a salted SHA-256 of the claim code is stored.
 */
@Entity({ name: 'owner_device' })
export class DeviceRecord implements Device {
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'eid' })
  eid!: string;

  @Column({ type: 'varchar', length: 128, name: 'maker_id' })
  makerId!: string;

  @Column({ type: 'varchar', length: 64, name: 'device_id' })
  deviceId!: string;

  @Column({ type: 'varchar', length: 64, name: 'model' })
  model!: string;

  @Column({ type: 'varchar', length: 512, name: 'device_url', unique: true })
  deviceUrl!: string;

  /** `salt.hex(sha256(salt ‖ code))`. @secret */
  @Column({ type: 'varchar', length: 160, name: 'claim_code_hash' })
  claimCodeHash!: string;

  @Column({ type: 'varchar', length: 16, name: 'status' })
  status!: DeviceLifecycle;

  @Column({ type: 'integer', name: 'consent_epoch' })
  consentEpoch!: number;

  /** Version of the signed status document: +1 in the transaction of every status change (never goes back). */
  @Column({ type: 'integer', name: 'status_version' })
  statusVersion!: number;

  @TimestampColumn({ name: 'recently_transferred_at', nullable: true })
  recentlyTransferredAt!: Date | null;

  /** The device's settings document (any JSON object). */
  @JsonColumn({ name: 'settings' })
  settings!: Record<string, unknown>;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
