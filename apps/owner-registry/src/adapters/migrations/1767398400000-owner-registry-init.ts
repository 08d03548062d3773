import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Native types per driver, matching `NATIVE_COLUMN_TYPES` of @rsp/persistence. */
const TYPES = {
  postgres: { json: 'jsonb', timestamp: 'timestamptz' },
  sqlite: { json: 'text', timestamp: 'datetime' },
} as const;

const TABLES = [
  'owner_audit',
  'owner_settings_snapshot',
  'owner_porting_code',
  'owner_transfer',
  'owner_consent',
  'owner_group_device',
  'owner_grant',
  'owner_group',
  'owner_device',
  'owner_account',
  'owner_api_client',
];

/**
 * The owner registry's tables (docs/owner-registry.md). Hand-written SQL for both drivers, as the
 * other services; on Postgres the tables go into the DataSource's `schema`. The partial unique index
 * keeps exactly one active owner per device even under concurrent claims.
 */
export class OwnerRegistryInit1767398400000 implements MigrationInterface {
  readonly name = 'OwnerRegistryInit1767398400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    const t = type === 'postgres' ? TYPES.postgres : TYPES.sqlite;
    const q = (table: string) => (type === 'postgres' && schema ? `"${schema}"."${table}"` : `"${table}"`);
    const statements = [
      `CREATE TABLE ${q('owner_api_client')} (
        "id" varchar(140) NOT NULL PRIMARY KEY,
        "kind" varchar(8) NOT NULL CHECK ("kind" IN ('maker', 'mno')),
        "client_id" varchar(128) NOT NULL,
        "api_key_sha256" varchar(64) NOT NULL UNIQUE,
        "created_at" ${t.timestamp} NOT NULL)`,
      `CREATE TABLE ${q('owner_account')} (
        "iss" varchar(512) NOT NULL,
        "sub" varchar(255) NOT NULL,
        "first_seen_at" ${t.timestamp} NOT NULL,
        PRIMARY KEY ("iss", "sub"))`,
      `CREATE TABLE ${q('owner_device')} (
        "eid" varchar(32) NOT NULL PRIMARY KEY,
        "maker_id" varchar(128) NOT NULL,
        "device_id" varchar(64) NOT NULL,
        "model" varchar(64) NOT NULL,
        "device_url" varchar(512) NOT NULL UNIQUE,
        "claim_code_hash" varchar(160) NOT NULL,
        "status" varchar(16) NOT NULL CHECK ("status" IN ('Active', 'Suspended', 'Revoked')),
        "consent_epoch" integer NOT NULL,
        "recently_transferred_at" ${t.timestamp},
        "settings" ${t.json} NOT NULL,
        "created_at" ${t.timestamp} NOT NULL,
        "updated_at" ${t.timestamp} NOT NULL,
        UNIQUE ("maker_id", "device_id"))`,
      `CREATE TABLE ${q('owner_group')} (
        "id" varchar(36) NOT NULL PRIMARY KEY,
        "name" varchar(128) NOT NULL,
        "created_by_iss" varchar(512) NOT NULL,
        "created_by_sub" varchar(255) NOT NULL,
        "created_at" ${t.timestamp} NOT NULL)`,
      `CREATE TABLE ${q('owner_grant')} (
        "id" varchar(36) NOT NULL PRIMARY KEY,
        "scope" varchar(8) NOT NULL CHECK ("scope" IN ('device', 'group')),
        "eid" varchar(32) REFERENCES ${q('owner_device')} ("eid"),
        "group_id" varchar(36) REFERENCES ${q('owner_group')} ("id"),
        "role" varchar(8) NOT NULL CHECK ("role" IN ('owner', 'admin', 'user')),
        "subject_iss" varchar(512) NOT NULL,
        "subject_sub" varchar(255) NOT NULL,
        "created_by_iss" varchar(512),
        "created_by_sub" varchar(255),
        "created_at" ${t.timestamp} NOT NULL,
        "revoked_at" ${t.timestamp},
        CHECK (("scope" = 'device' AND "eid" IS NOT NULL AND "group_id" IS NULL) OR ("scope" = 'group' AND "group_id" IS NOT NULL AND "eid" IS NULL)))`,
      `CREATE UNIQUE INDEX "owner_grant_one_owner_idx" ON ${q('owner_grant')} ("eid") WHERE "scope" = 'device' AND "role" = 'owner' AND "revoked_at" IS NULL`,
      `CREATE INDEX "owner_grant_eid_idx" ON ${q('owner_grant')} ("eid", "revoked_at")`,
      `CREATE INDEX "owner_grant_group_idx" ON ${q('owner_grant')} ("group_id", "revoked_at")`,
      `CREATE INDEX "owner_grant_subject_idx" ON ${q('owner_grant')} ("subject_iss", "subject_sub", "revoked_at")`,
      `CREATE TABLE ${q('owner_group_device')} (
        "id" varchar(36) NOT NULL PRIMARY KEY,
        "group_id" varchar(36) NOT NULL REFERENCES ${q('owner_group')} ("id"),
        "eid" varchar(32) NOT NULL REFERENCES ${q('owner_device')} ("eid"),
        "added_by_iss" varchar(512) NOT NULL,
        "added_by_sub" varchar(255) NOT NULL,
        "added_at" ${t.timestamp} NOT NULL,
        "removed_at" ${t.timestamp})`,
      `CREATE INDEX "owner_group_device_eid_idx" ON ${q('owner_group_device')} ("eid", "removed_at")`,
      `CREATE INDEX "owner_group_device_group_idx" ON ${q('owner_group_device')} ("group_id", "removed_at")`,
      `CREATE TABLE ${q('owner_consent')} (
        "jti" varchar(64) NOT NULL PRIMARY KEY,
        "eid" varchar(32) NOT NULL REFERENCES ${q('owner_device')} ("eid"),
        "mno_id" varchar(128) NOT NULL,
        "ops" ${t.json} NOT NULL,
        "epoch" integer NOT NULL,
        "given_by_iss" varchar(512),
        "given_by_sub" varchar(255),
        "expires_at" ${t.timestamp} NOT NULL,
        "created_at" ${t.timestamp} NOT NULL,
        "revoked_at" ${t.timestamp})`,
      `CREATE INDEX "owner_consent_eid_idx" ON ${q('owner_consent')} ("eid", "epoch")`,
      `CREATE TABLE ${q('owner_transfer')} (
        "id" varchar(36) NOT NULL PRIMARY KEY,
        "eid" varchar(32) NOT NULL REFERENCES ${q('owner_device')} ("eid"),
        "code_hash" varchar(160) NOT NULL,
        "seller_iss" varchar(512) NOT NULL,
        "seller_sub" varchar(255) NOT NULL,
        "subscription" varchar(8) NOT NULL CHECK ("subscription" IN ('leave', 'pass')),
        "mno_id" varchar(128),
        "iccid" varchar(20),
        "expires_at" ${t.timestamp} NOT NULL,
        "attempts" integer NOT NULL DEFAULT 0,
        "used_at" ${t.timestamp},
        "burned_at" ${t.timestamp},
        "buyer_iss" varchar(512),
        "buyer_sub" varchar(255),
        "created_at" ${t.timestamp} NOT NULL)`,
      `CREATE INDEX "owner_transfer_eid_idx" ON ${q('owner_transfer')} ("eid", "used_at", "burned_at")`,
      `CREATE TABLE ${q('owner_porting_code')} (
        "id" varchar(36) NOT NULL PRIMARY KEY,
        "pac_hash" varchar(160) NOT NULL,
        "eid" varchar(32) NOT NULL REFERENCES ${q('owner_device')} ("eid"),
        "iccid" varchar(20) NOT NULL,
        "donor_mno_id" varchar(128) NOT NULL,
        "expires_at" ${t.timestamp} NOT NULL,
        "used_at" ${t.timestamp},
        "created_at" ${t.timestamp} NOT NULL)`,
      `CREATE INDEX "owner_porting_code_eid_idx" ON ${q('owner_porting_code')} ("eid", "used_at")`,
      `CREATE TABLE ${q('owner_settings_snapshot')} (
        "id" varchar(36) NOT NULL PRIMARY KEY,
        "owner_iss" varchar(512) NOT NULL,
        "owner_sub" varchar(255) NOT NULL,
        "model" varchar(64) NOT NULL,
        "settings" ${t.json} NOT NULL,
        "source_device_url" varchar(512) NOT NULL,
        "created_at" ${t.timestamp} NOT NULL)`,
      `CREATE INDEX "owner_settings_snapshot_owner_idx" ON ${q('owner_settings_snapshot')} ("owner_iss", "owner_sub")`,
      `CREATE TABLE ${q('owner_audit')} (
        "id" varchar(36) NOT NULL PRIMARY KEY,
        "at" ${t.timestamp} NOT NULL,
        "actor_kind" varchar(16) NOT NULL,
        "actor_iss" varchar(512),
        "actor_sub" varchar(255),
        "actor_client" varchar(128),
        "action" varchar(64) NOT NULL,
        "eid" varchar(32),
        "target" varchar(256),
        "outcome" varchar(64) NOT NULL,
        "auth_context" ${t.json})`,
      `CREATE INDEX "owner_audit_eid_idx" ON ${q('owner_audit')} ("eid", "at")`,
      `CREATE INDEX "owner_audit_actor_idx" ON ${q('owner_audit')} ("actor_iss", "actor_sub", "action", "at")`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    const q = (table: string) => (type === 'postgres' && schema ? `"${schema}"."${table}"` : `"${table}"`);
    for (const table of TABLES) await queryRunner.query(`DROP TABLE ${q(table)}`);
  }
}
