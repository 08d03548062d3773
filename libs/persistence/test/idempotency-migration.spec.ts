/**
 * IdempotencyRequestFingerprint1767484800000 on a database migrated before it: the column is added and
 * ES2 rows of the old layout (`{ requestHash, response }` inside the response) are unwrapped into it,
 * so after the upgrade a repeat still replays and another request is still refused. Both drivers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { createSchema, dropSchema, IdempotencyStore, openDataSource, PersistenceInit1767225600000, persistenceEntities, persistenceMigrations, requestFingerprint } from '@rsp/persistence';
import { database } from './support';

const es2Request = { header: { functionRequesterIdentifier: 'mno.a', functionCallIdentifier: 'legacy-1' }, eid: '89049032123451234512345678901235' };
const es2Response = { header: { functionExecutionStatus: { status: 'Executed-Success' } }, eis: { eid: es2Request.eid, profiles: [] } };
const smsrResponse = { header: { functionExecutionStatus: { status: 'Executed-Success' } }, isdpAid: 'A0000005591010FFFFFFFF8900100200' };

interface Target {
  url: string;
  schema?: string;
  table: string;
  p: (n: number) => string;
}

function suite(kind: 'sqlite' | 'postgres', target: () => Target): void {
  it(`[${kind}] adds request_fingerprint and unwraps the old ES2 rows; other rows keep their response`, async () => {
    const { url, schema, table, p } = target();
    const settings = { url, ...(schema ? { schema } : {}) };
    const before: DataSource = await openDataSource({ ...settings, entities: [], migrations: [PersistenceInit1767225600000] });
    const insert = `INSERT INTO ${table} ("requester", "function_call_identifier", "status", "response", "error_code", "created_at", "expires_at")
      VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, NULL, '2026-01-01 00:00:00.000', '2099-01-01 00:00:00.000')`;
    const requestHash = requestFingerprint('GetEIS', es2Request);
    try {
      await before.query(insert, ['mno.a', 'legacy-1', 'succeeded', JSON.stringify({ requestHash, response: es2Response })]);
      await before.query(insert, ['ES3/smdp.one', 'legacy-2', 'succeeded', JSON.stringify(smsrResponse)]);
      await before.query(insert, ['mno.a', 'legacy-3', 'in-progress', null]);
    } finally {
      await before.destroy();
    }

    const after = await openDataSource({ ...settings, entities: persistenceEntities, migrations: persistenceMigrations });
    try {
      const store = new IdempotencyStore(after);
      expect(await store.find('mno.a', 'legacy-1')).toMatchObject({ requestFingerprint: requestHash, response: es2Response });
      expect(await store.find('ES3/smdp.one', 'legacy-2')).toMatchObject({ requestFingerprint: null, response: smsrResponse });
      expect(await store.find('mno.a', 'legacy-3')).toMatchObject({ requestFingerprint: null, response: null, status: 'in-progress' });

      const never = async () => ({ header: { functionExecutionStatus: { status: 'Failed' } } });
      expect(await store.claimOrReplay('mno.a', 'legacy-1', never, requestHash)).toEqual({ status: 'succeeded', response: es2Response, replayed: true });
      const other = requestFingerprint('DisableProfile', { ...es2Request, iccid: '8988247000001234567' });
      expect(await store.claimOrReplay('mno.a', 'legacy-1', never, other)).toEqual({ status: 'conflict' });
      // A download resumed after the upgrade settles the old in-progress record with its kept hash.
      expect(await store.settle('mno.a', 'legacy-3', es2Response, requestHash)).toBe(true);
      expect(await store.claimOrReplay('mno.a', 'legacy-3', never, requestHash)).toMatchObject({ status: 'succeeded', replayed: true });
    } finally {
      await after.destroy();
    }
  });
}

describe('IdempotencyRequestFingerprint1767484800000', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rsp-migration-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  suite('sqlite', () => ({ url: `sqlite://${join(dir, 'old.db')}`, table: '"rsp_idempotency_record"', p: () => '?' }));
});

(database.url ? describe : describe.skip)('IdempotencyRequestFingerprint1767484800000 [postgres]', () => {
  const schema = `rsp_migration_${randomBytes(6).toString('hex')}`;
  beforeAll(() => createSchema(database.url as string, schema));
  afterAll(() => dropSchema(database.url as string, schema));
  suite('postgres', () => ({ url: database.url as string, schema, table: `"${schema}"."rsp_idempotency_record"`, p: (n) => `$${n}` }));
});
