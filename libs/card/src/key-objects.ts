/**
 * A key set's static keys as Buffers, one set of objects per key set for as long as its hex is unchanged.
 *
 * libs/crypto keeps each AES key's expanded schedule and its CMAC subkey K1 per key object (aes-block.ts,
 * cmac.ts). A new Buffer per INITIALIZE UPDATE made the card expand Key-ENC and Key-MAC and recompute K1
 * in every session, about 3 µs each; the stack's own side already keeps its keys (issue 11: "stable key
 * buffers so the cached AES key schedules are reused").
 *
 * Keyed by the live KeySetState object, so a card powered off (dropped from the host's LRU) or a state
 * restored from its JSON text starts afresh, and a key set changed in place (PUT KEY, the ISD-R handover)
 * is decoded again because its hex no longer matches. The Buffers are frozen in an object, never written.
 */
import type { Scp03StaticKeys } from '@rsp/crypto';
import type { KeySetState } from './model';

interface Decoded {
  enc: string;
  mac: string;
  dek: string;
  keys: Scp03StaticKeys;
}

const decoded = new WeakMap<KeySetState, Decoded>();

/** Key-ENC, Key-MAC and Key-DEK of `keySet` (GP CS v2.3 Amd D §6.2.1), the same objects while its hex is the same. */
export function staticKeys(keySet: KeySetState): Scp03StaticKeys {
  const cached = decoded.get(keySet);
  if (cached && cached.enc === keySet.enc && cached.mac === keySet.mac && cached.dek === keySet.dek) return cached.keys;
  const keys: Scp03StaticKeys = Object.freeze({
    enc: Buffer.from(keySet.enc, 'hex'),
    mac: Buffer.from(keySet.mac, 'hex'),
    dek: Buffer.from(keySet.dek, 'hex'),
  });
  decoded.set(keySet, { enc: keySet.enc, mac: keySet.mac, dek: keySet.dek, keys });
  return keys;
}
