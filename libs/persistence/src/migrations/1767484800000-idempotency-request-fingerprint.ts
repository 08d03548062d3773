import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Adds `rsp_idempotency_record.request_fingerprint` (SGP.02 §5.1 functionCallIdentifier: a reused
 * identifier with another request is refused), on Postgres and SQLite alike.
 *
 * Rows written before it by the SM-DP's ES2 kept their request hash inside the response as
 * `{ requestHash, response }`; they are unwrapped into the new column so a repeat within the retention
 * still replays (same request) or is refused (another one) after the upgrade. No other writer stores a
 * top-level `requestHash` next to a `response`.
 */
export class IdempotencyRequestFingerprint1767484800000 implements MigrationInterface {
  readonly name = 'IdempotencyRequestFingerprint1767484800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    const table = type === 'postgres' && schema ? `"${schema}"."rsp_idempotency_record"` : '"rsp_idempotency_record"';
    await queryRunner.query(`ALTER TABLE ${table} ADD COLUMN "request_fingerprint" varchar(64)`);
    if (type === 'postgres') {
      await queryRunner.query(
        `UPDATE ${table} SET "request_fingerprint" = "response" ->> 'requestHash', "response" = "response" -> 'response'
          WHERE jsonb_typeof("response") = 'object' AND jsonb_typeof("response" -> 'requestHash') = 'string' AND jsonb_typeof("response" -> 'response') = 'object'`,
      );
    } else {
      // SQLite JSON columns are text; json_extract of an object member gives its JSON text back.
      await queryRunner.query(
        `UPDATE ${table} SET "request_fingerprint" = json_extract("response", '$.requestHash'), "response" = json_extract("response", '$.response')
          WHERE json_valid("response") AND json_type("response", '$.requestHash') = 'text' AND json_type("response", '$.response') = 'object'`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    const table = type === 'postgres' && schema ? `"${schema}"."rsp_idempotency_record"` : '"rsp_idempotency_record"';
    await queryRunner.query(`ALTER TABLE ${table} DROP COLUMN "request_fingerprint"`);
  }
}
