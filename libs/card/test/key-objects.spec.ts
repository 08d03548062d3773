import { describe, expect, it } from '@jest/globals';
import { staticKeys } from '../src/key-objects';
import type { KeySetState } from '../src/model';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const keySet = (): KeySetState => ({ kvn: 1, enc: '40'.repeat(16), mac: '41'.repeat(16), dek: '42'.repeat(16) });

describe('the card’s static key objects (stable, so libs/crypto’s key schedules are reused)', () => {
  it('decodes a key set once and hands out the same Buffers while its hex is unchanged', () => {
    const set = keySet();
    const first = staticKeys(set);
    expect(hex(first.enc)).toBe(set.enc);
    expect(hex(first.mac)).toBe(set.mac);
    expect(hex(first.dek)).toBe(set.dek);
    expect(staticKeys(set)).toBe(first);
  });

  it('decodes again when a key of the set is changed in place (PUT KEY, the ISD-R handover)', () => {
    const set = keySet();
    const before = staticKeys(set);
    set.mac = '51'.repeat(16);
    const after = staticKeys(set);
    expect(after).not.toBe(before);
    expect(hex(after.mac)).toBe(set.mac);
    expect(hex(before.mac)).toBe('41'.repeat(16)); // the old objects are never written
    set.dek = '52'.repeat(16);
    expect(hex(staticKeys(set).dek)).toBe(set.dek);
  });

  it('keeps nothing between two key set objects with equal hex (a state restored from JSON starts afresh)', () => {
    const one = keySet();
    const restored = JSON.parse(JSON.stringify(one)) as KeySetState;
    expect(staticKeys(restored)).not.toBe(staticKeys(one));
    expect(hex(staticKeys(restored).enc)).toBe(hex(staticKeys(one).enc));
  });
});
