import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../columns';

/** Lifecycle of a persisted flow run. */
export type TransactionStatus = 'running' | 'succeeded' | 'failed' | 'expired';

/**
 * One run of a persisted state machine flow (see `state-machine.ts`). The row is rewritten after every
 * step, so a restarted process resumes at `stepIndex` with the context as it was after the last step.
 * The context must not hold secrets in clear: seal them with `SecretBox` first.
 */
@Entity({ name: 'rsp_transaction_record' })
@Index('rsp_transaction_record_status_idx', ['status', 'updatedAt'])
export class TransactionRecord {
  @PrimaryColumn({ type: 'varchar', length: 64, name: 'id' })
  id!: string;

  @Column({ type: 'varchar', length: 128, name: 'flow' })
  flow!: string;

  /** Index of the next step to run (equals the step count once succeeded). */
  @Column({ type: 'integer', name: 'step_index' })
  stepIndex!: number;

  /** Name of the next step to run, or of the step that failed; null once succeeded. */
  @Column({ type: 'varchar', length: 128, name: 'step_name', nullable: true })
  stepName!: string | null;

  @Column({ type: 'varchar', length: 16, name: 'status' })
  status!: TransactionStatus;

  @JsonColumn({ name: 'context' })
  context!: Record<string, unknown>;

  /** How many times the flow was started or resumed. */
  @Column({ type: 'integer', name: 'attempts' })
  attempts!: number;

  @Column({ type: 'varchar', length: 128, name: 'error_code', nullable: true })
  errorCode!: string | null;

  @Column({ type: 'text', name: 'error_message', nullable: true })
  errorMessage!: string | null;

  /** validityPeriod end: reaching it before success marks the run expired. */
  @TimestampColumn({ name: 'deadline', nullable: true })
  deadline!: Date | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
