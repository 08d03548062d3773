/**
 * @packageDocumentation
 * Storage building blocks shared by the SM-SR and SM-DP services (TypeORM; no NestJS here):
 *
 * - `dataSourceOptions` / `openDataSource` / `initializeDataSource`: one URL setting (RSP_DATABASE_URL)
 *   → better-sqlite3 (WAL, foreign keys, busy timeout) or pg; typed `PersistenceError`s, passwords masked.
 * - `BytesColumn` / `TimestampColumn` / `JsonColumn`: portable columns whose native type
 *   (blob/bytea, datetime/timestamptz, text/jsonb) is chosen when a DataSource builds its metadata.
 * - `IdempotencyStore` (functionCallIdentifier replay; the same identifier with another request, by
 *   `requestFingerprint`, is a conflict), `Outbox` (transactional outbox with backoff and dead letters),
 *   `StateMachine` (persisted, resumable step flows), `SecretBox` (AES-256-GCM), `claimFirstRow`
 *   (a one-statement claim of one row that concurrent callers cannot lose).
 * - `persistenceEntities` and `persistenceMigrations`: add them to the service's own lists.
 *
 * NestJS wiring (in the apps): `TypeOrmModule.forRootAsync({ useFactory: () => dataSourceOptions({...}),
 * dataSourceFactory: (options) => initializeDataSource(options!) })`.
 */
import { IdempotencyRecord } from './entities/idempotency-record.entity';
import { OutboxMessage } from './entities/outbox-message.entity';
import { TransactionRecord } from './entities/transaction-record.entity';
import { PersistenceInit1767225600000 } from './migrations/1767225600000-persistence-init';
import { IdempotencyRequestFingerprint1767484800000 } from './migrations/1767484800000-idempotency-request-fingerprint';
import { OutboxDestinationIndex1767657600000 } from './migrations/1767657600000-outbox-destination-index';

export * from './errors';
export * from './columns';
export * from './data-source';
export { sqlStatementCount, traceSqlStatements } from './statement-count';
export {
  isUniqueViolation,
  tableOf,
  toDbValue,
  driverOf,
  insertRow,
  insertRows,
  upsertRows,
  updateRows,
  claimFirstRow,
  insertRowsStatement,
  upsertRowsStatement,
  updateRowsStatement,
  type WhereIn,
  type WriteStatement,
} from './sql';
export { findRowsBy, findRowWithChildren } from './reads';
export { runWrites, runWritesWithLast, type TransactionalWrite } from './atomic-writes';
export { runStatement, type StatementResult } from './prepared';
export * from './idempotency';
export * from './memory-idempotency';
export * from './outbox';
export * from './outbox-relay';
export * from './ttl-cache';
export * from './state-machine';
export * from './secret-box';
export { runAdminSql, createSchema, dropSchema } from './postgres-admin';
export { IdempotencyRecord, type IdempotencyStatus } from './entities/idempotency-record.entity';
export { OutboxMessage, type OutboxStatus } from './entities/outbox-message.entity';
export { TransactionRecord, type TransactionStatus } from './entities/transaction-record.entity';
export { PersistenceInit1767225600000 } from './migrations/1767225600000-persistence-init';
export { IdempotencyRequestFingerprint1767484800000 } from './migrations/1767484800000-idempotency-request-fingerprint';
export { OutboxDestinationIndex1767657600000 } from './migrations/1767657600000-outbox-destination-index';

/** The generic entities; concatenate with a service's own. */
export const persistenceEntities = [IdempotencyRecord, OutboxMessage, TransactionRecord];

/** The migrations creating the generic tables (both drivers). */
export const persistenceMigrations = [PersistenceInit1767225600000, IdempotencyRequestFingerprint1767484800000, OutboxDestinationIndex1767657600000];
