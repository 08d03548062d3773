import { Column, Entity, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '@rsp/persistence';
import type { ActorKind, AuditEvent } from '../../domain/records';

/** One audited call: who, what, on which device, the outcome (`ok` or an ERR_* code) and the auth context. */
@Entity({ name: 'owner_audit' })
export class AuditRecord implements AuditEvent {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'id' })
  id!: string;

  @TimestampColumn({ name: 'at' })
  at!: Date;

  @Column({ type: 'varchar', length: 16, name: 'actor_kind' })
  actorKind!: ActorKind;

  @Column({ type: 'varchar', length: 512, name: 'actor_iss', nullable: true })
  actorIss!: string | null;

  @Column({ type: 'varchar', length: 255, name: 'actor_sub', nullable: true })
  actorSub!: string | null;

  /** Maker or MNO id (API key callers). */
  @Column({ type: 'varchar', length: 128, name: 'actor_client', nullable: true })
  actorClient!: string | null;

  @Column({ type: 'varchar', length: 64, name: 'action' })
  action!: string;

  @Column({ type: 'varchar', length: 32, name: 'eid', nullable: true })
  eid!: string | null;

  @Column({ type: 'varchar', length: 256, name: 'target', nullable: true })
  target!: string | null;

  @Column({ type: 'varchar', length: 64, name: 'outcome' })
  outcome!: string;

  /** `{ auth_time, acr, amr, jti }` of the owner's token, when there was one. */
  @JsonColumn({ name: 'auth_context', nullable: true })
  authContext!: Record<string, unknown> | null;
}
