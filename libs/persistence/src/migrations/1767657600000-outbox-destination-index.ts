import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes `rsp_outbox_message` by destination and age: `Outbox.recentTo` (an MNO's notification feed,
 * `GET /mno/notifications`) reads one destination's newest rows, and without the index every call scanned
 * and sorted the whole outbox, which keeps every delivered message. Postgres and SQLite alike.
 */
export class OutboxDestinationIndex1767657600000 implements MigrationInterface {
  readonly name = 'OutboxDestinationIndex1767657600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    const table = type === 'postgres' && schema ? `"${schema}"."rsp_outbox_message"` : '"rsp_outbox_message"';
    await queryRunner.query(`CREATE INDEX "rsp_outbox_message_destination_idx" ON ${table} ("destination", "created_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    await queryRunner.query(`DROP INDEX ${type === 'postgres' && schema ? `"${schema}".` : ''}"rsp_outbox_message_destination_idx"`);
  }
}
