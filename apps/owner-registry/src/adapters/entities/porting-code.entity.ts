import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '@rsp/persistence';
import type { PortingCode } from '../../domain/records';

/** A Porting Authorisation Code the donor MNO issued for `(eid, iccid)` (hashed, 30 days, single use). */
@Entity({ name: 'owner_porting_code' })
export class PortingCodeRecord implements PortingCode {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'id' })
  id!: string;

  /** `salt.hex(sha256(salt ‖ pac))`. @secret */
  @Column({ type: 'varchar', length: 160, name: 'pac_hash' })
  pacHash!: string;

  @Column({ type: 'varchar', length: 32, name: 'eid' })
  eid!: string;

  @Column({ type: 'varchar', length: 20, name: 'iccid' })
  iccid!: string;

  @Column({ type: 'varchar', length: 128, name: 'donor_mno_id' })
  donorMnoId!: string;

  @TimestampColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @TimestampColumn({ name: 'used_at', nullable: true })
  usedAt!: Date | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;
}
