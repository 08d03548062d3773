/**
 * bench/provisioning-options.ts: `--ab` takes 40 measured rounds unless told otherwise, and refuses what
 * it would otherwise drop without a word (the sweep, a profile, a heap profile, SQLite's timing); so does
 * `--timeline` (the sweep, `--ab`); `--sqlite files` is the embedded stack's only; `--owners` is off by default.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { options } from '../../bench/provisioning-options';

describe('the provisioning bench options', () => {
  const argv = process.argv;
  // The settings these tests read, as the environment had them (restored after each test).
  const names = ['BENCH_ROUNDS', 'BENCH_PROFILE', 'BENCH_HEAP', 'BENCH_SQL_TIME'] as const;
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  const parse = (...args: string[]) => {
    process.argv = ['node', 'bench/run.ts', 'provisioning', ...args];
    return options();
  };
  beforeEach(() => {
    for (const name of names) delete process.env[name];
  });
  afterEach(() => {
    process.argv = argv;
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('measures 3 rounds by default, 40 with --ab, and what --rounds says either way', () => {
    expect(parse()).toMatchObject({ ab: false, rounds: 3 });
    expect(parse('--ab')).toMatchObject({ ab: true, rounds: 40 });
    expect(parse('--ab', '--rounds', '60')).toMatchObject({ ab: true, rounds: 60 });
  });

  it('refuses --ab with the sweep or a profile, naming what to run without it', () => {
    expect(() => parse('--ab', '--sweep')).toThrow('--ab prints only the A/B comparison; run --sweep without it');
    process.env.BENCH_PROFILE = '/tmp/bench.cpuprofile';
    expect(() => parse('--ab')).toThrow('run BENCH_PROFILE without it');
    expect(parse()).toMatchObject({ ab: false }); // a profile alone is fine
  });

  it('--timeline replaces the rounds, and refuses the sweep and --ab, which it would drop', () => {
    expect(parse()).toMatchObject({ timeline: false });
    expect(parse('--timeline', '--warmup', '600')).toMatchObject({ timeline: true, warmup: 600 });
    expect(() => parse('--timeline', '--sweep')).toThrow('--timeline prints lone provisionings; run --sweep without it');
    expect(() => parse('--timeline', '--ab')).toThrow('run --ab without it');
  });

  it('keeps SQLite in memory unless --sqlite files, which only the embedded stack has', () => {
    expect(parse()).toMatchObject({ stack: 'embedded', sqlite: 'memory' });
    expect(parse('--sqlite', 'files')).toMatchObject({ stack: 'embedded', sqlite: 'files' });
    expect(() => parse('--sqlite', 'disk')).toThrow('--sqlite must be memory or files');
    expect(() => parse('--stack', 'mosquitto-postgres', '--sqlite', 'files')).toThrow('--sqlite files is for the embedded stack');
  });

  it('leaves the owner binding out unless --owners, on either stack', () => {
    expect(parse()).toMatchObject({ owners: false });
    expect(parse('--owners')).toMatchObject({ owners: true });
    expect(parse('--owners', '--stack', 'mosquitto-postgres')).toMatchObject({ owners: true, stack: 'mosquitto-postgres' });
  });
});
