import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { decodeCommandApdu, encodeCommandApdu, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import { Scp03Card, Scp03Host } from '../src/scp03';
import { parseInitializeUpdateResponse } from '../src/scp03-handshake';
import { pad80, unpad80 } from '../src/scp03-session';
import { deriveScp03SessionKeys, scp03Kdf, Scp03DerivationConstant } from '../src/scp03-kdf';

interface WrappedCase {
  plain: string;
  wrapped: string;
  responsePlain?: string;
  responseWrapped?: string;
  sw?: string;
}
interface VectorSet {
  name: string;
  keys: { kvn: number; enc: string; mac: string; dek: string };
  initializeUpdateCommand: string;
  initializeUpdateResponse: string;
  externalAuthenticateCommand: string;
  wrapped: WrappedCase[];
}
interface NegativeCase {
  name: string;
  set: string;
  mutate?: string;
  byteOffset?: number;
  xor?: number;
  replay?: number;
  swap?: [number, number];
  expectError: string;
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/scp03-pysim.json', import.meta.url), 'utf8')) as {
  sdAid: string;
  sets: VectorSet[];
  negative: NegativeCase[];
};

const h = (s: string): Buffer => Buffer.from(s, 'hex');
const keysOf = (set: VectorSet) => ({ enc: h(set.keys.enc), mac: h(set.keys.mac), dek: h(set.keys.dek) });
const setByName = (name: string): VectorSet => {
  const found = vectors.sets.find((s) => s.name === name);
  if (!found) throw new Error(`no set ${name}`);
  return found;
};
const hostChallengeOf = (set: VectorSet) => h(set.initializeUpdateCommand).subarray(5, 13);

function openHost(set: VectorSet): Scp03Host {
  const host = new Scp03Host({ keys: keysOf(set), kvn: set.keys.kvn, hostChallenge: hostChallengeOf(set) });
  host.initializeUpdateCommand();
  host.processInitializeUpdateResponse({ data: h(set.initializeUpdateResponse), sw: 0x9000 });
  const ea = host.externalAuthenticateCommand(h(set.externalAuthenticateCommand)[2] as number);
  host.processExternalAuthenticateResponse({ data: Buffer.alloc(0), sw: 0x9000 });
  expect(encodeCommandApdu(ea).toString('hex')).toBe(set.externalAuthenticateCommand);
  return host;
}

/** A card whose sequence counter is one below the vector's, so it answers the same challenge. */
function cardFor(set: VectorSet): Scp03Card {
  const counter = parseInitializeUpdateResponse(h(set.initializeUpdateResponse)).sequenceCounter ?? 0;
  return new Scp03Card({ keys: keysOf(set), kvn: set.keys.kvn, sdAid: h(vectors.sdAid), sequenceCounter: counter - 1 });
}

function openCard(set: VectorSet): Scp03Card {
  const card = cardFor(set);
  card.initializeUpdate(decodeCommandApdu(h(set.initializeUpdateCommand)));
  card.externalAuthenticate(decodeCommandApdu(h(set.externalAuthenticateCommand)));
  return card;
}

function flip(bytes: Buffer, offset: number, xor: number): Buffer {
  const copy = Buffer.from(bytes);
  const at = offset < 0 ? copy.length + offset : offset;
  copy[at] = (copy[at] as number) ^ xor;
  return copy;
}

describe('SCP03 KDF (GP Amd D §4.1.5)', () => {
  it('builds the SP 800-108 input blocks and truncates to L', () => {
    const key = h('000102030405060708090a0b0c0d0e0f');
    expect(scp03Kdf(key, 0x04, Buffer.alloc(16), 128)).toHaveLength(16);
    expect(scp03Kdf(key, 0x04, Buffer.alloc(16), 256)).toHaveLength(32);
    expect(scp03Kdf(key, 0x04, Buffer.alloc(16), 256).subarray(0, 16)).not.toEqual(scp03Kdf(key, 0x04, Buffer.alloc(16), 128));
  });
  it('rejects bad keys and lengths with typed errors', () => {
    expect(() => scp03Kdf(Buffer.alloc(15), 0, Buffer.alloc(0), 64)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_INVALID_KEY' }));
    expect(() => scp03Kdf(Buffer.alloc(16), 0, Buffer.alloc(0), 12)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_INVALID_PARAMETER' }));
  });
});

describe('SCP03 session keys (GP Amd D §6.2.1), derived once per handshake', () => {
  const fresh = () => ({ enc: Buffer.alloc(16, 0x11), mac: Buffer.alloc(16, 0x22), dek: Buffer.alloc(16, 0x33) });
  const context = Buffer.from('0001020304050607a0a1a2a3a4a5a6a7', 'hex');
  const expected = (keys: ReturnType<typeof fresh>, ctx: Buffer) => ({
    sEnc: scp03Kdf(keys.enc, Scp03DerivationConstant.S_ENC, ctx, 128),
    sMac: scp03Kdf(keys.mac, Scp03DerivationConstant.S_MAC, ctx, 128),
    sRmac: scp03Kdf(keys.mac, Scp03DerivationConstant.S_RMAC, ctx, 128),
  });

  it('answers the second derivation of a handshake from the first, and derives afresh for another context or changed key bytes', () => {
    const keys = fresh();
    const first = deriveScp03SessionKeys(keys, context);
    expect(first).toEqual(expected(keys, context));
    expect(deriveScp03SessionKeys(keys, Buffer.from(context))).toBe(first); // same bytes: the same keys
    expect(Object.isFrozen(first)).toBe(true);

    const other = Buffer.from(context);
    other[15] = 0xff;
    expect(deriveScp03SessionKeys(keys, other)).toEqual(expected(keys, other));

    keys.mac[0] = 0x99; // a key changed in place is a new key
    expect(deriveScp03SessionKeys(keys, context)).toEqual(expected(keys, context));
    keys.enc[0] = 0x98;
    expect(deriveScp03SessionKeys(keys, context)).toEqual(expected(keys, context));
  });
});

describe('ISO 9797-1 method 2 padding', () => {
  it('always adds 1..16 bytes and round-trips', () => {
    for (let n = 0; n < 40; n += 1) {
      const data = Buffer.alloc(n, 0xab);
      const padded = pad80(data);
      expect(padded.length % 16).toBe(0);
      expect(padded.length).toBeGreaterThan(n);
      expect(unpad80(padded)).toEqual(data);
    }
  });
  it('refuses a block without the 80 marker', () => {
    expect(() => unpad80(Buffer.alloc(16))).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_PADDING' }));
    expect(() => unpad80(Buffer.alloc(15))).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_PADDING' }));
  });
});

describe.each(vectors.sets.map((s) => [s.name, s] as const))('SCP03 pySim KAT %s', (_name, set) => {
  it('host: INITIALIZE UPDATE, EXTERNAL AUTHENTICATE and every wrapped command / unwrapped response', () => {
    const host = new Scp03Host({ keys: keysOf(set), kvn: set.keys.kvn, hostChallenge: hostChallengeOf(set) });
    expect(encodeCommandApdu(host.initializeUpdateCommand()).toString('hex')).toBe(set.initializeUpdateCommand);
    host.processInitializeUpdateResponse({ data: h(set.initializeUpdateResponse), sw: 0x9000 });
    const level = h(set.externalAuthenticateCommand)[2] as number;
    expect(encodeCommandApdu(host.externalAuthenticateCommand(level)).toString('hex')).toBe(set.externalAuthenticateCommand);
    for (const c of set.wrapped) {
      const wrapped = host.wrapCommand(decodeCommandApdu(h(c.plain)));
      expect(encodeCommandApdu(wrapped).toString('hex')).toBe(c.wrapped);
      if (c.responseWrapped !== undefined && c.responsePlain !== undefined) {
        const sw = parseInt(c.sw ?? '9000', 16);
        expect(host.unwrapResponse({ data: h(c.responseWrapped), sw }).data.toString('hex')).toBe(c.responsePlain);
      }
    }
  });

  it('card: answers INITIALIZE UPDATE byte for byte, accepts the commands and wraps the responses', () => {
    const card = cardFor(set);
    const iu = card.initializeUpdate(decodeCommandApdu(h(set.initializeUpdateCommand)));
    expect(iu.data.toString('hex')).toBe(set.initializeUpdateResponse);
    expect(card.externalAuthenticate(decodeCommandApdu(h(set.externalAuthenticateCommand))).sw).toBe(0x9000);
    expect(card.securityLevel).toBe(h(set.externalAuthenticateCommand)[2]);
    for (const c of set.wrapped) {
      const plain = decodeCommandApdu(h(c.plain));
      const unwrapped = card.unwrapCommand(decodeCommandApdu(h(c.wrapped)));
      expect(encodeCommandApdu(unwrapped)).toEqual(encodeCommandApdu(plain));
      if (c.responseWrapped !== undefined && c.responsePlain !== undefined) {
        const response = card.wrapResponse({ data: h(c.responsePlain), sw: 0x9000 });
        expect(response.data.toString('hex')).toBe(c.responseWrapped);
      }
    }
  });
});

describe.each(vectors.negative.map((n) => [n.name, n] as const))('SCP03 negative: %s', (_name, neg) => {
  it(`is refused with ${neg.expectError}`, () => {
    const set = setByName(neg.set);
    const mutate = (hexValue: string) => flip(h(hexValue), neg.byteOffset ?? 0, neg.xor ?? 0);
    const expected = expect.objectContaining({ code: neg.expectError });
    if (neg.mutate === 'initializeUpdateResponse') {
      const host = new Scp03Host({ keys: keysOf(set), kvn: set.keys.kvn, hostChallenge: hostChallengeOf(set) });
      const bad: ResponseApdu = { data: mutate(set.initializeUpdateResponse), sw: 0x9000 };
      expect(() => host.processInitializeUpdateResponse(bad)).toThrow(expected);
    } else if (neg.mutate === 'externalAuthenticateCommand') {
      const card = cardFor(set);
      card.initializeUpdate(decodeCommandApdu(h(set.initializeUpdateCommand)));
      expect(() => card.externalAuthenticate(decodeCommandApdu(mutate(set.externalAuthenticateCommand)))).toThrow(expected);
      expect(card.isAuthenticated).toBe(false);
    } else if (neg.mutate === 'wrapped[0]') {
      const card = openCard(set);
      const first = set.wrapped[0] as WrappedCase;
      expect(() => card.unwrapCommand(decodeCommandApdu(mutate(first.wrapped)))).toThrow(expected);
      // The session is gone: even the genuine command is refused now.
      expect(() => card.unwrapCommand(decodeCommandApdu(h(first.wrapped)))).toThrow(
        expect.objectContaining({ code: 'ERR_CRYPTO_SECURE_CHANNEL_STATE' }),
      );
    } else if (neg.mutate === 'responseWrapped[0]') {
      const host = openHost(set);
      const first = set.wrapped[0] as WrappedCase;
      host.wrapCommand(decodeCommandApdu(h(first.plain)));
      expect(() => host.unwrapResponse({ data: mutate(first.responseWrapped as string), sw: 0x9000 })).toThrow(expected);
    } else if (neg.replay !== undefined) {
      const replayed = neg.replay;
      const card = openCard(set);
      const commands = set.wrapped.map((c) => decodeCommandApdu(h(c.wrapped)));
      for (const c of commands.slice(0, replayed + 1)) card.unwrapCommand(c);
      expect(() => card.unwrapCommand(commands[replayed] as CommandApdu)).toThrow(expected);
    } else if (neg.swap !== undefined) {
      const [skippedFrom, sentInstead] = neg.swap;
      const card = openCard(set);
      const commands = set.wrapped.map((c) => decodeCommandApdu(h(c.wrapped)));
      for (const c of commands.slice(0, skippedFrom)) card.unwrapCommand(c);
      expect(() => card.unwrapCommand(commands[sentInstead] as CommandApdu)).toThrow(expected);
    } else {
      throw new Error(`negative case ${neg.name} has no action`);
    }
  });
});

describe('SCP03 host ↔ card round trip', () => {
  const keys = { enc: Buffer.alloc(32, 1), mac: Buffer.alloc(32, 2), dek: Buffer.alloc(32, 3) };
  const aid = h('A0000005591010FFFFFFFF8900001000');

  it.each([0x01, 0x03, 0x11, 0x13, 0x33])('security level %i: data of 0..1000 bytes (extended Lc), error SWs left alone', (level) => {
    const host = new Scp03Host({ keys, kvn: 0x30 });
    const card = new Scp03Card({ keys, kvn: 0x30, sdAid: aid, sequenceCounter: 41 });
    host.processInitializeUpdateResponse(card.initializeUpdate(host.initializeUpdateCommand()));
    expect(card.sequenceCounter).toBe(42);
    card.externalAuthenticate(host.externalAuthenticateCommand(level));
    for (const size of [0, 1, 15, 16, 200, 300, 1000]) {
      const plain: CommandApdu = { cla: 0x80, ins: 0xe2, p1: 0x90, p2: 0, data: Buffer.alloc(size, size & 0xff), le: 256 };
      const received = card.unwrapCommand(decodeCommandApdu(encodeCommandApdu(host.wrapCommand(plain))));
      expect(received).toEqual(plain);
      const answer = { data: Buffer.alloc(size % 50, 7), sw: 0x9000 };
      expect(host.unwrapResponse(card.wrapResponse(answer))).toEqual(answer);
    }
    // Error status words carry neither R-MAC nor R-ENC (Amd D §6.2.5).
    card.unwrapCommand(host.wrapCommand({ cla: 0x80, ins: 0xe2, p1: 0x90, p2: 0, data: Buffer.alloc(3) }));
    const refusal = { data: Buffer.alloc(0), sw: 0x6a88 };
    expect(card.wrapResponse(refusal)).toEqual(refusal);
    expect(host.unwrapResponse(refusal)).toEqual(refusal);
    // A command lost on the way breaks the MAC chain: the next one is refused.
    host.wrapCommand({ cla: 0x80, ins: 0xca, p1: 0, p2: 0x66, data: Buffer.alloc(0) });
    const next = host.wrapCommand({ cla: 0x80, ins: 0xca, p1: 0, p2: 0x66, data: Buffer.alloc(0) });
    expect(() => card.unwrapCommand(next)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_MAC_MISMATCH' }));
  });

  it('scripting mode (Amd D §6.2.2.1): with the counter predicted, EXTERNAL AUTHENTICATE and commands go before the card answers', () => {
    const card = new Scp03Card({ keys, kvn: 0x30, sdAid: aid, sequenceCounter: 41 });
    const host = new Scp03Host({ keys, kvn: 0x30 });
    host.predictInitializeUpdate(42, aid); // the last counter seen + 1
    // All of it built before the card says anything: one script.
    const script = [host.initializeUpdateCommand(), host.externalAuthenticateCommand(0x33), host.wrapCommand({ cla: 0x80, ins: 0xca, p1: 0, p2: 0x66, data: Buffer.alloc(0) })];
    const initializeUpdate = card.initializeUpdate(script[0] as CommandApdu);
    card.externalAuthenticate(script[1] as CommandApdu);
    const plain = card.unwrapCommand(script[2] as CommandApdu);
    const answer = card.wrapResponse({ data: Buffer.from('6602', 'hex'), sw: 0x9000 });
    expect(host.confirmPredictedInitializeUpdate(initializeUpdate).sequenceCounter).toBe(42); // card cryptogram verified too
    expect(plain.ins).toBe(0xca);
    expect(host.unwrapResponse(answer)).toEqual({ data: Buffer.from('6602', 'hex'), sw: 0x9000 });
  });

  it('scripting mode with a wrong counter: the card refuses EXTERNAL AUTHENTICATE, the host learns the real counter', () => {
    const card = new Scp03Card({ keys, kvn: 0x30, sdAid: aid, sequenceCounter: 99 });
    const host = new Scp03Host({ keys, kvn: 0x30 });
    host.predictInitializeUpdate(42, aid);
    const initializeUpdate = card.initializeUpdate(host.initializeUpdateCommand());
    expect(() => card.externalAuthenticate(host.externalAuthenticateCommand(0x33))).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_CRYPTOGRAM_MISMATCH' }));
    expect(() => host.confirmPredictedInitializeUpdate(initializeUpdate)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_SCP03_COUNTER_MISMATCH', actual: 100 }));
    // A forged answer (another key set) does not verify at all: the card is authenticated by its cryptogram.
    const other = new Scp03Card({ keys: { ...keys, mac: Buffer.alloc(32, 9) }, kvn: 0x30, sdAid: aid, sequenceCounter: 41 });
    const forger = new Scp03Host({ keys, kvn: 0x30 });
    forger.predictInitializeUpdate(42, aid);
    expect(() => forger.confirmPredictedInitializeUpdate(other.initializeUpdate(forger.initializeUpdateCommand()))).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_CRYPTOGRAM_MISMATCH' }),
    );
  });

  it('a host with the wrong keys is refused', () => {
    const host = new Scp03Host({ keys: { ...keys, mac: Buffer.alloc(32, 9) }, kvn: 0x30 });
    const card = new Scp03Card({ keys, kvn: 0x30, sdAid: aid });
    const iu = card.initializeUpdate(host.initializeUpdateCommand());
    expect(() => host.processInitializeUpdateResponse(iu)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_CRYPTOGRAM_MISMATCH' }));
  });

  it('refuses commands before authentication and unknown KVNs', () => {
    const card = new Scp03Card({ keys, kvn: 0x30, sdAid: aid });
    expect(() => card.unwrapCommand({ cla: 0x84, ins: 0xe2, p1: 0, p2: 0, data: Buffer.alloc(8) })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_SECURE_CHANNEL_STATE' }),
    );
    const host = new Scp03Host({ keys, kvn: 0x31 });
    expect(() => card.initializeUpdate(host.initializeUpdateCommand())).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_INVALID_PARAMETER' }));
  });

  it('refuses a command sent without C-MAC when the level requires it', () => {
    const host = new Scp03Host({ keys, kvn: 0x30 });
    const card = new Scp03Card({ keys, kvn: 0x30, sdAid: aid });
    host.processInitializeUpdateResponse(card.initializeUpdate(host.initializeUpdateCommand()));
    card.externalAuthenticate(host.externalAuthenticateCommand(0x33));
    expect(() => card.unwrapCommand({ cla: 0x80, ins: 0xe2, p1: 0, p2: 0, data: Buffer.alloc(20) })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_MAC_MISMATCH' }),
    );
  });
});
