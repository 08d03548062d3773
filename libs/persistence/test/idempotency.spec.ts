import { expect, it } from '@jest/globals';
import { RspError } from '@rsp/errors';
import { IdempotencyStore } from '@rsp/persistence';
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
