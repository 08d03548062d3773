import { TlvError } from './errors';

/** Upper-case hex of `bytes`, the form GP/GSMA documents and tools print. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

/** Parses hex, ignoring whitespace; throws TlvError.BadHex instead of silently truncating like Buffer.from. */
export function fromHex(text: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(compact)) {
    throw new TlvError.BadHex(`not an even-length hex string: "${compact.slice(0, 32)}"`);
  }
  return Buffer.from(compact, 'hex');
}
