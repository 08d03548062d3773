import { Column, Entity, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '@rsp/persistence';
import type { Consent } from '../../domain/records';

/** A consent token the registry signed (docs/owner-registry.md "Consent tokens"); the JWT itself is not kept. */
@Entity({ name: 'owner_consent' })
export class ConsentRecord implements Consent {
  @PrimaryColumn({ type: 'varchar', length: 64, name: 'jti' })
  jti!: string;

  @Column({ type: 'varchar', length: 32, name: 'eid' })
  eid!: string;

  @Column({ type: 'varchar', length: 128, name: 'mno_id' })
  mnoId!: string;

  @JsonColumn({ name: 'ops' })
  ops!: string[];

  @Column({ type: 'integer', name: 'epoch' })
  epoch!: number;

  /** The owner who gave it; null when the registry minted it itself (resale 'leave', porting). */
  @Column({ type: 'varchar', length: 512, name: 'given_by_iss', nullable: true })
  givenByIss!: string | null;

  @Column({ type: 'varchar', length: 255, name: 'given_by_sub', nullable: true })
  givenBySub!: string | null;

  @TimestampColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;

  @TimestampColumn({ name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
