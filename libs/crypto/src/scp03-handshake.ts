/**
 * The SCP03 handshake data shared by APDU SCP03 (`scp03.ts`) and TLV SCP03t (`scp03t.ts`)
 * (GlobalPlatform Card Spec v2.3 Amendment D v1.1.x / v1.2, §6.2.2 and §7.1.1): the INITIALIZE UPDATE
 * response format, the card's answer and the off-card verification of it. S8 mode only.
 */
import { timingSafeEqual } from 'node:crypto';
import { randomBytesPooled } from './random';
import { CryptoError } from './errors';
import {
  checkStaticKeys,
  deriveScp03SessionKeys,
  scp03CardCryptogram,
  scp03Context,
  scp03HostCryptogram,
  scp03PseudoRandomCardChallenge,
  SCP03_CHALLENGE_LENGTH,
  type Scp03StaticKeys,
} from './scp03-kdf';
import { checkSecurityLevel, Scp03Session } from './scp03-session';
import { zeros } from './zeros';

/** SCP identifier in the INITIALIZE UPDATE response key information (Amd D §7.1.1.2). */
export const SCP03_ID = 0x03;
/** Default i parameter: pseudo-random card challenge, R-MAC and R-ENC supported, S8 mode (Amd D §5.1). */
export const SCP03_DEFAULT_I = 0x70;
const I_PSEUDO_RANDOM = 0x10;
const I_S16_MODE = 0x01;

/** INITIALIZE UPDATE response data, Amd D §7.1.1.2 Table 7-3. */
export interface InitializeUpdateResponse {
  /** Key diversification data (10 bytes). */
  diversificationData: Buffer;
  /** Key version number of the key set the card used. */
  kvn: number;
  scpId: number;
  /** The i parameter (b5 pseudo-random challenge, b6 R-MAC, b7 R-ENC, b1 S16). */
  i: number;
  cardChallenge: Buffer;
  cardCryptogram: Buffer;
  /** Present (3 bytes) only when the card challenge is pseudo-random. */
  sequenceCounter?: number;
}

/** Parses INITIALIZE UPDATE response data (29 or 32 bytes in S8 mode). */
export function parseInitializeUpdateResponse(data: Uint8Array): InitializeUpdateResponse {
  const buf = Buffer.from(data);
  if (buf.length !== 29 && buf.length !== 32) {
    throw new CryptoError.InvalidLength(`INITIALIZE UPDATE response of ${buf.length} bytes, expected 29 or 32 (S8)`);
  }
  const response: InitializeUpdateResponse = {
    diversificationData: buf.subarray(0, 10),
    kvn: buf[10] as number,
    scpId: buf[11] as number,
    i: buf[12] as number,
    cardChallenge: buf.subarray(13, 21),
    cardCryptogram: buf.subarray(21, 29),
  };
  if (response.scpId !== SCP03_ID) throw new CryptoError.InvalidParameter(`SCP ${response.scpId} is not SCP03`);
  if ((response.i & I_S16_MODE) !== 0) throw new CryptoError.InvalidParameter('S16 mode is not supported');
  if (buf.length === 32) response.sequenceCounter = buf.readUIntBE(29, 3);
  return response;
}

/** Encodes INITIALIZE UPDATE response data (Amd D Table 7-3). */
export function encodeInitializeUpdateResponse(r: InitializeUpdateResponse): Buffer {
  if (r.diversificationData.length !== 10) throw new CryptoError.InvalidLength('diversification data must be 10 bytes');
  const parts = [r.diversificationData, Buffer.of(r.kvn, r.scpId, r.i), r.cardChallenge, r.cardCryptogram];
  if (r.sequenceCounter !== undefined) {
    const counter = zeros(3);
    counter.writeUIntBE(r.sequenceCounter, 0, 3);
    parts.push(counter);
  }
  return Buffer.concat(parts);
}

/** Parameters the card needs to answer INITIALIZE UPDATE. */
export interface CardKeySetInfo {
  keys: Scp03StaticKeys;
  kvn: number;
  sdAid: Uint8Array;
  /** i parameter (b5: pseudo-random challenge). */
  i: number;
  diversificationData: Uint8Array;
}

/**
 * Card side of INITIALIZE UPDATE (Amd D §7.1.1, §6.2.2): card challenge (pseudo-random from the
 * already incremented `sequenceCounter`, or random), card cryptogram and response data. Shared by
 * {@link Scp03Card} and the SCP03t receiver.
 */
