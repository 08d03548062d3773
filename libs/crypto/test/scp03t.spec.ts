import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeSingleTlv } from '@rsp/tlv';
import { Scp03tReceiver, Scp03tSender, scp03tMaxPlaintext, SCP03T_MAX_SEGMENT_BYTES, type Scp03tReceipt } from '../src/scp03t';

const h = (s: string): Buffer => Buffer.from(s, 'hex');
const vectors = JSON.parse(readFileSync(new URL('./vectors/scp03t-regression.json', import.meta.url), 'utf8')) as {
  keys: { kvn: number; enc: string; mac: string; dek: string };
  sdAid: string;
  sequenceCounterBefore: number;
  hostChallenge: string;
  securityLevel: number;
  profilePackage: string;
  initializeUpdateCommand: string;
  initializeUpdateResponse: string;
  externalAuthenticateCommand: string;
  externalAuthenticateResponse: string;
  segments: string[];
  lastSegmentResponseData: string;
  lastSegmentResponse: string;
  negative: { name: string; segment: number; byteOffset: number; xor: number; expectError: string; expectResponse: string }[];
};

const keys = { enc: h(vectors.keys.enc), mac: h(vectors.keys.mac), dek: h(vectors.keys.dek) };
const receiverOptions = { keys, kvn: vectors.keys.kvn, sdAid: h(vectors.sdAid), sequenceCounter: vectors.sequenceCounterBefore };

function expectKind<K extends Scp03tReceipt['kind']>(receipt: Scp03tReceipt, kind: K): Extract<Scp03tReceipt, { kind: K }> {
  if (receipt.kind !== kind) throw new Error(`expected ${kind}, got ${receipt.kind}: ${JSON.stringify(receipt)}`);
  return receipt as Extract<Scp03tReceipt, { kind: K }>;
}

/** Sender and receiver with an authenticated session. */
function openPair(options: { securityLevel?: number; senderKeys?: typeof keys } = {}) {
  const sender = new Scp03tSender({ keys: options.senderKeys ?? keys, kvn: vectors.keys.kvn, securityLevel: options.securityLevel ?? 0x33 });
  const receiver = new Scp03tReceiver(receiverOptions);
  sender.processInitializeUpdateResponse(expectKind(receiver.receive(sender.initializeUpdateCommand()), 'initialized').response);
  sender.processExternalAuthenticateResponse(expectKind(receiver.receive(sender.externalAuthenticateCommand()), 'authenticated').response);
  return { sender, receiver };
}

describe('SCP03t regression vector (self-generated, see source)', () => {
  it('sender reproduces every TLV', () => {
    const sender = new Scp03tSender({ keys, kvn: vectors.keys.kvn, hostChallenge: h(vectors.hostChallenge), securityLevel: vectors.securityLevel });
    expect(sender.initializeUpdateCommand().toString('hex')).toBe(vectors.initializeUpdateCommand);
    sender.processInitializeUpdateResponse(h(vectors.initializeUpdateResponse));
    expect(sender.externalAuthenticateCommand().toString('hex')).toBe(vectors.externalAuthenticateCommand);
    sender.processExternalAuthenticateResponse(h(vectors.externalAuthenticateResponse));
    expect(sender.wrapSegments(h(vectors.profilePackage)).map((s) => s.toString('hex'))).toEqual(vectors.segments);
    for (let i = 0; i < vectors.segments.length - 1; i += 1) expect(sender.unwrapResponse(h('8600'))).toHaveLength(0);
    expect(sender.unwrapResponse(h(vectors.lastSegmentResponse)).toString('hex')).toBe(vectors.lastSegmentResponseData);
  });

  it('receiver reproduces every response and the package', () => {
    const receiver = new Scp03tReceiver(receiverOptions);
    expect(receiver.receive(h(vectors.initializeUpdateCommand)).response.toString('hex')).toBe(vectors.initializeUpdateResponse);
    expect(receiver.receive(h(vectors.externalAuthenticateCommand)).response.toString('hex')).toBe(vectors.externalAuthenticateResponse);
    const data = vectors.segments.map((s) => expectKind(receiver.receive(h(s)), 'segment').data);
    expect(Buffer.concat(data).toString('hex')).toBe(vectors.profilePackage);
    expect(receiver.respond(h(vectors.lastSegmentResponseData)).toString('hex')).toBe(vectors.lastSegmentResponse);
  });

  it.each(vectors.negative.map((n) => [n.name, n] as const))('negative: %s', (_name, neg) => {
    const receiver = new Scp03tReceiver(receiverOptions);
    receiver.receive(h(vectors.initializeUpdateCommand));
    expectKind(receiver.receive(h(vectors.externalAuthenticateCommand)), 'authenticated');
    for (let i = 0; i < neg.segment; i += 1) expectKind(receiver.receive(h(vectors.segments[i] as string)), 'segment');
    const bad = h(vectors.segments[neg.segment] as string);
    const at = neg.byteOffset < 0 ? bad.length + neg.byteOffset : neg.byteOffset;
    bad[at] = (bad[at] as number) ^ neg.xor;
    const refused = expectKind(receiver.receive(bad), 'refused');
    expect(refused.error.code).toBe(neg.expectError);
    expect(refused.response.toString('hex')).toBe(neg.expectResponse);
  });
});

