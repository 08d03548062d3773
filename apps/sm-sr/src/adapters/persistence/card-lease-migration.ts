import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Adds `smsr_card_lease` (domain/card-lease.ts) on Postgres and SQLite; `expires_at` in epoch ms. */
export class SmSrCardLease1767398400000 implements MigrationInterface {
  readonly name = 'SmSrCardLease1767398400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE ${qualified(queryRunner)} (
      "eid" varchar(32) NOT NULL PRIMARY KEY,
      "holder" varchar(200) NOT NULL,
      "expires_at" bigint NOT NULL)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ${qualified(queryRunner)}`);
  }
}

function qualified(queryRunner: QueryRunner): string {
  const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
  return type === 'postgres' && schema ? `"${schema}"."smsr_card_lease"` : `"smsr_card_lease"`;
}
