import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '@rsp/persistence';
import type { Grant, GrantScope, Role } from '../../domain/records';

/**
 * A role of an owner identity `(iss, sub)` on one device (scope `device`) or on one group (scope
 * `group`, applying to the group's devices). Revoked grants are kept (revokedAt) for the history.
 */
@Entity({ name: 'owner_grant' })
export class GrantRecord implements Grant {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'id' })
  id!: string;

  @Column({ type: 'varchar', length: 8, name: 'scope' })
  scope!: GrantScope;

  @Column({ type: 'varchar', length: 32, name: 'eid', nullable: true })
  eid!: string | null;

  @Column({ type: 'varchar', length: 36, name: 'group_id', nullable: true })
  groupId!: string | null;

  @Column({ type: 'varchar', length: 8, name: 'role' })
  role!: Role;

  @Column({ type: 'varchar', length: 512, name: 'subject_iss' })
  subjectIss!: string;

  @Column({ type: 'varchar', length: 255, name: 'subject_sub' })
  subjectSub!: string;

  @Column({ type: 'varchar', length: 512, name: 'created_by_iss', nullable: true })
  createdByIss!: string | null;

  @Column({ type: 'varchar', length: 255, name: 'created_by_sub', nullable: true })
  createdBySub!: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;

  @TimestampColumn({ name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
