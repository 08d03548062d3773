/**
 * The pure parts of `npx rsp es2 download-profiles` (cli/bulk-download.ts): the EID list, the summary and
 * the exit code. The command end to end is test/e2e/cli-download-profiles.spec.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { BulkUsageError, bulkExitCode, eidsFromText, summaryLines, type BulkOutcome } from '../bulk-download';

const EID_A = '89049032123451234512345678901235';
const EID_B = '89049032123451234512345678901332';
const outcome = (status: string, extra: Partial<BulkOutcome> = {}): BulkOutcome => ({ eid: EID_A, functionCallIdentifier: `r-${EID_A}`, status, ms: 100, ...extra });

describe('download-profiles', () => {
  it('reads one EID per line, skipping blanks and comments; a bad or repeated line is named', () => {
    expect(eidsFromText(`# fleet\n${EID_A}\n\n${EID_B}  # the BBQ\r\n`, 'f.txt')).toEqual([EID_A, EID_B]);
    expect(() => eidsFromText(`${EID_A}\nabc\n`, 'f.txt')).toThrow(/f\.txt line 2: not an EID/);
    expect(() => eidsFromText(`${EID_A}\n${EID_A}\n`, 'f.txt')).toThrow(/line 2: EID .* listed twice/);
    expect(() => eidsFromText('# nothing\n', 'f.txt')).toThrow(BulkUsageError);
  });

  it('sums the outcomes, lists the failures by code, most frequent first, with the rate and p50 / p99', () => {
    const outcomes = [
      outcome('Executed-Success', { ms: 200 }),
      outcome('Failed', { code: '8.2.1/3.7  no stock', ms: 50 }),
      outcome('Failed', { code: '8.2.1/3.7  no stock', ms: 60 }),
      outcome('Failed', { code: '1.2/4.2  Execution error', ms: 70 }),
    ];
    expect(summaryLines(outcomes, 2)).toEqual([
      '4 eUICCs: 1 Executed-Success, 3 Failed',
      '2.0 calls/s over 2.0 s; a call p50 60 ms, p99 200 ms',
      '      2 × 8.2.1/3.7  no stock',
      '      1 × 1.2/4.2  Execution error',
    ]);
  });

  it('exits 0 when all executed, 2 on a failure, 3 on an expiry alone, 1 when a call had no answer', () => {
    expect(bulkExitCode([outcome('Executed-Success'), outcome('Executed-WithWarning')])).toBe(0);
    expect(bulkExitCode([outcome('Expired'), outcome('Failed')])).toBe(2);
    expect(bulkExitCode([outcome('Executed-Success'), outcome('Expired')])).toBe(3);
    expect(bulkExitCode([outcome('Failed'), outcome('no-answer', { error: 'timed out' })])).toBe(1);
  });
});
