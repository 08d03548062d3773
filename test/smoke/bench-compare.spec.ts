/** bench/compare.ts reads the provisioning bench's table: the figures it compares come from the right rows. */
import { describe, expect, it } from '@jest/globals';
import { parseProvisioningFigures } from '../../bench/compare';

describe('bench compare: the provisioning table read back', () => {
  it('takes the median round, the CPU over all threads and the services’ thread, whatever the labels’ parentheses say', () => {
    const output = [
      'measured rounds of 160 (rate, CPU per provisioning): 130.3 /s 9.7 ms (services\' thread 6.0) · 118.0 /s 11.2 ms (services\' thread 6.6)',
      '| figure | value |',
      '|---|---:|',
      '| the first provisioning after start, alone (a cold card, and V8 not yet warm: before the warm-up) | 180 ms (Executed-Success) |',
      '| 160 provisionings, 160 in flight (after 600 warm-up; median of 3 rounds) | 122.0 /s (160/160 Executed-Success, 1.31 s) |',
      '| CPU per provisioning, services and cards together (one process, the bench\'s MNO client left out) | 10.2 ms |',
      '| … of which the services (the process minus the card, broker and MNO client threads) | 6.7 ms |',
      '| … … the services\' thread (their JavaScript, the database driver, TLS) | 6.0 ms |',
      '| … … V8\'s and libuv\'s helper threads (GC, JIT, for every thread\'s isolate) | 0.1 ms |',
    ].join('\n');
    expect(parseProvisioningFigures(output)).toEqual({ rate: 122, cpuMs: 10.2, servicesThreadMs: 6 });
    // An older bench: SQLite in the label, no per-thread split.
    const older = output.replace('the database driver', 'SQLite').split('\n').filter((line) => !line.includes('services\' thread (')).join('\n');
    expect(parseProvisioningFigures(older)).toEqual({ rate: 122, cpuMs: 10.2, servicesThreadMs: undefined });
    expect(parseProvisioningFigures('the stack did not start')).toBeUndefined();
  });
});
