// The bench's SQLite statement timing (bench/sql-timing.ts): counted per text while on, untouched after.
import Database from 'better-sqlite3';
import { describe, expect, it } from '@jest/globals';
import { startSqliteTiming } from '../../bench/sql-timing';

describe('bench SQLite statement timing', () => {
  it('times run / all / get by statement text while on, and leaves better-sqlite3 as it was when stopped', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const select = db.prepare('SELECT   v FROM t\n WHERE k = ?');
    const stop = startSqliteTiming();
    insert.run('a');
    insert.run('b');
    expect(select.get(1)).toEqual({ v: 'a' });
    expect(db.prepare('SELECT count(*) AS n FROM t').all()).toEqual([{ n: 2 }]);
    const times = stop();
    insert.run('c'); // after stop: not counted
    const byText = Object.fromEntries(times.map((time) => [time.text, time]));
    expect(byText['INSERT INTO t (v) VALUES (?)']?.count).toBe(2);
    expect(byText['SELECT v FROM t WHERE k = ?']?.count).toBe(1); // whitespace folded
    expect(byText['SELECT count(*) AS n FROM t']?.count).toBe(1);
    for (const time of times) expect(time.maxMs).toBeGreaterThanOrEqual(time.medianMs);
    expect(Object.getPrototypeOf(insert).run.name).not.toBe('timed');
    db.close();
  });
});
