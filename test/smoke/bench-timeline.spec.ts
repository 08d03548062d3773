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

  it('takes each message’s median gap over the runs that went the same way, and sums the gaps before the answer by sender', () => {
    const run = (shift: number, extra = false) => ({
      messages: [
        { at: 1_000 + 4 + shift, topic: 'rsp/v1/svc/smdp~bench/smsr/smsr~bench/es3/GetEIS', bytes: 300 },
        { at: 1_000 + 6 + shift, topic: 'rsp/v1/reply/smdp~bench/i-1', bytes: 900 },
        { at: 1_000 + 7 + shift, topic: `rsp/v1/euicc/${EID}/es5/cmd`, bytes: 500 },
        { at: 1_000 + 10 + shift, topic: `rsp/v1/euicc/${EID}/es5/reply/smsr~bench/i-2`, bytes: 200 },
        ...(extra ? [{ at: 1_000 + 11, topic: `rsp/v1/euicc/${EID}/es5/notify`, bytes: 100 }] : []),
        { at: 1_000 + 13 + shift, topic: 'rsp/v1/mno/mno~bench/es2/notify', bytes: 300 }, // after the answer
      ],
      call: { sentAt: 1_000, answeredAt: 1_000 + 12 + shift, status: 'Executed-Success' },
    });
    // Three runs the same way up to the answer (GetEIS sent after 4, 5 and 6 ms: median 5), one with a message more.
    const lines = timelineLines([run(0), run(1), run(2), run(0, true)], ids);
    expect(lines[0]).toBe('4 warm provisionings alone, one after another (Executed-Success): the ES2 answer after 12.5 ms (median; 12.0–14.0), 4 messages before it');
    expect(lines[1]).toBe("3 of 4 went message for message the same way up to the answer: the table gives each message's median gap over those, and adds them up");
    expect(lines).toContain('| 1 | 5.0 | 5.0 | SM-DP | ES3 GetEIS → SM-SR | 300 |');
    expect(lines).toContain('|  | 13.0 | 2.0 | SM-DP | **the ES2 answer → MNO** (HTTP) |  |');
    expect(lines).toContain('|  |  |  |  | then 1 message (median): the notifications and their confirmations |  |');
    expect(lines).toContain('- SM-DP: 5.0 ms over 1 message (38 %, 5.00 ms each)');
    expect(lines).toContain('- eUICC: 3.0 ms over 1 message (23 %, 3.00 ms each)');
    expect(lines).toContain('- SM-SR: 3.0 ms over 2 messages (23 %, 1.50 ms each)');
    expect(lines).toContain('- SM-DP, the HTTP answer after the last message: 2.0 ms over 1 message (15 %, 2.00 ms each)');
  });
});
