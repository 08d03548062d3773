import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Native types per driver, matching `NATIVE_COLUMN_TYPES` in columns.ts. */
const TYPES = {
  postgres: { json: 'jsonb', timestamp: 'timestamptz', text: 'text' },
  sqlite: { json: 'text', timestamp: 'datetime', text: 'text' },
} as const;

/**
 * Creates the generic tables (idempotency, outbox, state machine transactions) on Postgres and SQLite,
 * so production SQLite is migrated exactly like Postgres. Hand-written SQL; on Postgres the tables go
 * into the DataSource's `schema` option when set.
 */
export class PersistenceInit1767225600000 implements MigrationInterface {
  readonly name = 'PersistenceInit1767225600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    const t = type === 'postgres' ? TYPES.postgres : TYPES.sqlite;
    const q = (table: string) => (type === 'postgres' && schema ? `"${schema}"."${table}"` : `"${table}"`);
    const statements = [
      `CREATE TABLE ${q('rsp_idempotency_record')} (
        "requester" varchar(255) NOT NULL,
        "function_call_identifier" varchar(255) NOT NULL,
        "status" varchar(16) NOT NULL CHECK ("status" IN ('in-progress', 'succeeded', 'failed')),
        "response" ${t.json},
        "error_code" varchar(128),
        "created_at" ${t.timestamp} NOT NULL,
        "expires_at" ${t.timestamp} NOT NULL,
        PRIMARY KEY ("requester", "function_call_identifier"))`,
      `CREATE INDEX "rsp_idempotency_record_expires_at_idx" ON ${q('rsp_idempotency_record')} ("expires_at")`,
      `CREATE TABLE ${q('rsp_outbox_message')} (
        "id" varchar(36) NOT NULL PRIMARY KEY,
        "destination" varchar(2048) NOT NULL,
        "payload" ${t.json} NOT NULL,
        "status" varchar(16) NOT NULL CHECK ("status" IN ('pending', 'delivered', 'dead')),
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" ${t.timestamp} NOT NULL,
        "claimed_until" ${t.timestamp},
        "delivered_at" ${t.timestamp},
        "last_error" text,
        "created_at" ${t.timestamp} NOT NULL)`,
      `CREATE INDEX "rsp_outbox_message_due_idx" ON ${q('rsp_outbox_message')} ("status", "next_attempt_at")`,
      `CREATE TABLE ${q('rsp_transaction_record')} (
        "id" varchar(64) NOT NULL PRIMARY KEY,
        "flow" varchar(128) NOT NULL,
        "step_index" integer NOT NULL,
        "step_name" varchar(128),
        "status" varchar(16) NOT NULL CHECK ("status" IN ('running', 'succeeded', 'failed', 'expired')),
        "context" ${t.json} NOT NULL,
        "attempts" integer NOT NULL,
        "error_code" varchar(128),
        "error_message" text,
        "deadline" ${t.timestamp},
        "created_at" ${t.timestamp} NOT NULL,
        "updated_at" ${t.timestamp} NOT NULL)`,
      `CREATE INDEX "rsp_transaction_record_status_idx" ON ${q('rsp_transaction_record')} ("status", "updated_at")`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    const q = (table: string) => (type === 'postgres' && schema ? `"${schema}"."${table}"` : `"${table}"`);
    for (const table of ['rsp_transaction_record', 'rsp_outbox_message', 'rsp_idempotency_record']) {
      await queryRunner.query(`DROP TABLE ${q(table)}`);
    }
  }
}
