// The bench's profile buckets (docs/performance.md): a native frame counts in its JavaScript caller's bucket.
import { describe, expect, it } from '@jest/globals';
import { profileBuckets } from '../../bench/profile-buckets';

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url },
  children,
});

describe('bench profile buckets', () => {
  // root → better-sqlite3's statement → native `run`; root → node's ECDSA → native `run`; GC at the root.
  const profile = {
    nodes: [
      frame(1, '(root)', '', [2, 4, 6]),
      frame(2, 'query', 'file:///repo/node_modules/better-sqlite3/lib/methods/wrappers.js', [3]),
      frame(3, 'run', ''),
      frame(4, 'signOneShot', 'node:internal/crypto/sig', [5]),
      frame(5, 'run', ''),
      frame(6, '(garbage collector)', ''),
    ],
    samples: [3, 3, 5, 6, 6, 6],
    timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
  };

  it('puts a native frame in its caller’s bucket: `run` is SQLite under better-sqlite3, EC under node’s ECDSA', () => {
    const { rows, totalMs } = profileBuckets(profile, 1);
    const ms = Object.fromEntries(rows.map((row) => [row.bucket, row.ms]));
    expect(ms['SQLite (better-sqlite3)']).toBe(2);
    expect(ms['EC (ECDSA, ECDH, key pairs)']).toBe(1);
    expect(ms.GC).toBe(3);
    expect(totalMs).toBe(6);
  });
});