export function answerInitializeUpdate(
  info: CardKeySetInfo,
  sequenceCounter: number,
  hostChallenge: Uint8Array,
): { data: Buffer; context: Buffer } {
  const pseudoRandom = (info.i & I_PSEUDO_RANDOM) !== 0;
  const cardChallenge = pseudoRandom
    ? scp03PseudoRandomCardChallenge(info.keys.enc, sequenceCounter, info.sdAid)
    : randomBytesPooled(SCP03_CHALLENGE_LENGTH);
  const context = scp03Context(hostChallenge, cardChallenge);
  const sMac = deriveScp03SessionKeys(info.keys, context).sMac;
  const data = encodeInitializeUpdateResponse({
    diversificationData: Buffer.from(info.diversificationData),
    kvn: info.kvn,
    scpId: SCP03_ID,
    i: info.i,
    cardChallenge,
    cardCryptogram: scp03CardCryptogram(sMac, context),
    ...(pseudoRandom ? { sequenceCounter } : {}),
  });
  return { data, context };
}

/**
 * Off-card side: parses the INITIALIZE UPDATE response, checks the KVN and verifies the card
 * cryptogram (Amd D §6.2.2.2). Returns the derivation context for the session keys.
 */
export function verifyInitializeUpdateResponse(
  keys: Scp03StaticKeys,
  hostChallenge: Uint8Array,
  requestedKvn: number,
  data: Uint8Array,
): { parsed: InitializeUpdateResponse; context: Buffer } {
  const parsed = parseInitializeUpdateResponse(data);
  if (requestedKvn !== 0 && parsed.kvn !== requestedKvn) {
    throw new CryptoError.InvalidParameter(`card answered with KVN ${parsed.kvn}, ${requestedKvn} was requested`);
  }
  const context = scp03Context(hostChallenge, parsed.cardChallenge);
  const sMac = deriveScp03SessionKeys(keys, context).sMac;
  if (!timingSafeEqual(scp03CardCryptogram(sMac, context), parsed.cardCryptogram)) {
    throw new CryptoError.CryptogramMismatch('card cryptogram does not verify');
  }
  return { parsed, context };
}

/** A session an off-card entity opened before the card answered (scripting mode, Amd D §6.2.2.1). */
export interface PredictedSession {
  sequenceCounter: number;
  cardChallenge: Buffer;
  /** Derivation context: host challenge ‖ the predicted card challenge. */
  context: Buffer;
}

/** The card challenge a card with a pseudo-random challenge (i b5) derives from `sequenceCounter`. */
export function predictSession(keys: Scp03StaticKeys, hostChallenge: Uint8Array, sequenceCounter: number, sdAid: Uint8Array): PredictedSession {
  const cardChallenge = scp03PseudoRandomCardChallenge(keys.enc, sequenceCounter, sdAid);
  return { sequenceCounter, cardChallenge, context: scp03Context(hostChallenge, cardChallenge) };
}

/**
 * The card's INITIALIZE UPDATE answer to a predicted session: its cryptogram must verify (card
 * authentication, Amd D §6.2.2.2), then its counter and challenge must be the predicted ones
 * (CryptoError.CounterMismatch, carrying the card's counter, so the caller can start over).
 */
export function confirmPredictedSession(
  keys: Scp03StaticKeys,
  hostChallenge: Uint8Array,
  requestedKvn: number,
  data: Uint8Array,
  predicted: PredictedSession,
  what = 'card',
): InitializeUpdateResponse {
  const { parsed } = verifyInitializeUpdateResponse(keys, hostChallenge, requestedKvn, data);
  if (parsed.sequenceCounter !== predicted.sequenceCounter || !parsed.cardChallenge.equals(predicted.cardChallenge)) {
    throw new CryptoError.CounterMismatch(
      `the ${what} used sequence counter ${parsed.sequenceCounter ?? 'none'}, ${predicted.sequenceCounter} was predicted`,
      parsed.sequenceCounter,
    );
  }
  return parsed;
}

/** Card side: checks the host cryptogram (Amd D §6.2.2.3) in constant time. */
export function verifyHostCryptogram(sMac: Uint8Array, context: Uint8Array, hostCryptogram: Uint8Array): void {
  const expected = scp03HostCryptogram(sMac, context);
  if (hostCryptogram.length !== expected.length || !timingSafeEqual(expected, hostCryptogram)) {
    throw new CryptoError.CryptogramMismatch('host cryptogram does not verify');
  }
}

