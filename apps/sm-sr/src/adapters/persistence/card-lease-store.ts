/**
 * `smsr_card_lease` rows for domain/card-lease.ts, one raw statement each (no query builder on this hot
 * path). Acquire = UPDATE … WHERE expired OR mine (a row lock on Postgres makes a concurrent taker
 * re-check the WHERE against the committed row and find it no longer expired), then, when no row
 * exists, INSERT … ON CONFLICT DO NOTHING (two first-comers: one inserts, the other gets no row and
 * polls again). SQLite has a single writer, so each statement runs alone.
 */
import type { DataSource } from 'typeorm';
import { driverOf, isUniqueViolation, runStatement, tableOf } from '@rsp/persistence';
import type { CardLeaseStore } from '../../domain/card-lease';
import { SmsrCardLeaseEntity } from './entities';

export class SqlCardLeaseStore implements CardLeaseStore {
  private readonly table: string;
  private readonly postgres: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.table = tableOf(dataSource, SmsrCardLeaseEntity);
    this.postgres = driverOf(dataSource) === 'postgres';
  }

  async tryAcquire(eid: string, holder: string, expiresAt: number, now: number): Promise<boolean> {
    const taken = await this.rows(
      `UPDATE ${this.table} SET "holder" = ${this.p(1)}, "expires_at" = ${this.p(2)}
        WHERE "eid" = ${this.p(3)} AND ("expires_at" < ${this.p(4)} OR "holder" = ${this.p(5)}) RETURNING "eid"`,
      [holder, expiresAt, eid, now, holder],
    );
    if (taken > 0) return true;
    try {
      const inserted = await this.rows(
        `INSERT INTO ${this.table} ("eid", "holder", "expires_at") VALUES (${this.p(1)}, ${this.p(2)}, ${this.p(3)})
          ON CONFLICT ("eid") DO NOTHING RETURNING "eid"`,
        [eid, holder, expiresAt],
      );
      return inserted > 0;
    } catch (error) {
      if (isUniqueViolation(error)) return false; // another instance inserted first
      throw error;
    }
  }

  async renew(eid: string, holder: string, expiresAt: number): Promise<boolean> {
    const renewed = await this.rows(
      `UPDATE ${this.table} SET "expires_at" = ${this.p(1)} WHERE "eid" = ${this.p(2)} AND "holder" = ${this.p(3)} RETURNING "eid"`,
      [expiresAt, eid, holder],
    );
    return renewed > 0;
  }

  async release(eid: string, holder: string): Promise<void> {
    await runStatement(this.dataSource, `DELETE FROM ${this.table} WHERE "eid" = ${this.p(1)} AND "holder" = ${this.p(2)}`, [eid, holder]);
  }

  /** `$n` on Postgres, `?` (in order, each used once above) on SQLite. */
  private p(n: number): string {
    return this.postgres ? `$${n}` : '?';
  }

  /** Rows a RETURNING statement gave (prepared once per connection on PostgreSQL). */
  private async rows(sql: string, parameters: unknown[]): Promise<number> {
    return (await runStatement(this.dataSource, sql, parameters)).rows.length;
  }
}
