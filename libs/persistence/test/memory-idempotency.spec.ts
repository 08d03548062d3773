import { describe, expect, it } from '@jest/globals';
import { RspError } from '@rsp/errors';
import { MemoryIdempotencyStore } from '@rsp/persistence';

class Refused extends RspError {
  static override readonly code = 'ERR_TEST_REFUSED';
}

describe('MemoryIdempotencyStore (the table rule, in memory)', () => {
  it('runs once per identifier; a repeat of the same request replays the outcome, another request is a conflict', async () => {
    const store = new MemoryIdempotencyStore();
    let runs = 0;
    const compute = async () => ({ run: ++runs });
    expect(await store.claimOrReplay('ES3/smdp', 'c1', compute, 'fp-a')).toEqual({ status: 'succeeded', response: { run: 1 }, replayed: false });
    expect(await store.claimOrReplay('ES3/smdp', 'c1', compute, 'fp-a')).toEqual({ status: 'succeeded', response: { run: 1 }, replayed: true });
    expect(await store.claimOrReplay('ES3/smdp', 'c1', compute, 'fp-b')).toEqual({ status: 'conflict' });
    expect(await store.claimOrReplay('ES3/other', 'c1', compute, 'fp-b')).toMatchObject({ status: 'succeeded', replayed: false }); // per requester
    expect(runs).toBe(2);
  });

  it('stores an RspError as a failure (replayed with its code); any other error releases the claim', async () => {
    const store = new MemoryIdempotencyStore();
    const refused = await store.claimOrReplay('r', 'c', async () => {
      throw new Refused('no');
    }, 'fp');
    expect(refused).toEqual({ status: 'failed', errorCode: 'ERR_TEST_REFUSED', errorMessage: 'no', replayed: false });
    expect(await store.claimOrReplay('r', 'c', async () => 'ran', 'fp')).toMatchObject({ status: 'failed', errorCode: 'ERR_TEST_REFUSED', replayed: true });

    await expect(store.claimOrReplay('r', 'crash', async () => Promise.reject(new Error('db down')), 'fp')).rejects.toThrow('db down');
    expect(await store.claimOrReplay('r', 'crash', async () => 'second try', 'fp')).toMatchObject({ status: 'succeeded', response: 'second try', replayed: false });
  });

  it('answers in-progress while the first call runs, and conflict to another request even then', async () => {
    const store = new MemoryIdempotencyStore();
    let finish: (value: string) => void = () => undefined;
    const first = store.claimOrReplay('r', 'c', () => new Promise<string>((resolve) => (finish = resolve)), 'fp');
    expect(await store.claimOrReplay('r', 'c', async () => 'x', 'fp')).toEqual({ status: 'in-progress' });
    expect(await store.claimOrReplay('r', 'c', async () => 'x', 'other')).toEqual({ status: 'conflict' });
    finish('done');
    expect(await first).toMatchObject({ status: 'succeeded', response: 'done' });
  });

  it('forgets after the retention and keeps at most maxEntries (oldest first, never a running claim)', async () => {
    let now = 0;
    const store = new MemoryIdempotencyStore({ retentionMs: 1000, maxEntries: 2, now: () => now });
    await store.claimOrReplay('r', 'a', async () => 1, 'fp');
    now = 1001;
    expect(await store.claimOrReplay('r', 'a', async () => 2, 'fp')).toMatchObject({ response: 2, replayed: false });
    await store.claimOrReplay('r', 'b', async () => 1, 'fp');
    await store.claimOrReplay('r', 'c', async () => 1, 'fp');
    expect(store.size).toBe(2);
    expect(await store.claimOrReplay('r', 'a', async () => 3, 'fp')).toMatchObject({ response: 3, replayed: false }); // 'a' was the oldest
  });
});
