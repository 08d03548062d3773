import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Adds `iccid` to the end of `smdp_subscription_pick_idx`. A reservation takes the first available
 * subscription of an MNO's profile type by ICCID (`claimFirstRow`: `… WHERE mno_id = ? AND profile_type = ?
 * AND state = 'available' ORDER BY iccid LIMIT 1`). Without the ICCID in the index the database read every
 * available row of that type and sorted them for each reservation: 307 µs a reservation with 2 000 in
 * stock on SQLite, 1.6 ms with 20 000, growing with the pool. With it the index holds them in ICCID order
 * and its first entry is the one (SQLite: a covering index search, no sort; 6.7 µs with 20 000).
 *
 * On PostgreSQL the column is `COLLATE "C"`, as the reservation orders by (claimFirstRow's `keyOrder:
 * 'bytes'`; ICCIDs are digits, so the order is the same). Ordered by the primary key as such, PostgreSQL's
 * planner walked the primary key from the lowest ICCID and filtered, through every subscription already
 * taken (4.6 ms with 15 000 taken); only this index serves the byte order, so it is the one used.
 */
export class SmdpSubscriptionPickOrder1767744000000 implements MigrationInterface {
  readonly name = 'SmdpSubscriptionPickOrder1767744000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { type } = queryRunner.connection.options as { type: string };
    await this.pickIndex(queryRunner, ['"mno_id"', '"profile_type"', '"state"', type === 'postgres' ? '"iccid" COLLATE "C"' : '"iccid"']);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await this.pickIndex(queryRunner, ['"mno_id"', '"profile_type"', '"state"']);
  }

  private async pickIndex(queryRunner: QueryRunner, columns: readonly string[]): Promise<void> {
    const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
    const inSchema = type === 'postgres' && schema ? `"${schema}".` : '';
    await queryRunner.query(`DROP INDEX ${inSchema}"smdp_subscription_pick_idx"`);
    await queryRunner.query(`CREATE INDEX "smdp_subscription_pick_idx" ON ${inSchema}"smdp_subscription" (${columns.join(', ')})`);
  }
}
