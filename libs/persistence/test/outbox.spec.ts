import { expect, it } from '@jest/globals';
import { backoffDelay, Outbox, OutboxMessage, PersistenceError, type BackoffPolicy } from '@rsp/persistence';
import { describeEachDatabase } from './support';

const policy: BackoffPolicy = { baseDelayMs: 1000, maxDelayMs: 8000, maxAttempts: 3 };

describeEachDatabase('Outbox', (db) => {
  const t0 = new Date('2026-03-01T10:00:00.000Z');
  const at = (ms: number) => new Date(t0.getTime() + ms);
  let clock = t0;
  const outbox = () => new Outbox(db.dataSource, { backoff: policy, leaseMs: 30_000, now: () => clock, random: () => 0.5 });
  const reset = async () => {
    await db.dataSource.getRepository(OutboxMessage).clear();
    clock = t0;
  };

  it('enqueues only with a committed transaction, claims due messages once, never re-claims delivered ones', async () => {
    await reset();
    const box = outbox();
    await db.dataSource.transaction((tx) => box.enqueue(tx, { destination: 'https://mno.example/notify', payload: { n: 1 } }));
    await expect(
      db.dataSource.transaction(async (tx) => {
        await box.enqueue(tx, { destination: 'mqtt:rsp/lost', payload: { n: 'rolled back' } });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    await db.dataSource.transaction((tx) => box.enqueue(tx, { destination: 'mqtt:rsp/later', payload: { n: 2 }, notBefore: at(60_000) }));

    const claimed = await box.claimDue(t0, 10);
    expect(claimed.map((m) => m.payload)).toEqual([{ n: 1 }]);
    expect(await box.claimDue(t0, 10)).toEqual([]); // leased
    await box.markDelivered(claimed[0]!.id, t0);
    expect(await box.claimDue(at(120_000), 10)).toMatchObject([{ payload: { n: 2 } }]); // due now; n:1 delivered
    expect(await box.claimDue(at(121_000), 10)).toEqual([]); // n:2 leased by the claim above
    // Its claimer "crashed": once the lease ends n:2 comes back; the delivered n:1 never does.
    expect((await box.claimDue(at(10 ** 9), 10)).map((m) => m.payload)).toEqual([{ n: 2 }]);
  });

  it('marks several delivered in one statement: counts only those still pending, stamps the time, clears the lease', async () => {
    await reset();
    const box = outbox();
    const messages = await db.dataSource.transaction(async (tx) => [
      await box.enqueue(tx, { destination: 'mqtt:rsp/a', payload: 'a' }),
      await box.enqueue(tx, { destination: 'mqtt:rsp/b', payload: 'b' }),
      await box.enqueue(tx, { destination: 'mqtt:rsp/c', payload: 'c' }),
    ]);
    const [a, b] = messages.map((message) => message.id) as [string, string, string];
    await box.claimDue(t0, 10); // leased: claimed_until set
    expect(await box.markAllDelivered([a], at(5))).toBe(1);
    expect(await box.markAllDelivered([a, b, 'no-such-id'], at(7))).toBe(1); // a was delivered already
    const rows = await db.dataSource.getRepository(OutboxMessage).find({ order: { payload: 'ASC' } });
    expect(rows.map((row) => [row.payload, row.status, row.deliveredAt?.toISOString() ?? null, row.claimedUntil])).toEqual([
      ['a', 'delivered', at(5).toISOString(), null],
      ['b', 'delivered', at(7).toISOString(), null],
      ['c', 'pending', null, expect.any(Date)],
    ]);
    expect(await box.markAllDelivered([])).toBe(0);
  });

  it('backs off exponentially with jitter and dead-letters after maxAttempts', async () => {
    await reset();
    const box = outbox();
    const message = await db.dataSource.transaction((tx) => box.enqueue(tx, { destination: 'https://x.example/', payload: [1] }));
    expect(backoffDelay(policy, 1, () => 0)).toBe(500);
    expect(backoffDelay(policy, 1, () => 0.999999)).toBe(1000);
    expect(backoffDelay(policy, 10, () => 0.5)).toBe(6000); // capped at 8000, equal jitter

    const [claimed] = await box.claimDue(clock);
    const failed1 = await box.markFailed(claimed!.id, new Error('HTTP 503'));
    expect(failed1).toMatchObject({ attempts: 1, status: 'pending', lastError: 'Error: HTTP 503' });
    expect(failed1.nextAttemptAt.toISOString()).toBe(at(750).toISOString()); // 1000 → 500 + 0.5·500
    expect(await box.claimDue(at(749))).toEqual([]);
    clock = at(750);
    const [again] = await box.claimDue(clock);
    expect(again?.id).toBe(message.id);
    const failed2 = await box.markFailed(message.id, new Error('timeout'));
    expect(failed2.nextAttemptAt.toISOString()).toBe(at(750 + 1500).toISOString()); // 2000 → 1500
    clock = at(2250);
    await box.claimDue(clock);
    const failed3 = await box.markFailed(message.id, 'refused');
    expect(failed3.status).toBe('dead');
    expect(await box.claimDue(at(10 ** 9))).toEqual([]);
    expect((await box.deadLetters()).map((m) => [m.id, m.attempts, m.lastError])).toEqual([[message.id, 3, 'refused']]);
    await expect(box.markDelivered(message.id)).rejects.toBeInstanceOf(PersistenceError.NotFound);
  });

  it('concurrent claimers on separate connections never get the same message', async () => {
    await reset();
    const box = outbox();
    await db.dataSource.transaction(async (tx) => {
      for (let i = 0; i < 40; i++) await box.enqueue(tx, { destination: 'mqtt:rsp/n', payload: { i }, notBefore: at(i) });
    });
    const others = [box, new Outbox(await db.openAnother(), { leaseMs: 30_000 }), new Outbox(await db.openAnother(), { leaseMs: 30_000 })];
    const batches = await Promise.all(
      Array.from({ length: 12 }, (_, i) => others[i % others.length]!.claimDue(at(1000), 5)),
    );
    const ids = batches.flat().map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(40);
  });

  it('reads one destination\'s newest messages (an MNO\'s feed) through its index, not a scan of the outbox', async () => {
    await reset();
    const box = outbox();
    await db.dataSource.transaction(async (tx) => {
      for (let i = 0; i < 30; i++) {
        clock = at(i * 1000);
        await box.enqueue(tx, { destination: i % 3 === 0 ? 'mqtt:rsp/v1/mno/mno~a/es2/notify' : 'https://other.example/notify', payload: { i } });
      }
    });
    expect((await box.recentTo('mqtt:rsp/v1/mno/mno~a/es2/notify', 3)).map((m) => m.payload)).toEqual([{ i: 27 }, { i: 24 }, { i: 21 }]);
    const table = db.kind === 'postgres' ? `"${db.schema}"."rsp_outbox_message"` : '"rsp_outbox_message"';
    const query = `SELECT "id" FROM ${table} WHERE "destination" = 'mqtt:x' ORDER BY "created_at" DESC LIMIT 50`;
    let plan: string;
    if (db.kind === 'postgres') {
      // A 30-row table is cheapest to scan; with scans priced out, what is left shows the index exists and fits.
      plan = await db.dataSource.transaction(async (tx) => {
        await tx.query('SET LOCAL enable_seqscan = off');
        return JSON.stringify(await tx.query(`EXPLAIN ${query}`));
      });
    } else {
      plan = JSON.stringify(await db.dataSource.query(`EXPLAIN QUERY PLAN ${query}`));
    }
    expect(plan).toContain('rsp_outbox_message_destination_idx');
  });
});
