import { expect, it } from '@jest/globals';
import { Outbox, OutboxMessage, OutboxRelay, type BackoffPolicy } from '@rsp/persistence';
import { describeEachDatabase } from './support';

const policy: BackoffPolicy = { baseDelayMs: 1000, maxDelayMs: 8000, maxAttempts: 3 };
const quiet = { warn: () => undefined, error: () => undefined };
const until = async (check: () => Promise<boolean>, ms = 5000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 10))) if (await check()) return;
  throw new Error('condition not met in time');
};

describeEachDatabase('OutboxRelay', (db) => {
  const rows = () => db.dataSource.getRepository(OutboxMessage);

  it('delivers what a transaction enqueued right after its commit, claimed (no poll can take it), and records it delivered', async () => {
    await rows().clear();
    const outbox = new Outbox(db.dataSource, { backoff: policy });
    const seen: unknown[] = [];
    const relay = new OutboxRelay({ outbox, logger: quiet, pollMs: 60_000, deliver: async (message) => void seen.push(message.payload) });
    relay.start();
    try {
      await outbox.transaction(async (tx) => {
        await outbox.enqueue(tx, { destination: 'mqtt:a', payload: { n: 1 } });
        await outbox.enqueue(tx, { destination: 'mqtt:b', payload: { n: 2 } });
        expect(seen).toEqual([]); // nothing leaves before the commit
      });
      expect(await outbox.claimDue()).toEqual([]); // written claimed by this process
      await until(async () => (await rows().countBy({ status: 'delivered' })) === 2);
      expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    } finally {
      await relay.stop();
    }
  });

  it('sends nothing of a rolled-back transaction', async () => {
    await rows().clear();
    const outbox = new Outbox(db.dataSource);
    const seen: unknown[] = [];
    const relay = new OutboxRelay({ outbox, logger: quiet, pollMs: 60_000, deliver: async (message) => void seen.push(message.payload) });
    relay.start();
    try {
      await expect(
        outbox.transaction(async (tx) => {
          await outbox.enqueue(tx, { destination: 'mqtt:lost', payload: 1 });
          throw new Error('business rule failed');
        }),
      ).rejects.toThrow('business rule failed');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen).toEqual([]);
      expect(await rows().count()).toBe(0);
    } finally {
      await relay.stop();
    }
  });

  it('a failed direct delivery is retried by the poll after the backoff; the other messages of the batch are delivered', async () => {
    await rows().clear();
    let clock = new Date('2026-03-01T10:00:00.000Z');
    const outbox = new Outbox(db.dataSource, { backoff: policy, now: () => clock, random: () => 0.5 });
    let failFirst = true;
    const delivered: string[] = [];
    const relay = new OutboxRelay({
      outbox,
      logger: quiet,
      pollMs: 60_000,
      deliver: async (message) => {
        if (message.destination === 'mqtt:flaky' && failFirst) {
          failFirst = false;
          throw new Error('broker away');
        }
        delivered.push(message.destination);
      },
    });
    relay.start();
    try {
      await outbox.transaction(async (tx) => {
        await outbox.enqueue(tx, { destination: 'mqtt:flaky', payload: 1 });
        await outbox.enqueue(tx, { destination: 'mqtt:fine', payload: 2 });
      });
      // The batch is recorded in order: the delivered one, then the failed attempt.
      await until(async () => (await rows().countBy({ status: 'delivered' })) === 1 && (await rows().findOneByOrFail({ destination: 'mqtt:flaky' })).attempts === 1);
      const flaky = await rows().findOneByOrFail({ destination: 'mqtt:flaky' });
      expect(flaky).toMatchObject({ status: 'pending', attempts: 1, claimedUntil: null, lastError: 'Error: broker away' });
      clock = new Date(clock.getTime() + 60_000);
      expect(await relay.drain()).toBe(1);
      await until(async () => (await rows().countBy({ status: 'delivered' })) === 2);
      expect(delivered).toEqual(['mqtt:fine', 'mqtt:flaky']);
    } finally {
      await relay.stop();
    }
  });

  it('a message committed while the process dies (claimed, never delivered) is delivered by any poll once the claim runs out', async () => {
    await rows().clear();
    let clock = new Date('2026-03-01T10:00:00.000Z');
    const dying = new Outbox(db.dataSource, { leaseMs: 30_000, now: () => clock });
    dying.attach({ deliverNow: () => undefined }); // the process "crashes" before delivering
    await dying.transaction((tx) => dying.enqueue(tx, { destination: 'mqtt:orphan', payload: 'x' }));

    const survivor = new Outbox(await db.openAnother(), { now: () => clock });
    const seen: string[] = [];
    const relay = new OutboxRelay({ outbox: survivor, logger: quiet, pollMs: 60_000, deliver: async (message) => void seen.push(message.destination) });
    expect(await relay.drain()).toBe(0); // still claimed
    clock = new Date(clock.getTime() + 30_001);
    expect(await relay.drain()).toBe(1);
    expect(seen).toEqual(['mqtt:orphan']);
    await relay.stop();
  });

  it('a plain enqueue (no Outbox.transaction) is delivered by the poll, as before', async () => {
    await rows().clear();
    const outbox = new Outbox(db.dataSource);
    const seen: string[] = [];
    const relay = new OutboxRelay({ outbox, logger: quiet, pollMs: 20, deliver: async (message) => void seen.push(message.destination) });
    relay.start();
    try {
      await db.dataSource.transaction((tx) => outbox.enqueue(tx, { destination: 'mqtt:polled', payload: 1 }));
      await until(async () => seen.length === 1);
    } finally {
      await relay.stop();
    }
  });
});
