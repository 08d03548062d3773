import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Native types per driver, matching `NATIVE_COLUMN_TYPES` of @rsp/persistence. */
const TYPES = {
  postgres: { json: 'jsonb', timestamp: 'timestamptz', bytes: 'bytea' },
  sqlite: { json: 'text', timestamp: 'datetime', bytes: 'blob' },
} as const;

/**
 * The SM-DP inventory: MNOs, profile types, the subscription pool. Hand-written SQL for both drivers
 * (as libs/persistence's own migration); on Postgres the tables go into the DataSource's `schema`.
 */
export class SmdpInit1767312000000 implements MigrationInterface {
  readonly name = 'SmdpInit1767312000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    const t = type === 'postgres' ? TYPES.postgres : TYPES.sqlite;
    const q = (table: string) => (type === 'postgres' && schema ? `"${schema}"."${table}"` : `"${table}"`);
    const statements = [
      `CREATE TABLE ${q('smdp_mno')} (
        "mno_id" varchar(128) NOT NULL PRIMARY KEY,
        "api_key_sha256" varchar(64) NOT NULL UNIQUE,
        "webhook_url" varchar(2048),
        "created_at" ${t.timestamp} NOT NULL)`,
      `CREATE TABLE ${q('smdp_profile_type')} (
        "mno_id" varchar(128) NOT NULL REFERENCES ${q('smdp_mno')} ("mno_id"),
        "name" varchar(64) NOT NULL,
        "template" ${t.bytes} NOT NULL,
        "pol2" ${t.json} NOT NULL,
        "created_at" ${t.timestamp} NOT NULL,
        PRIMARY KEY ("mno_id", "name"))`,
      `CREATE TABLE ${q('smdp_subscription')} (
        "iccid" varchar(20) NOT NULL PRIMARY KEY,
        "imsi" varchar(15) NOT NULL,
        "ki_sealed" text NOT NULL,
        "opc_sealed" text NOT NULL,
        "mno_id" varchar(128) NOT NULL,
        "profile_type" varchar(64) NOT NULL,
        "state" varchar(16) NOT NULL CHECK ("state" IN ('available', 'reserved', 'installed', 'deleted')),
        "eid" varchar(32),
        "transaction_id" varchar(64),
        "isdp_aid" varchar(32),
        "created_at" ${t.timestamp} NOT NULL,
        "updated_at" ${t.timestamp} NOT NULL,
        FOREIGN KEY ("mno_id", "profile_type") REFERENCES ${q('smdp_profile_type')} ("mno_id", "name"))`,
      `CREATE INDEX "smdp_subscription_pick_idx" ON ${q('smdp_subscription')} ("mno_id", "profile_type", "state")`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    const q = (table: string) => (type === 'postgres' && schema ? `"${schema}"."${table}"` : `"${table}"`);
    for (const table of ['smdp_subscription', 'smdp_profile_type', 'smdp_mno']) await queryRunner.query(`DROP TABLE ${q(table)}`);
  }
}