/** Options of the card side. */
export interface Scp03CardOptions {
  keys: Scp03StaticKeys;
  /** Key version number of the key set (answered in the key information). */
  kvn: number;
  /** AID of the security domain, context of the pseudo-random card challenge (Amd D §6.2.2.1). */
  sdAid: Uint8Array;
  /** Sequence counter value before the next INITIALIZE UPDATE (persist it between sessions). */
  sequenceCounter?: number;
  /** Key diversification data (10 bytes, default zeros). */
  diversificationData?: Uint8Array;
  /** i parameter; default 0x70. Without b5 the card challenge is random. */
  i?: number;
}

/** Validates card options into the immutable key set description (shared with the SCP03t receiver). */
export function cardKeySetInfo(options: Scp03CardOptions): CardKeySetInfo {
  checkStaticKeys(options.keys);
  const i = options.i ?? SCP03_DEFAULT_I;
  if ((i & I_S16_MODE) !== 0) throw new CryptoError.InvalidParameter('S16 mode is not supported');
  const diversificationData = Buffer.from(options.diversificationData ?? Buffer.alloc(10));
  if (diversificationData.length !== 10) throw new CryptoError.InvalidLength('diversification data must be 10 bytes');
  return { keys: options.keys, kvn: options.kvn, sdAid: Buffer.from(options.sdAid), i, diversificationData };
}

/**
 * The card half of the SCP03 handshake, shared by the APDU channel ({@link Scp03Card}) and the TLV
 * channel of SCP03t ({@link Scp03tReceiver}); only the framing around it differs.
 * INITIALIZE UPDATE (Amd D §7.1.1) → EXTERNAL AUTHENTICATE (§7.1.2) → an open {@link Scp03Session}.
 */
export class Scp03CardHandshake {
  readonly info: CardKeySetInfo;
  private counter: number;
  /** Derivation context between INITIALIZE UPDATE and EXTERNAL AUTHENTICATE. */
  private context: Buffer | undefined;

  constructor(options: Scp03CardOptions) {
    this.info = cardKeySetInfo(options);
    this.counter = options.sequenceCounter ?? 0;
  }

  /** The sequence counter to persist (incremented by each INITIALIZE UPDATE). */
  get sequenceCounter(): number {
    return this.counter;
  }

  /** Forgets a pending handshake (any failure, or a new INITIALIZE UPDATE, starts over). */
  reset(): void {
    this.context = undefined;
  }

  /** Answers INITIALIZE UPDATE: a challenge from a fresh counter value, the key information and the card cryptogram. */
  initializeUpdate(kvn: number, hostChallenge: Uint8Array): Buffer {
    this.context = undefined;
    if (kvn !== 0 && kvn !== this.info.kvn) throw new CryptoError.InvalidParameter(`unknown KVN ${kvn}`);
    if (hostChallenge.length !== SCP03_CHALLENGE_LENGTH) throw new CryptoError.InvalidLength('host challenge must be 8 bytes');
    if (this.counter >= 0xffffff) throw new CryptoError.SecureChannelState('sequence counter exhausted');
    this.counter += 1; // each challenge comes from a fresh counter value, so none is ever reused
    const { data, context } = answerInitializeUpdate(this.info, this.counter, hostChallenge);
    this.context = context;
    return data;
  }

  /**
   * Checks EXTERNAL AUTHENTICATE: the host cryptogram (§6.2.2.3), then the C-MAC over `macPrefix ‖
   * macInput` that starts the MAC chain. Returns the open session; the handshake is consumed either way.
   */
  externalAuthenticate(
    securityLevel: number,
    hostCryptogram: Uint8Array,
    macPrefix: Uint8Array,
    macInput: Uint8Array,
    mac: Uint8Array,
  ): Scp03Session {
    const context = this.context;
    this.context = undefined;
    if (!context) throw new CryptoError.SecureChannelState('EXTERNAL AUTHENTICATE without INITIALIZE UPDATE');
    checkSecurityLevel(securityLevel);
    const sessionKeys = deriveScp03SessionKeys(this.info.keys, context);
    verifyHostCryptogram(sessionKeys.sMac, context, hostCryptogram);
    const session = new Scp03Session(sessionKeys, securityLevel);
    session.verifyCmac(macPrefix, macInput, mac);
    return session;
  }
}