describe('SCP03t sender ↔ receiver', () => {
  it('carries a 10 KiB random package in segments of at most 1020 bytes', () => {
    const { sender, receiver } = openPair();
    const profilePackage = randomBytes(10 * 1024);
    const segments = sender.wrapSegments(profilePackage);
    expect(sender.maxPlaintextPerSegment).toBe(1007);
    expect(segments).toHaveLength(Math.ceil(profilePackage.length / 1007));
    for (const s of segments) expect(s.length).toBeLessThanOrEqual(SCP03T_MAX_SEGMENT_BYTES);
    expect(segments[0]).toHaveLength(1020);
    const received: Buffer[] = [];
    segments.forEach((segment, index) => {
      const receipt = expectKind(receiver.receive(segment), 'segment');
      received.push(receipt.data);
      const last = index === segments.length - 1;
      const response = last ? receiver.respond(Buffer.from('30 03 a0 01 00'.replace(/ /g, ''), 'hex')) : receipt.response;
      expect(sender.unwrapResponse(response).toString('hex')).toBe(last ? '3003a00100' : '');
    });
    expect(Buffer.concat(received)).toEqual(profilePackage);
  });

  it.each([0x03, 0x13])('works at security level %i too', (securityLevel) => {
    const { sender, receiver } = openPair({ securityLevel });
    const segment = sender.wrapSegment(Buffer.from('hello'));
    expect(expectKind(receiver.receive(segment), 'segment').data.toString()).toBe('hello');
    expect(sender.unwrapResponse(receiver.respond(Buffer.from('ok'))).toString()).toBe('ok');
  });

  const refusals: [string, (segments: Buffer[]) => Buffer[], string][] = [
    ['a tampered segment', (s) => [s[0] as Buffer, flipLast(s[1] as Buffer)], 'ERR_CRYPTO_MAC_MISMATCH'],
    ['a dropped segment', (s) => [s[0] as Buffer, s[2] as Buffer], 'ERR_CRYPTO_MAC_MISMATCH'],
    ['reordered segments', (s) => [s[1] as Buffer], 'ERR_CRYPTO_MAC_MISMATCH'],
    ['a replayed segment', (s) => [s[0] as Buffer, s[0] as Buffer], 'ERR_CRYPTO_MAC_MISMATCH'],
  ];
  it.each(refusals)('refuses %s, then everything after it', (_name, reorder, code) => {
    const { sender, receiver } = openPair();
    const segments = sender.wrapSegments(randomBytes(3000));
    const sent = reorder(segments);
    const receipts = sent.map((s) => receiver.receive(s));
    const refused = expectKind(receipts[receipts.length - 1] as Scp03tReceipt, 'refused');
    expect(refused.error.code).toBe(code);
    expect(refused.response.toString('hex')).toBe('9f060108');
    // The session is closed: a genuine segment is refused as well.
    expect(expectKind(receiver.receive(segments[2] as Buffer), 'refused').error.code).toBe('ERR_CRYPTO_SECURE_CHANNEL_STATE');
    // The sender turns the error TLV into a typed error.
    expect(() => sender.unwrapResponse(refused.response)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_MAC_MISMATCH' }));
  });

  it('refuses the wrong keys on both sides', () => {
    const wrongKeys = { ...keys, mac: Buffer.alloc(16, 0x55) };
    const receiver = new Scp03tReceiver(receiverOptions);
    const sender = new Scp03tSender({ keys: wrongKeys, kvn: vectors.keys.kvn });
    const iu = expectKind(receiver.receive(sender.initializeUpdateCommand()), 'initialized');
    expect(() => sender.processInitializeUpdateResponse(iu.response)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_CRYPTOGRAM_MISMATCH' }));
    // A genuine ExternalAuthenticate presented to an ISD-P holding other keys.
    const otherReceiver = new Scp03tReceiver({ ...receiverOptions, keys: wrongKeys });
    otherReceiver.receive(h(vectors.initializeUpdateCommand));
    const refused = expectKind(otherReceiver.receive(h(vectors.externalAuthenticateCommand)), 'refused');
    expect(refused.error.code).toBe('ERR_CRYPTO_CRYPTOGRAM_MISMATCH');
    expect(refused.response.toString('hex')).toBe('9f050108');
  });

  it('refuses segments before authentication and malformed TLVs as structure errors', () => {
    const { sender } = openPair();
    const fresh = new Scp03tReceiver(receiverOptions);
    const early = expectKind(fresh.receive(sender.wrapSegment(Buffer.from('x'))), 'refused');
    expect(early.error.code).toBe('ERR_CRYPTO_SECURE_CHANNEL_STATE');
    expect(early.response.toString('hex')).toBe('9f060107');
    expect(expectKind(fresh.receive(h('8605aabb')), 'refused').error.code).toBe('ERR_TLV_TRUNCATED');
    expect(decodeSingleTlv(expectKind(fresh.receive(h('870100')), 'refused').response).tag).toBe(0x9f07);
  });

  it('sizes segments from the TLV limit', () => {
    expect(scp03tMaxPlaintext(1020)).toBe(1007);
    expect(scp03tMaxPlaintext(1024)).toBe(1007);
    expect(scp03tMaxPlaintext(140)).toBe(127);
    expect(() => scp03tMaxPlaintext(20)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_INVALID_PARAMETER' }));
  });
});

function flipLast(segment: Buffer): Buffer {
  const copy = Buffer.from(segment);
  copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 0x01;
  return copy;
}
