/**
 * The provisioning bench's options (bench/provisioning.ts's header lists them): flags first, then the
 * BENCH_* environment, then the defaults.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { databaseSettings, parseSettings } from '@rsp/config';

export interface Options {
  devices: number;
  concurrency: number;
  stack: 'embedded' | 'mosquitto-postgres';
  /** Embedded: SQLite in memory (default) or in files of a temporary directory, as `npm start` keeps them. */
  sqlite: 'memory' | 'files';
  sweep: boolean;
  /** Where the virtual cards run: a worker thread of their own (default), or the services' thread. */
  cards: 'worker' | 'main';
  /** Where the embedded broker runs: a worker thread of its own (default), or the services' thread. */
  broker: 'worker' | 'main';
  /** Provisionings run before the measured one, in rounds of `concurrency` (JIT, caches). */
  warmup: number;
  /** Measured rounds of `devices` provisionings; the table shows the median one. */
  rounds: number;
  /** `--ab`: the measured rounds alternate two variants of the code in this process (ab.ts). */
  ab: boolean;
  /** `--timeline`: after the warm-up, lone provisionings, message by message (timeline.ts), instead of the rounds. */
  timeline: boolean;
  /**
   * `--owners`: the owner-identity binding on, as `npm start` runs it: the owner registry beside the
   * services, which fetch and verify each device's signed status before they act on it.
   */
  owners: boolean;
}

export function options(): Options {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== 'provisioning'),
    options: {
      devices: { type: 'string' },
      concurrency: { type: 'string' },
      stack: { type: 'string' },
      sqlite: { type: 'string' },
      sweep: { type: 'boolean' },
      cards: { type: 'string' },
      broker: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      ab: { type: 'boolean' },
      timeline: { type: 'boolean' },
      owners: { type: 'boolean' },
    },
    strict: false,
  });
  const devices = Number(values.devices ?? process.env.BENCH_DEVICES ?? 40);
  const stack = String(values.stack ?? 'embedded');
  if (!Number.isInteger(devices) || devices < 1) throw new Error('--devices must be a positive integer');
  if (stack !== 'embedded' && stack !== 'mosquitto-postgres') throw new Error('--stack must be embedded or mosquitto-postgres');
  const sqlite = String(values.sqlite ?? 'memory');
  if (sqlite !== 'memory' && sqlite !== 'files') throw new Error('--sqlite must be memory or files');
  if (sqlite === 'files' && stack !== 'embedded') throw new Error('--sqlite files is for the embedded stack (mosquitto-postgres uses PostgreSQL)');
  const concurrency = Number(values.concurrency ?? devices);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency must be a positive integer');
  const cards = String(values.cards ?? 'worker');
  if (cards !== 'worker' && cards !== 'main') throw new Error('--cards must be worker or main');
  const broker = String(values.broker ?? 'worker');
  if (broker !== 'worker' && broker !== 'main') throw new Error('--broker must be worker or main');
  const warmup = Number(values.warmup ?? process.env.BENCH_WARMUP ?? 2000);
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error('--warmup must be a non-negative integer');
  const ab = values.ab === true;
  // --ab prints only its comparison: say so rather than drop what else was asked for.
  const notWithAb = [values.sweep === true ? '--sweep' : '', ...['BENCH_PROFILE', 'BENCH_HEAP', 'BENCH_SQL_TIME'].filter((name) => process.env[name])].filter(Boolean);
  if (ab && notWithAb.length > 0) throw new Error(`--ab prints only the A/B comparison; run ${notWithAb.join(', ')} without it`);
  const timeline = values.timeline === true;
  if (timeline && (ab || values.sweep === true)) throw new Error(`--timeline prints lone provisionings; run ${ab ? '--ab' : '--sweep'} without it`);
  const rounds = Number(values.rounds ?? process.env.BENCH_ROUNDS ?? (ab ? 40 : 3));
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  return { devices, concurrency, stack, sqlite, sweep: values.sweep === true, cards, broker, warmup, rounds, ab, timeline, owners: values.owners === true };
}

/** RSP_DATABASE_PREPARED_STATEMENTS as the services read it (libs/config: 1 / 0, true / false, yes / no; else a ConfigError). */
export function preparedStatementsSetting(): boolean {
  const schema = z.object({ RSP_DATABASE_PREPARED_STATEMENTS: databaseSettings.RSP_DATABASE_PREPARED_STATEMENTS });
  return parseSettings(schema, process.env).RSP_DATABASE_PREPARED_STATEMENTS;
}
