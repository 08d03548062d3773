// `npm run bench -- es5-session` (bench/es5-session.ts): the suite runs a real secured session and prints its row.
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { runEs5SessionBench } from '../../bench/es5-session';

describe('bench es5-session', () => {
  afterEach(() => {
    delete process.env.BENCH_ES5_SESSIONS;
    delete process.env.BENCH_ES5_WARMUP;
    jest.restoreAllMocks();
  });

  it('opens SCP03 sessions on a VirtualEuicc, sends a secured GET STATUS and prints µs per session', () => {
    process.env.BENCH_ES5_SESSIONS = '5';
    process.env.BENCH_ES5_WARMUP = '2';
    const lines: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    runEs5SessionBench(); // throws if the card refuses SELECT or answers GET STATUS with anything but 9000
    expect(lines.some((line) => line.includes('5 sessions after 2'))).toBe(true);
    expect(lines.find((line) => line.startsWith('| one session:'))).toMatch(/\| \d+(\.\d)? µs \|$/);
  });
});
