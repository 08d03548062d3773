import { Entity, PrimaryColumn } from 'typeorm';
import { BytesColumn, JsonColumn, TimestampColumn } from '@rsp/persistence';
import type { PolicyRule } from '@rsp/contracts';
import type { ProfileType } from '../../domain/inventory-store';

/**
 * A profile type of one MNO (SGP.02 §3.1.1 "ProfileType"): the SAIP template (TCA PE_Definitions DER)
 * personalised per subscription at download, and the POL2 sent with ProfileDownloadCompleted.
 */
@Entity({ name: 'smdp_profile_type' })
export class ProfileTypeRecord implements ProfileType {
  @PrimaryColumn({ type: 'varchar', length: 128, name: 'mno_id' })
  mnoId!: string;

  @PrimaryColumn({ type: 'varchar', length: 64, name: 'name' })
  name!: string;

  /** SAIP profile package template, DER. */
  @BytesColumn({ name: 'template' })
  template!: Buffer;

  /** POL2 rules of profiles of this type (SGP.02 §2.4.5). */
  @JsonColumn({ name: 'pol2' })
  pol2!: PolicyRule[];

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;
}
