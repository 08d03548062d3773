import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '@rsp/persistence';
import type { Group, GroupLink } from '../../domain/records';

/** A household: its members' roles (grants of scope `group`) apply to its devices. */
@Entity({ name: 'owner_group' })
export class GroupRecord implements Group {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'id' })
  id!: string;

  @Column({ type: 'varchar', length: 128, name: 'name' })
  name!: string;

  @Column({ type: 'varchar', length: 512, name: 'created_by_iss' })
  createdByIss!: string;

  @Column({ type: 'varchar', length: 255, name: 'created_by_sub' })
  createdBySub!: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;
}

/** A device's membership of a group (removedAt set when unlinked, e.g. at a resale). */
@Entity({ name: 'owner_group_device' })
export class GroupDeviceRecord implements GroupLink {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'id' })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'group_id' })
  groupId!: string;

  @Column({ type: 'varchar', length: 32, name: 'eid' })
  eid!: string;

  @Column({ type: 'varchar', length: 512, name: 'added_by_iss' })
  addedByIss!: string;

  @Column({ type: 'varchar', length: 255, name: 'added_by_sub' })
  addedBySub!: string;

  @TimestampColumn({ name: 'added_at' })
  addedAt!: Date;

  @TimestampColumn({ name: 'removed_at', nullable: true })
  removedAt!: Date | null;
}
