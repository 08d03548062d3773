import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '@rsp/persistence';
import type { Mno } from '../../domain/inventory-store';

/**
 * An MNO allowed to call ES2 on this SM-DP (SGP.02 §2.2: the MNO is the SM-DP's customer). Only the
 * SHA-256 of its API key is stored, so a database dump does not give access.
 */
@Entity({ name: 'smdp_mno' })
export class MnoRecord implements Mno {
  @PrimaryColumn({ type: 'varchar', length: 128, name: 'mno_id' })
  mnoId!: string;

  /** Hex SHA-256 of the `X-API-Key` value. */
  @Column({ type: 'varchar', length: 64, name: 'api_key_sha256', unique: true })
  apiKeySha256!: string;

  /** Where ES2 notifications are POSTed (optional; MQTT delivery always happens). */
  @Column({ type: 'varchar', length: 2048, name: 'webhook_url', nullable: true })
  webhookUrl!: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;
}
