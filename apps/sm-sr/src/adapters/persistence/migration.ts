import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Native types per driver, matching NATIVE_COLUMN_TYPES of @rsp/persistence. */
const TYPES = {
  postgres: { json: 'jsonb', timestamp: 'timestamptz' },
  sqlite: { json: 'text', timestamp: 'datetime' },
} as const;

/**
 * Creates the SM-SR's EIS registry (smsr_euicc, smsr_profile) on Postgres and SQLite, in the style of
 * libs/persistence's PersistenceInit migration (hand-written SQL; on Postgres in the DataSource's schema).
 */
export class SmSrRegistryInit1767312000000 implements MigrationInterface {
  readonly name = 'SmSrRegistryInit1767312000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    const t = type === 'postgres' ? TYPES.postgres : TYPES.sqlite;
    const q = (table: string) => (type === 'postgres' && schema ? `"${schema}"."${table}"` : `"${table}"`);
    const statements = [
      `CREATE TABLE ${q('smsr_euicc')} (
        "eid" varchar(32) NOT NULL PRIMARY KEY,
        "eum_id" varchar(128) NOT NULL,
        "smsr_id" varchar(128) NOT NULL,
        "eum_signed_info" ${t.json} NOT NULL,
        "eum_signature" varchar(128) NOT NULL,
        "isd_r_aid" varchar(32) NOT NULL,
        "isd_r_keys_sealed" text NOT NULL,
        "remaining_memory" integer NOT NULL,
        "available_memory" integer NOT NULL,
        "last_audit_date" ${t.timestamp},
        "registered_at" ${t.timestamp} NOT NULL)`,
      `CREATE TABLE ${q('smsr_profile')} (
        "eid" varchar(32) NOT NULL REFERENCES ${q('smsr_euicc')} ("eid") ON DELETE CASCADE,
        "iccid" varchar(20) NOT NULL,
        "isdp_aid" varchar(32) NOT NULL,
        "mno_id" varchar(128) NOT NULL,
        "smdp_id" varchar(128) NOT NULL,
        "state" varchar(16) NOT NULL CHECK ("state" IN ('Created', 'Disabled', 'Enabled')),
        "fallback" boolean NOT NULL,
        "pol2" ${t.json} NOT NULL,
        "profile_type" varchar(64),
        "allocated_memory" integer,
        "subscription_address" ${t.json},
        "updated_at" ${t.timestamp} NOT NULL,
        PRIMARY KEY ("eid", "iccid"))`,
      `CREATE UNIQUE INDEX "smsr_profile_iccid_idx" ON ${q('smsr_profile')} ("iccid")`,
      `CREATE UNIQUE INDEX "smsr_profile_isdp_idx" ON ${q('smsr_profile')} ("eid", "isdp_aid")`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    const q = (table: string) => (type === 'postgres' && schema ? `"${schema}"."${table}"` : `"${table}"`);
    for (const table of ['smsr_profile', 'smsr_euicc']) await queryRunner.query(`DROP TABLE ${q(table)}`);
  }
}
