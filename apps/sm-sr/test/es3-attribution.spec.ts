/**
 * Which MNO an SM-DP's ES3 call serves (apps/sm-sr/src/adapters/mqtt/es3-attribution.ts): what decides whose
 * transaction log the call and its card scripts land in, so an MNO never reads another MNO's, and one SM-DP
 * cannot put its calls under another SM-DP's download.
 */
import { describe, expect, it } from '@jest/globals';
import { Es3Attribution } from '../src/adapters/mqtt/es3-attribution';

const EID = '89049032123451234512345678901235';
const create = (iccid: string, mnoId: string) => ({ eid: EID, iccid, mnoId, requiredMemory: 1000 });

describe('ES3 attribution', () => {
  it("CreateISDP names the MNO of its profile: that ICCID's calls, and the same SM-DP's SendData on the card, serve it", () => {
    const attribution = new Es3Attribution();
    expect(attribution.mnoOf('smdp.a', 'GetEIS', { eid: EID })).toBeUndefined(); // before the download: no one's yet
    expect(attribution.mnoOf('smdp.a', 'CreateISDP', create('8949001', 'mno.x'))).toBe('mno.x');
    expect(attribution.mnoOf('smdp.a', 'SendData', { eid: EID, sdAid: 'A0000005591010FFFFFFFF8900001100', data: '00' })).toBe('mno.x');
    expect(attribution.mnoOf('smdp.a', 'ProfileDownloadCompleted', { eid: EID, iccid: '8949001' })).toBe('mno.x');
    expect(attribution.mnoOf('smdp.a', 'EnableProfile', { eid: EID, iccid: '8949001' })).toBe('mno.x');
  });

  it("a second download on the card moves SendData to its MNO; the first profile's calls stay with the first MNO", () => {
    const attribution = new Es3Attribution();
    attribution.mnoOf('smdp.a', 'CreateISDP', create('8949001', 'mno.x'));
    attribution.mnoOf('smdp.a', 'CreateISDP', create('8949002', 'mno.y'));
    expect(attribution.mnoOf('smdp.a', 'SendData', { eid: EID })).toBe('mno.y');
    expect(attribution.mnoOf('smdp.a', 'DisableProfile', { eid: EID, iccid: '8949001' })).toBe('mno.x');
    expect(attribution.mnoOf('smdp.a', 'DeleteISDP', { eid: EID, iccid: '8949003' })).toBeUndefined(); // an ICCID never created here
  });

  it("the attacker's calls: another SM-DP on the same card and ICCID serves no one, nor do audits or malformed bodies", () => {
    const attribution = new Es3Attribution();
    attribution.mnoOf('smdp.a', 'CreateISDP', create('8949001', 'mno.x'));
    expect(attribution.mnoOf('smdp.evil', 'SendData', { eid: EID })).toBeUndefined();
    expect(attribution.mnoOf('smdp.evil', 'EnableProfile', { eid: EID, iccid: '8949001' })).toBeUndefined();
    expect(attribution.mnoOf('smdp.a', 'AuditEIS', { eid: EID })).toBeUndefined();
    expect(attribution.mnoOf('smdp.a', 'SendData', null)).toBeUndefined();
    expect(attribution.mnoOf('smdp.a', 'CreateISDP', { eid: EID, iccid: '8949004', mnoId: 42 })).toBeUndefined();
  });

  it('after a restart, a profile the registry says this SM-DP downloaded names its MNO (one read, then remembered); another SM-DP reads nothing', async () => {
    const attribution = new Es3Attribution(); // a new process: no CreateISDP seen
    const reads: string[] = [];
    const registry = async (iccid: string) => {
      reads.push(iccid);
      return iccid === '8949001' ? { mnoId: 'mno.x', smdpId: 'smdp.a' } : undefined;
    };
    const enable = { eid: EID, iccid: '8949001' };
    expect(attribution.mnoOf('smdp.a', 'EnableProfile', enable)).toBeUndefined();
    expect(await attribution.recall('smdp.a', 'EnableProfile', enable, registry)).toBe('mno.x');
    expect(attribution.mnoOf('smdp.a', 'DisableProfile', enable)).toBe('mno.x'); // remembered: no second read
    expect(await attribution.recall('smdp.evil', 'EnableProfile', enable, registry)).toBeUndefined(); // not the SM-DP that downloaded it
    expect(await attribution.recall('smdp.a', 'DeleteISDP', { eid: EID, iccid: '8949009' }, registry)).toBeUndefined(); // no such profile
    expect(await attribution.recall('smdp.a', 'CreateISDP', create('8949002', 'mno.x'), registry)).toBeUndefined(); // makes a profile: nothing to read
    expect(await attribution.recall('smdp.a', 'SendData', { eid: EID }, registry)).toBeUndefined(); // names no profile
    expect(await attribution.recall('smdp.a', 'EnableProfile', null, registry)).toBeUndefined();
    expect(reads).toEqual(['8949001', '8949001', '8949009']);
  });

  it('is bounded: the oldest downloads are forgotten first', () => {
    const attribution = new Es3Attribution(4); // two downloads' worth (card and profile each)
    attribution.mnoOf('smdp.a', 'CreateISDP', { ...create('8949001', 'mno.x'), eid: '1'.repeat(32) });
    attribution.mnoOf('smdp.a', 'CreateISDP', { ...create('8949002', 'mno.x'), eid: '2'.repeat(32) });
    attribution.mnoOf('smdp.a', 'CreateISDP', { ...create('8949003', 'mno.x'), eid: '3'.repeat(32) });
    expect(attribution.mnoOf('smdp.a', 'SendData', { eid: '1'.repeat(32) })).toBeUndefined();
    expect(attribution.mnoOf('smdp.a', 'SendData', { eid: '3'.repeat(32) })).toBe('mno.x');
  });
});
