import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Adds `owner_device.status_version`, the version of the signed device status document
 * (docs/owner-registry.md "Device status"), on Postgres and SQLite alike. Devices registered before it
 * start at 1: version 0 is reserved for the "not registered" document of an EID the registry does not know,
 * so no registered device may ever be signed at 0.
 */
export class OwnerDeviceStatusVersion1767571200000 implements MigrationInterface {
  readonly name = 'OwnerDeviceStatusVersion1767571200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ${deviceTable(queryRunner)} ADD COLUMN "status_version" integer NOT NULL DEFAULT 1 CHECK ("status_version" >= 0)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ${deviceTable(queryRunner)} DROP COLUMN "status_version"`);
  }
}

function deviceTable(queryRunner: QueryRunner): string {
  const { type, schema } = queryRunner.connection.options as { type: string; schema?: string };
  return type === 'postgres' && schema ? `"${schema}"."owner_device"` : '"owner_device"';
}
