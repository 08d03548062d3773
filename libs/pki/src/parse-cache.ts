/**
 * A small bounded memo for certificate parsing, keyed by the exact received bytes.
 *
 * Parsing is a pure function of the bytes, and the same few certificates (the CI, an EUM, CERT.DP /
 * CERT.SR) arrive again and again: re-parsing them (ASN.1 schemas, a KeyObject import) cost more than
 * the signature checks themselves (bench -- provisioning profile). Only parsing is cached: every
 * signature, key-id, validity, role and revocation check still runs on each call. Failures are never
 * cached (they throw). Results are frozen and shared, so callers must treat them as read-only (they
 * already do: every Buffer in them is a view on the private copy of the received bytes).
 */
export class ParseCache<T extends object> {
  /** Insertion order = recency order: the first key is the least recently used. */
  private readonly entries = new Map<string, T>();

  constructor(private readonly maxEntries = 256) {}

  get(bytes: Uint8Array, parse: () => T): T {
    const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const parsed = Object.freeze(parse());
    this.entries.set(key, parsed);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return parsed;
  }
}

/**
 * Signatures already verified, per issuer KeyObject (KeyObjects are immutable; the parse cache hands out
 * the same one for the same certificate). Only a successful check is remembered, and only for the exact
 * signed bytes and signature: a new certificate, another key or any changed byte is verified afresh.
 * Validity dates, key ids, roles and CRLs are not covered by this and are checked on every call.
 */
const verifiedSignatures = new WeakMap<object, Set<string>>();
const MAX_VERIFIED_PER_KEY = 1024;

export function verifiedOnce(publicKey: object, signed: Uint8Array, signature: Uint8Array, verify: () => boolean): boolean {
  const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const entry = `${signature.byteLength}:${latin1(signature)}${latin1(signed)}`;
  let known = verifiedSignatures.get(publicKey);
  if (known?.has(entry)) return true;
  if (!verify()) return false;
  if (!known) verifiedSignatures.set(publicKey, (known = new Set()));
  if (known.size >= MAX_VERIFIED_PER_KEY) known.clear();
  known.add(entry);
  return true;
}
