/**
 * The SM-SR's EIS registry tables (SGP.02 Annex E EIS, one row per eUICC and one per profile), with the
 * portable columns of @rsp/persistence. Created by the migration next to this file; synchronize stays off.
 */
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { EumSignedInfo, PolicyRule, ProfileState } from '@rsp/contracts';
import { JsonColumn, TimestampColumn } from '@rsp/persistence';

@Entity({ name: 'smsr_euicc' })
export class SmsrEuiccEntity {
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'eid' })
  eid!: string;

  @Column({ type: 'varchar', length: 128, name: 'eum_id' })
  eumId!: string;

  @Column({ type: 'varchar', length: 128, name: 'smsr_id' })
  smsrId!: string;

  /** The EumSignedInfo fields as the EUM sent them; the EUM signature covers exactly these. */
  @JsonColumn({ name: 'eum_signed_info' })
  eumSignedInfo!: EumSignedInfo;

  @Column({ type: 'varchar', length: 128, name: 'eum_signature' })
  eumSignature!: string;

  @Column({ type: 'varchar', length: 32, name: 'isd_r_aid' })
  isdRAid!: string;

  /** ISD-R SCP03 key set, sealed with SecretBox (AAD = the row's EID). @secret */
  @Column({ type: 'text', name: 'isd_r_keys_sealed' })
  isdRKeysSealed!: string;

  @Column({ type: 'integer', name: 'remaining_memory' })
  remainingMemory!: number;

  @Column({ type: 'integer', name: 'available_memory' })
  availableMemoryForProfiles!: number;

  @TimestampColumn({ name: 'last_audit_date', nullable: true })
  lastAuditDate!: Date | null;

  @TimestampColumn({ name: 'registered_at' })
  registeredAt!: Date;
}

@Entity({ name: 'smsr_profile' })
@Index('smsr_profile_iccid_idx', ['iccid'], { unique: true })
@Index('smsr_profile_isdp_idx', ['eid', 'isdpAid'], { unique: true })
export class SmsrProfileEntity {
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'eid' })
  eid!: string;

  @PrimaryColumn({ type: 'varchar', length: 20, name: 'iccid' })
  iccid!: string;

  @Column({ type: 'varchar', length: 32, name: 'isdp_aid' })
  isdpAid!: string;

  @Column({ type: 'varchar', length: 128, name: 'mno_id' })
  mnoId!: string;

  @Column({ type: 'varchar', length: 128, name: 'smdp_id' })
  smdpId!: string;

  @Column({ type: 'varchar', length: 16, name: 'state' })
  state!: ProfileState;

  @Column({ type: 'boolean', name: 'fallback' })
  fallback!: boolean;

  @JsonColumn({ name: 'pol2' })
  pol2!: PolicyRule[];

  @Column({ type: 'varchar', length: 64, name: 'profile_type', nullable: true })
  profileType!: string | null;

  @Column({ type: 'integer', name: 'allocated_memory', nullable: true })
  allocatedMemory!: number | null;

  @JsonColumn({ name: 'subscription_address', nullable: true })
  subscriptionAddress!: { imsi?: string; msisdn?: string } | null;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

/**
 * The cross-instance card lock (domain/card-lease.ts): who talks to the card now, and until when
 * (epoch ms, compared with the acquirer's clock). Written with raw SQL by card-lease-store.ts.
 */
@Entity({ name: 'smsr_card_lease' })
export class SmsrCardLeaseEntity {
  @PrimaryColumn({ type: 'varchar', length: 32, name: 'eid' })
  eid!: string;

  @Column({ type: 'varchar', length: 200, name: 'holder' })
  holder!: string;

  @Column({ type: 'bigint', name: 'expires_at' })
  expiresAt!: string;
}
