import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../columns';

/** Lifecycle of an idempotency claim. */
export type IdempotencyStatus = 'in-progress' | 'succeeded' | 'failed';

/**
 * One executed (or executing) function call, keyed by `(requester, functionCallIdentifier)`.
 * SGP.02 §5.1 (function call model): a repeated functionCallIdentifier from the same requester must
 * not execute twice; the composite primary key makes the first INSERT the only winner, on any
 * number of processes.
 */
@Entity({ name: 'rsp_idempotency_record' })
export class IdempotencyRecord {
  /** Identity of the caller (e.g. the authenticated client certificate subject or the sender's OID). */
  @PrimaryColumn({ type: 'varchar', length: 255, name: 'requester' })
  requester!: string;

  /** The caller's functionCallIdentifier. */
  @PrimaryColumn({ type: 'varchar', length: 255, name: 'function_call_identifier' })
  functionCallIdentifier!: string;

  @Column({ type: 'varchar', length: 16, name: 'status' })
  status!: IdempotencyStatus;

  /** Stored outcome: the response (succeeded) or `{ code, message }` (failed); null while in progress. */
  @JsonColumn({ name: 'response', nullable: true })
  response!: unknown;

  /**
   * Hex SHA-256 of the canonical request (function name included; see `requestFingerprint`), stored with
   * the claim: a repeat of the identifier with another request is refused, not answered (SGP.02 §5.1
   * functionCallIdentifier). Null for callers that pass none and for rows older than the column.
   */
  @Column({ type: 'varchar', length: 64, name: 'request_fingerprint', nullable: true })
  requestFingerprint!: string | null;

  /** Error code of a failed outcome. */
  @Column({ type: 'varchar', length: 128, name: 'error_code', nullable: true })
  errorCode!: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;

  /** After this instant the record may be forgotten and the identifier reused. */
  @Index('rsp_idempotency_record_expires_at_idx')
  @TimestampColumn({ name: 'expires_at' })
  expiresAt!: Date;
}
