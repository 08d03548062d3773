import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '@rsp/persistence';
import type { ApiClient, ApiClientKind } from '../../domain/records';

/** A maker or an MNO calling with `X-API-Key`: only the SHA-256 of the key is stored. */
@Entity({ name: 'owner_api_client' })
export class ApiClientRecord implements ApiClient {
  @PrimaryColumn({ type: 'varchar', length: 140, name: 'id' })
  id!: string;

  @Column({ type: 'varchar', length: 8, name: 'kind' })
  kind!: ApiClientKind;

  @Column({ type: 'varchar', length: 128, name: 'client_id' })
  clientId!: string;

  @Column({ type: 'varchar', length: 64, name: 'api_key_sha256', unique: true })
  apiKeySha256!: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;
}

/** An owner identity seen by the registry: the pair (iss, sub), never an email. */
@Entity({ name: 'owner_account' })
export class OwnerAccountRecord {
  @PrimaryColumn({ type: 'varchar', length: 512, name: 'iss' })
  iss!: string;

  @PrimaryColumn({ type: 'varchar', length: 255, name: 'sub' })
  sub!: string;

  @TimestampColumn({ name: 'first_seen_at' })
  firstSeenAt!: Date;
}
