import { Column, Entity, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '@rsp/persistence';
import type { SettingsSnapshot } from '../../domain/records';

/** A device's settings document copied into the seller's account at a resale. */
@Entity({ name: 'owner_settings_snapshot' })
export class SettingsSnapshotRecord implements SettingsSnapshot {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'id' })
  id!: string;

  @Column({ type: 'varchar', length: 512, name: 'owner_iss' })
  ownerIss!: string;

  @Column({ type: 'varchar', length: 255, name: 'owner_sub' })
  ownerSub!: string;

  @Column({ type: 'varchar', length: 64, name: 'model' })
  model!: string;

  @JsonColumn({ name: 'settings' })
  settings!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 512, name: 'source_device_url' })
  sourceDeviceUrl!: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;
}
