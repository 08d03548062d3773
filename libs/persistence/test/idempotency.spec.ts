import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { RspError } from '@rsp/errors';
import { canonicalJson, IdempotencyStore, requestFingerprint } from '@rsp/persistence';
import { deferred, describeEachDatabase } from './support';

class ProfileNotFound extends RspError {
  static override readonly code = 'ERR_TEST_PROFILE_NOT_FOUND';
}

describeEachDatabase('IdempotencyStore.claimOrReplay', (db) => {
  it('runs compute once and replays the stored response to a later repeat', async () => {
    const store = new IdempotencyStore(db.dataSource);
    let runs = 0;
    const compute = async () => ({ run: ++runs, iccid: '8988247000001234567' });
    const first = await store.claimOrReplay('smdp-1', 'call-1', compute);
    const again = await store.claimOrReplay('smdp-1', 'call-1', compute);
    expect(first).toEqual({ status: 'succeeded', response: { run: 1, iccid: '8988247000001234567' }, replayed: false });
    expect(again).toEqual({ status: 'succeeded', response: { run: 1, iccid: '8988247000001234567' }, replayed: true });
    expect(runs).toBe(1);
    // Same identifier from another requester is a different call.
    expect(await store.claimOrReplay('smdp-2', 'call-1', compute)).toMatchObject({ replayed: false, response: { run: 2 } });
  });

  it('settle stores the outcome of a call whose first caller died (crash recovery); repeats replay it', async () => {
    const store = new IdempotencyStore(db.dataSource);
    const gate = deferred();
    // The first caller never finishes (its process is gone): the record stays in-progress.
    void store.claimOrReplay('smdp', 'orphan', () => gate.promise.then(() => 'late'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await store.claimOrReplay('smdp', 'orphan', async () => 'never')).toEqual({ status: 'in-progress' });
    expect(await store.settle('smdp', 'orphan', { iccid: '8988247000001234567' })).toBe(true);
    expect(await store.settle('smdp', 'orphan', { iccid: 'other' })).toBe(false); // decided once
    expect(await store.claimOrReplay('smdp', 'orphan', async () => 'never')).toEqual({ status: 'succeeded', response: { iccid: '8988247000001234567' }, replayed: true });
    expect(await store.settle('smdp', 'missing', 1)).toBe(false);
    gate.resolve(); // the orphan's late outcome finds the record decided and changes nothing
  });

  it('two concurrent claims (two connections) run compute once; the other sees in-progress, then the outcome', async () => {
    const other = new IdempotencyStore(await db.openAnother());
    const store = new IdempotencyStore(db.dataSource);
    const gate = deferred();
    let runs = 0;
    const compute = async () => {
      runs++;
      await gate.promise;
      return 'done';
    };
    const a = store.claimOrReplay('smsr', 'concurrent', compute);
    const b = other.claimOrReplay('smsr', 'concurrent', compute);
    const firstSettled = await Promise.race([a, b]);
    expect(firstSettled).toEqual({ status: 'in-progress' });
    gate.resolve();
    const outcomes = await Promise.all([a, b]);
    expect(runs).toBe(1);
    expect(outcomes).toContainEqual({ status: 'succeeded', response: 'done', replayed: false });
    expect(outcomes).toContainEqual({ status: 'in-progress' });
    expect(await other.claimOrReplay('smsr', 'concurrent', compute)).toEqual({ status: 'succeeded', response: 'done', replayed: true });
  });

  it('stores an RspError outcome and replays its code; other errors release the claim', async () => {
    const store = new IdempotencyStore(db.dataSource);
    const failing = async (): Promise<string> => {
      throw new ProfileNotFound('no such ICCID');
    };
    expect(await store.claimOrReplay('smdp', 'fail-1', failing)).toEqual({
      status: 'failed',
      errorCode: 'ERR_TEST_PROFILE_NOT_FOUND',
      errorMessage: 'no such ICCID',
      replayed: false,
    });
    expect(await store.claimOrReplay('smdp', 'fail-1', async () => 'never')).toEqual({
      status: 'failed',
      errorCode: 'ERR_TEST_PROFILE_NOT_FOUND',
      errorMessage: 'no such ICCID',
      replayed: true,
    });
    await expect(store.claimOrReplay('smdp', 'crash-1', async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await store.claimOrReplay('smdp', 'crash-1', async () => 'retried')).toMatchObject({ response: 'retried', replayed: false });
  });

  it('forgets an outcome after its retention, so the identifier may run again', async () => {
    let now = new Date('2026-01-01T00:00:00.000Z');
    const store = new IdempotencyStore(db.dataSource, { retentionMs: 1000, now: () => now });
    expect(await store.claimOrReplay('smdp', 'expiring', async () => 1)).toMatchObject({ response: 1, replayed: false });
    now = new Date(now.getTime() + 999);
    expect(await store.claimOrReplay('smdp', 'expiring', async () => 2)).toMatchObject({ response: 1, replayed: true });
    now = new Date(now.getTime() + 2);
    expect(await store.claimOrReplay('smdp', 'expiring', async () => 3)).toMatchObject({ response: 3, replayed: false });
    now = new Date(now.getTime() + 5000);
    expect(await store.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await store.find('smdp', 'expiring')).toBeNull();
  });
});

// SGP.02 §5.1 functionCallIdentifier: one identifier, one request. The attacker reuses an identifier of
// an answered GetEIS for a DisableProfile, hoping for "Executed-Success" and no execution check.
describeEachDatabase('IdempotencyStore request fingerprint', (db) => {
  const eid = '89049032123451234512345678901235';
  const head = (callId: string) => ({ functionRequesterIdentifier: 'mno.a', functionCallIdentifier: callId });
  const getEis = (callId: string) => requestFingerprint('ES4.GetEIS', { header: head(callId), eid });
  const disable = (callId: string) => requestFingerprint('ES4.DisableProfile', { header: head(callId), eid, iccid: '8988247000001234567' });

  it('a reused identifier with another request is a conflict and runs nothing; the same request still replays', async () => {
    const store = new IdempotencyStore(db.dataSource);
    let runs = 0;
    const compute = async () => ({ run: ++runs });
    expect(await store.claimOrReplay('ES4/mno.a', 'fp-1', compute, getEis('fp-1'))).toEqual({ status: 'succeeded', response: { run: 1 }, replayed: false });
    expect(await store.claimOrReplay('ES4/mno.a', 'fp-1', compute, disable('fp-1'))).toEqual({ status: 'conflict' });
    expect(await store.claimOrReplay('ES4/mno.a', 'fp-1', compute)).toEqual({ status: 'conflict' }); // no fingerprint is not a wildcard
    expect(await store.claimOrReplay('ES4/mno.a', 'fp-1', compute, getEis('fp-1'))).toEqual({ status: 'succeeded', response: { run: 1 }, replayed: true });
    expect(runs).toBe(1);
    expect((await store.find('ES4/mno.a', 'fp-1'))?.requestFingerprint).toBe(getEis('fp-1'));
  });

  it('the conflict is decided before the stored state: a failed or still running first call is not revealed', async () => {
    const store = new IdempotencyStore(db.dataSource);
    const failing = async (): Promise<string> => Promise.reject(new ProfileNotFound('no such ICCID'));
    expect(await store.claimOrReplay('ES4/mno.a', 'fp-failed', failing, getEis('fp-failed'))).toMatchObject({ status: 'failed', replayed: false });
    expect(await store.claimOrReplay('ES4/mno.a', 'fp-failed', failing, disable('fp-failed'))).toEqual({ status: 'conflict' });

    const gate = deferred();
    const first = store.claimOrReplay('ES4/mno.a', 'fp-running', () => gate.promise.then(() => 'done'), getEis('fp-running'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const other = new IdempotencyStore(await db.openAnother()); // another process
    expect(await other.claimOrReplay('ES4/mno.a', 'fp-running', async () => 'never', disable('fp-running'))).toEqual({ status: 'conflict' });
    expect(await other.claimOrReplay('ES4/mno.a', 'fp-running', async () => 'never', getEis('fp-running'))).toEqual({ status: 'in-progress' });
    gate.resolve();
    expect(await first).toEqual({ status: 'succeeded', response: 'done', replayed: false });
  });

  it('settle stores the claimed fingerprint too (records claimed without one are filled in)', async () => {
    const store = new IdempotencyStore(db.dataSource);
    void store.claimOrReplay('smdp', 'fp-orphan', () => new Promise<never>(() => undefined)); // its process "died"
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await store.settle('smdp', 'fp-orphan', { iccid: '8988247000001234567' }, getEis('fp-orphan'))).toBe(true);
    expect(await store.claimOrReplay('smdp', 'fp-orphan', async () => 'never', getEis('fp-orphan'))).toMatchObject({ status: 'succeeded', replayed: true });
    expect(await store.claimOrReplay('smdp', 'fp-orphan', async () => 'never', disable('fp-orphan'))).toEqual({ status: 'conflict' });
  });
});

describe('requestFingerprint (KAT)', () => {
  const request = { header: { functionRequesterIdentifier: 'mno.a', functionCallIdentifier: 'c-1', validityPeriod: 60 }, eid: '89049032123451234512345678901235' };
  // The canonical text: sorted keys at every depth, the function name beside the request. Running
  // download flows keep this hash (crash recovery), so the formula must not drift.
  const canonicalText =
    '{"fn":"GetEIS","request":{"eid":"89049032123451234512345678901235","header":{"functionCallIdentifier":"c-1","functionRequesterIdentifier":"mno.a","validityPeriod":60}}}';

  it('is the SHA-256 of the canonical { fn, request }, independent of key order', () => {
    expect(canonicalJson({ fn: 'GetEIS', request })).toBe(canonicalText);
    expect(requestFingerprint('GetEIS', request)).toBe(createHash('sha256').update(canonicalText).digest('hex'));
    const reordered = { eid: request.eid, header: { validityPeriod: 60, functionCallIdentifier: 'c-1', functionRequesterIdentifier: 'mno.a' } };
    expect(requestFingerprint('GetEIS', reordered)).toBe(requestFingerprint('GetEIS', request));
  });

  it('changes with the function name, any body field and the header (validityPeriod included, as ES2 always did)', () => {
    const base = requestFingerprint('GetEIS', request);
    expect(requestFingerprint('AuditEIS', request)).not.toBe(base);
    expect(requestFingerprint('GetEIS', { ...request, eid: '89049032123451234512345678901200' })).not.toBe(base);
    expect(requestFingerprint('GetEIS', { ...request, header: { ...request.header, validityPeriod: 61 } })).not.toBe(base);
    expect(requestFingerprint('GetEIS', { ...request, extra: [1, 2] })).not.toBe(requestFingerprint('GetEIS', { ...request, extra: [2, 1] }));
  });
});
