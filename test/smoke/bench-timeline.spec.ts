/**
 * bench/timeline.ts: each broker message named by its sender and kind from its topic alone, and the time to
 * the ES2 answer split by whose message ended each gap (`npm run bench -- provisioning --timeline`).
 */
import { describe, expect, it } from '@jest/globals';
import { hopOf, timelineLines } from '../../bench/timeline';

const ids = { smdpId: 'smdp.bench', smsrId: 'smsr.bench' };
const EID = '89049032123451234512345678901235';

describe('the provisioning timeline', () => {
  it('names each message by its sender and kind, from its topic (ids written with ~ for .)', () => {
    expect(hopOf('rsp/v1/svc/smdp~bench/smsr/smsr~bench/es3/CreateISDP', ids)).toEqual({ from: 'SM-DP', what: 'ES3 CreateISDP → SM-SR' });
    expect(hopOf('rsp/v1/svc/smsr~bench/smdp/smdp~bench/es3/HandleProfileEnabledNotification', ids)).toEqual({ from: 'SM-SR', what: 'ES3 HandleProfileEnabledNotification → SM-DP' });
    expect(hopOf('rsp/v1/reply/smdp~bench/i-1', ids)).toEqual({ from: 'SM-SR', what: 'reply → SM-DP' });
    expect(hopOf('rsp/v1/reply/smsr~bench/i-2', ids)).toEqual({ from: 'SM-DP', what: 'reply → SM-SR' });
    expect(hopOf(`rsp/v1/euicc/${EID}/es5/cmd`, ids)).toEqual({ from: 'SM-SR', what: 'ES5 script → eUICC' });
    expect(hopOf(`rsp/v1/euicc/${EID}/es5/reply/smsr~bench/i-2`, ids)).toEqual({ from: 'eUICC', what: 'ES5 response → SM-SR' });
    expect(hopOf(`rsp/v1/euicc/${EID}/es5/notify`, ids)).toEqual({ from: 'eUICC', what: 'notification → SM-SR' });
    expect(hopOf('rsp/v1/mno/mno~bench/es4/notify', ids)).toEqual({ from: 'SM-SR', what: 'ES4 notification → MNO' });
    expect(hopOf('rsp/v1/mno/mno~bench/es2/notify', ids)).toEqual({ from: 'SM-DP', what: 'ES2 notification → MNO' });
  });

  it('sums the gaps before the answer by sender, and shows the answer among the messages', () => {
    const at = (ms: number) => 1_000 + ms;
    const lines = timelineLines(
      [
        { at: at(4), topic: 'rsp/v1/svc/smdp~bench/smsr/smsr~bench/es3/GetEIS', bytes: 300 },
        { at: at(6), topic: 'rsp/v1/reply/smdp~bench/i-1', bytes: 900 },
        { at: at(7), topic: `rsp/v1/euicc/${EID}/es5/cmd`, bytes: 500 },
        { at: at(10), topic: `rsp/v1/euicc/${EID}/es5/reply/smsr~bench/i-2`, bytes: 200 },
        { at: at(13), topic: 'rsp/v1/mno/mno~bench/es2/notify', bytes: 300 }, // after the answer
      ],
      { sentAt: at(0), answeredAt: at(12), status: 'Executed-Success' },
      ids,
    );
    expect(lines[0]).toBe('one warm provisioning alone: Executed-Success after 12.0 ms, 4 messages before the answer');
    expect(lines).toContain('| 1 | 4.0 | 4.0 | SM-DP | ES3 GetEIS → SM-SR | 300 |');
    expect(lines).toContain('| | 12.0 | 2.0 | SM-DP | **the ES2 answer → MNO** (HTTP) | |');
    expect(lines).toContain('| 5 | 13.0 | 1.0 | SM-DP | ES2 notification → MNO | 300 |');
    expect(lines).toContain('- SM-DP: 4.0 ms over 1 message (33 %, 4.00 ms each)');
    expect(lines).toContain('- eUICC: 3.0 ms over 1 message (25 %, 3.00 ms each)');
    expect(lines).toContain('- SM-SR: 3.0 ms over 2 messages (25 %, 1.50 ms each)');
    expect(lines.at(-1)).toBe('- SM-DP, from the last message to the HTTP answer: 2.0 ms');
  });
});
