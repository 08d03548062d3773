/**
 * SCP03t: SCP03 carried in TLVs instead of APDUs, protecting the ES8 profile download from the SM-DP to
 * the ISD-P (SGP.02 v3.x/v4.x §2.5.x "SCP03t" and §4.1.3.3, as cited by njiwa `SDCommand.SCP03tCommand`;
 * SGP.22 v2.x §2.5.3 reuses it for '86' segments). Apart from the framing, "the security mechanisms are
 * exactly the same as SCP03" (SGP.02 §4.1.3.3), so this module reuses the GP Amd D core in
 * `scp03-session.ts` and the handshake in `scp03-handshake.ts`.
 *
 * Command / response TLVs implemented (tags as in SGP.02 §2.5; see SPEC-NOTES "SCP03t download"):
 *  - '84' InitializeUpdate: KVN ‖ KeyID ‖ host challenge (8) → response '84' with the INITIALIZE UPDATE
 *    response data (Amd D Table 7-3);
 *  - '85' ExternalAuthenticate: security level ‖ host cryptogram (8) ‖ C-MAC (8) → response '85 00';
 *  - '86' data segment: AES-CBC(pad80(plaintext)) ‖ C-MAC (8) → response '86' with R-ENC(data) ‖ R-MAC (8),
 *    or '86 00' (no R-MAC) when there is no response data (SGP.02 §2.5);
 *  - error: '9F' ‖ (command tag & 7F), value 1 byte reason — [U] the exact SGP.02 error tag and codes.
 *
 * C-MAC = first 8 bytes of CMAC(S-MAC, MCV ‖ tag ‖ BER length(data + 8) ‖ data), the full CMAC being the
 * next MCV (SGP.02 Figure "TLV Command Data Field Encryption" / Amd D §6.2.4); ICV from the encryption
 * counter (Amd D §6.2.6; SGP.22 §2.5.4: "the encryption counter for ICV calculation is incremented each
 * time a TLV with tag '86' … is received"). R-MAC input mirrors the command: MCV ‖ tag ‖ length ‖ data [U].
 */
import { randomBytesPooled } from './random';
import { isRspError, type RspError } from '@rsp/errors';
import { decodeSingleTlv, encodeLength, encodeTlv } from '@rsp/tlv';
import { CryptoError } from './errors';
import { deriveScp03SessionKeys, scp03HostCryptogram, SCP03_CHALLENGE_LENGTH, checkStaticKeys, type Scp03StaticKeys } from './scp03-kdf';
import {
  confirmPredictedSession,
  predictSession,
  Scp03CardHandshake,
  type PredictedSession,
  verifyInitializeUpdateResponse,
  type InitializeUpdateResponse,
  type Scp03CardOptions,
} from './scp03-handshake';
import { checkSecurityLevel, Scp03SecurityLevel, Scp03Session, SCP03_MAC_LENGTH } from './scp03-session';

/** SCP03t TLV tags (SGP.02 §2.5 / §4.1.3.3). */
export const Scp03tTag = {
  INITIALIZE_UPDATE: 0x84,
  EXTERNAL_AUTHENTICATE: 0x85,
  DATA_SEGMENT: 0x86,
} as const;

/**
 * Error reasons carried in the error TLV. [U] SGP.02's own codes were not found; these reuse the SGP.22
 * ErrorReason values scp03tStructureError (7) and scp03tSecurityError (8).
 */
export const Scp03tErrorReason = {
  STRUCTURE: 0x07,
  SECURITY: 0x08,
} as const;

/** Error TLV tag for a command tag: '9F' ‖ (tag & 7F), e.g. '9F06' for a refused '86' segment [U]. */
export function scp03tErrorTag(commandTag: number): number {
  return 0x9f00 | (commandTag & 0x7f);
}

/**
 * Largest SCP03t TLV (tag ‖ length ‖ data ‖ MAC). SGP.22 §2.5.3: 1020 bytes "including the tag, length
 * field and MAC", i.e. 1007 plaintext bytes; it also stays under SGP.02's 1024-byte segment limit [U].
 */
export const SCP03T_MAX_SEGMENT_BYTES = 1020;

/** SGP.02 requires C-MAC and C-DECRYPTION on ES8 (njiwa sends 0x33); R-MAC / R-ENC are optional here. */
const REQUIRED_LEVEL = Scp03SecurityLevel.C_MAC | Scp03SecurityLevel.C_DECRYPTION;

/** Tag ‖ BER length of a protected TLV value of `dataLength + 8` bytes: the MAC input prefix. */
function tlvMacPrefix(tag: number, valueLength: number): Buffer {
  return Buffer.concat([Buffer.of(tag), encodeLength(valueLength)]);
}

/** Largest plaintext whose protected '86' TLV fits in `maxSegmentBytes`. */
export function scp03tMaxPlaintext(maxSegmentBytes: number): number {
  for (let cipherLength = Math.floor(maxSegmentBytes / 16) * 16; cipherLength >= 16; cipherLength -= 16) {
    const value = cipherLength + SCP03_MAC_LENGTH;
    if (1 + encodeLength(value).length + value <= maxSegmentBytes) return cipherLength - 1; // pad80 adds ≥ 1
  }
  throw new CryptoError.InvalidParameter(`segment limit ${maxSegmentBytes} leaves no room for data`);
}

interface CommandContext {
  counter: bigint;
  mcv: Buffer;
}

/** Options of the SM-DP (off-card) side. */
export interface Scp03tSenderOptions {
  keys: Scp03StaticKeys;
  kvn?: number;
  keyId?: number;
  hostChallenge?: Uint8Array;
  /** Default 0x33 (C-MAC, C-DEC, R-MAC, R-ENC); must include C-MAC and C-DEC. */
  securityLevel?: number;
  /** Largest TLV per segment, default {@link SCP03T_MAX_SEGMENT_BYTES}. */
  maxSegmentBytes?: number;
}

/** The SM-DP side: builds '84', '85' and '86' TLVs and checks the ISD-P's response TLVs in order. */
export class Scp03tSender {
  private readonly keys: Scp03StaticKeys;
  private readonly kvn: number;
  private readonly keyId: number;
  private readonly securityLevel: number;
  readonly hostChallenge: Buffer;
  /** Plaintext bytes per '86' segment. */
  readonly maxPlaintextPerSegment: number;
  private context?: Buffer;
  private predicted?: PredictedSession;
  private session?: Scp03Session;
  /** Commands sent and not yet answered, oldest first (responses come back in order). */
  private readonly pending: CommandContext[] = [];

  constructor(options: Scp03tSenderOptions) {
    checkStaticKeys(options.keys);
    this.keys = options.keys;
    this.kvn = options.kvn ?? 0;
    this.keyId = options.keyId ?? 0;
    this.securityLevel = options.securityLevel ?? 0x33;
    checkSecurityLevel(this.securityLevel);
    if ((this.securityLevel & REQUIRED_LEVEL) !== REQUIRED_LEVEL) {
      throw new CryptoError.InvalidParameter('SCP03t needs C-MAC and C-DECRYPTION');
    }
    this.hostChallenge = Buffer.from(options.hostChallenge ?? randomBytesPooled(SCP03_CHALLENGE_LENGTH));
    if (this.hostChallenge.length !== SCP03_CHALLENGE_LENGTH) throw new CryptoError.InvalidLength('host challenge must be 8 bytes');
    this.maxPlaintextPerSegment = scp03tMaxPlaintext(options.maxSegmentBytes ?? SCP03T_MAX_SEGMENT_BYTES);
  }

  /** '84' KVN ‖ KeyID ‖ host challenge. */
  initializeUpdateCommand(): Buffer {
    return encodeTlv(Scp03tTag.INITIALIZE_UPDATE, Buffer.of(this.kvn, this.keyId), this.hostChallenge);
  }

  /** Checks the '84' response and the card cryptogram. */
  processInitializeUpdateResponse(responseTlv: Uint8Array): InitializeUpdateResponse {
    const value = expectResponse(responseTlv, Scp03tTag.INITIALIZE_UPDATE);
    const { parsed, context } = verifyInitializeUpdateResponse(this.keys, this.hostChallenge, this.kvn, value);
    this.context = context;
    return parsed;
  }

  /**
   * Scripting mode (GP Amd D §6.2.2.1), as the SM-SR's ES5 sessions use it (scp03.ts): the ISD-P answers
   * i = 70, a pseudo-random card challenge derived from its SCP03t sequence counter, so an SM-DP that knows
   * the counter the card will use knows the challenge, the session keys and the host cryptogram before the
   * card answers, and can send '84', '85' and the '86' segments in ONE script. Nothing is weakened: the
   * card still checks the host cryptogram and every C-MAC, the segments are readable only under keys from
   * the key set the card proved in EstablishISDPKeySet (its receipt), and
   * {@link confirmPredictedInitializeUpdate} checks the card cryptogram and counter before any response
   * is trusted.
   */
  predictInitializeUpdate(sequenceCounter: number, sdAid: Uint8Array): void {
    this.predicted = predictSession(this.keys, this.hostChallenge, sequenceCounter, sdAid);
    this.context = this.predicted.context;
  }

  /**
   * The card's '84' answer to a predicted session: its cryptogram must verify (card authentication, Amd D
   * §6.2.2.2), then its counter and challenge must be the predicted ones (CryptoError.CounterMismatch,
   * carrying the card's counter: the caller can start an interactive session instead).
   */
  confirmPredictedInitializeUpdate(responseTlv: Uint8Array): InitializeUpdateResponse {
    if (!this.predicted) throw new CryptoError.SecureChannelState('no predicted InitializeUpdate');
    const value = expectResponse(responseTlv, Scp03tTag.INITIALIZE_UPDATE);
    return confirmPredictedSession(this.keys, this.hostChallenge, this.kvn, value, this.predicted, 'ISD-P (SCP03t)');
  }

  /** '85' security level ‖ host cryptogram ‖ C-MAC, starting the MAC chain from 16 × 00. */
  externalAuthenticateCommand(): Buffer {
    if (!this.context) throw new CryptoError.SecureChannelState('InitializeUpdate response not processed yet');
    const sessionKeys = deriveScp03SessionKeys(this.keys, this.context);
    const session = new Scp03Session(sessionKeys, this.securityLevel);
    const data = Buffer.concat([Buffer.of(this.securityLevel), scp03HostCryptogram(sessionKeys.sMac, this.context)]);
    const mac = session.generateCmac(tlvMacPrefix(Scp03tTag.EXTERNAL_AUTHENTICATE, data.length + SCP03_MAC_LENGTH), data);
    this.session = session;
    return encodeTlv(Scp03tTag.EXTERNAL_AUTHENTICATE, data, mac);
  }

  /** Checks the '85' response (empty on success). */
  processExternalAuthenticateResponse(responseTlv: Uint8Array): void {
    expectResponse(responseTlv, Scp03tTag.EXTERNAL_AUTHENTICATE);
  }

  /** One protected '86' TLV for `plaintext` (at most {@link maxPlaintextPerSegment} bytes). */
  wrapSegment(plaintext: Uint8Array): Buffer {
    const session = this.openSession();
    if (plaintext.length === 0 || plaintext.length > this.maxPlaintextPerSegment) {
      throw new CryptoError.InvalidLength(`segment of ${plaintext.length} bytes, allowed 1..${this.maxPlaintextPerSegment}`);
    }
    const counter = session.nextCommandCounter();
    const cipherText = session.encryptCommandData(plaintext, counter);
    const mac = session.generateCmac(tlvMacPrefix(Scp03tTag.DATA_SEGMENT, cipherText.length + SCP03_MAC_LENGTH), cipherText);
    this.pending.push({ counter, mcv: session.macChainingValue });
    return encodeTlv(Scp03tTag.DATA_SEGMENT, cipherText, mac);
  }

  /** Splits the profile package into '86' segments, in order (SGP.02 §2.5: one transparent data block). */
  wrapSegments(profilePackage: Uint8Array): Buffer[] {
    if (profilePackage.length === 0) throw new CryptoError.InvalidLength('empty profile package');
    const segments: Buffer[] = [];
    for (let offset = 0; offset < profilePackage.length; offset += this.maxPlaintextPerSegment) {
      segments.push(this.wrapSegment(profilePackage.subarray(offset, offset + this.maxPlaintextPerSegment)));
    }
    return segments;
  }

  /** Checks the response to the oldest unanswered segment; returns its (decrypted) data, maybe empty. */
  unwrapResponse(responseTlv: Uint8Array): Buffer {
    const session = this.openSession();
    const command = this.pending.shift();
    if (!command) throw new CryptoError.SecureChannelState('no segment awaits a response');
    const value = expectResponse(responseTlv, Scp03tTag.DATA_SEGMENT);
    if (value.length === 0 || !session.hasLevel(Scp03SecurityLevel.R_MAC)) return Buffer.from(value);
    if (value.length < SCP03_MAC_LENGTH) throw new CryptoError.MacMismatch('response too short for an R-MAC');
    const body = value.subarray(0, value.length - SCP03_MAC_LENGTH);
    const prefix = tlvMacPrefix(Scp03tTag.DATA_SEGMENT, value.length);
    session.verifyRmac(command.mcv, Buffer.concat([prefix, body]), value.subarray(value.length - SCP03_MAC_LENGTH));
    return session.hasLevel(Scp03SecurityLevel.R_ENCRYPTION) && body.length > 0
      ? session.decryptResponseData(body, command.counter)
      : Buffer.from(body);
  }

  private openSession(): Scp03Session {
    if (!this.session) throw new CryptoError.SecureChannelState('ExternalAuthenticate not sent yet');
    return this.session;
  }
}

/** Outcome of one received SCP03t command TLV. `response` is the TLV to send back. */
export type Scp03tReceipt =
  | { kind: 'initialized'; response: Buffer }
  | { kind: 'authenticated'; response: Buffer }
  /** A verified, decrypted segment; `response` is the empty acknowledgement '86 00' (see respond()). */
  | { kind: 'segment'; data: Buffer; response: Buffer }
  | { kind: 'refused'; error: RspError; response: Buffer };

type ReceiverState = { phase: 'handshake' } | { phase: 'open'; session: Scp03Session; last?: CommandContext };

/**
 * The ISD-P side. {@link receive} never throws on bad input: it answers an error TLV and closes the
 * session (a new '84' starts over). Replayed, dropped or reordered segments fail the C-MAC chain.
 */
export class Scp03tReceiver {
  private readonly handshake: Scp03CardHandshake;
  private state: ReceiverState = { phase: 'handshake' };

  constructor(options: Scp03CardOptions) {
    this.handshake = new Scp03CardHandshake(options);
  }

  /** The sequence counter to persist. */
  get sequenceCounter(): number {
    return this.handshake.sequenceCounter;
  }

  /** Processes one command TLV. */
  receive(commandTlv: Uint8Array): Scp03tReceipt {
    let tag = Scp03tTag.DATA_SEGMENT as number;
    try {
      const tlv = decodeSingleTlv(commandTlv);
      tag = tlv.tag;
      const prefix = tlv.raw.subarray(0, tlv.raw.length - tlv.value.length); // MAC over the bytes received
      switch (tlv.tag) {
        case Scp03tTag.INITIALIZE_UPDATE:
          return { kind: 'initialized', response: this.initializeUpdate(tlv.value) };
        case Scp03tTag.EXTERNAL_AUTHENTICATE:
          return { kind: 'authenticated', response: this.externalAuthenticate(prefix, tlv.value) };
        case Scp03tTag.DATA_SEGMENT:
          return { kind: 'segment', data: this.segment(prefix, tlv.value), response: this.respond() };
        default:
          throw new CryptoError.InvalidParameter(`unknown SCP03t tag ${tlv.tag.toString(16)}`);
      }
    } catch (e) {
      if (this.state.phase === 'open') this.state.session.close();
      this.state = { phase: 'handshake' };
      this.handshake.reset();
      const error = isRspError(e) ? e : new CryptoError.InvalidParameter('SCP03t command refused', { cause: e });
      const securityCodes = ['ERR_CRYPTO_MAC_MISMATCH', 'ERR_CRYPTO_CRYPTOGRAM_MISMATCH', 'ERR_CRYPTO_PADDING'];
      const reason = securityCodes.includes(error.code) ? Scp03tErrorReason.SECURITY : Scp03tErrorReason.STRUCTURE;
      const errorTag = tag > 0 && tag <= 0xff ? tag : Scp03tTag.DATA_SEGMENT;
      return { kind: 'refused', error, response: encodeTlv(scp03tErrorTag(errorTag), Buffer.of(reason)) };
    }
  }

  /** The '86' response to the last segment: R-ENC(data) ‖ R-MAC, or '86 00' when there is no data. */
  respond(data: Uint8Array = Buffer.alloc(0)): Buffer {
    const state = this.state;
    if (state.phase !== 'open' || state.session.isClosed || !state.last) {
      throw new CryptoError.SecureChannelState('no received segment to answer');
    }
    const session = state.session;
    if (data.length === 0 || !session.hasLevel(Scp03SecurityLevel.R_MAC)) return encodeTlv(Scp03tTag.DATA_SEGMENT, data);
    const body = session.hasLevel(Scp03SecurityLevel.R_ENCRYPTION)
      ? session.encryptResponseData(data, state.last.counter)
      : Buffer.from(data);
    const prefix = tlvMacPrefix(Scp03tTag.DATA_SEGMENT, body.length + SCP03_MAC_LENGTH);
    return encodeTlv(Scp03tTag.DATA_SEGMENT, body, session.computeRmac(state.last.mcv, Buffer.concat([prefix, body])));
  }

  private initializeUpdate(value: Buffer): Buffer {
    this.state = { phase: 'handshake' };
    if (value.length !== 2 + SCP03_CHALLENGE_LENGTH) throw new CryptoError.InvalidLength('InitializeUpdate TLV must be 10 bytes');
    return encodeTlv(Scp03tTag.INITIALIZE_UPDATE, this.handshake.initializeUpdate(value[0] as number, value.subarray(2)));
  }

  private externalAuthenticate(prefix: Buffer, value: Buffer): Buffer {
    this.state = { phase: 'handshake' };
    if (value.length !== 1 + SCP03_CHALLENGE_LENGTH + SCP03_MAC_LENGTH) {
      throw new CryptoError.InvalidLength('ExternalAuthenticate TLV must be 17 bytes');
    }
    const level = value[0] as number;
    if ((level & REQUIRED_LEVEL) !== REQUIRED_LEVEL) throw new CryptoError.InvalidParameter('SCP03t needs C-MAC and C-DECRYPTION');
    const macAt = value.length - SCP03_MAC_LENGTH;
    const hostCryptogram = value.subarray(1, 1 + SCP03_CHALLENGE_LENGTH);
    const session = this.handshake.externalAuthenticate(level, hostCryptogram, prefix, value.subarray(0, macAt), value.subarray(macAt));
    this.state = { phase: 'open', session };
    return encodeTlv(Scp03tTag.EXTERNAL_AUTHENTICATE, Buffer.alloc(0));
  }

  /** Verifies the C-MAC first, then decrypts (no padding oracle), Amd D §6.2.4 / §6.2.6. */
  private segment(prefix: Buffer, value: Buffer): Buffer {
    const state = this.state;
    if (state.phase !== 'open' || state.session.isClosed) throw new CryptoError.SecureChannelState('no open SCP03t session');
    const session = state.session;
    const counter = session.nextCommandCounter();
    if (value.length < 16 + SCP03_MAC_LENGTH) throw new CryptoError.MacMismatch('segment too short for data and C-MAC');
    const macAt = value.length - SCP03_MAC_LENGTH;
    session.verifyCmac(prefix, value.subarray(0, macAt), value.subarray(macAt));
    const data = session.decryptCommandData(value.subarray(0, macAt), counter);
    state.last = { counter, mcv: session.macChainingValue };
    return data;
  }
}

/** Decodes a response TLV, turning an error TLV into a typed error. */
function expectResponse(responseTlv: Uint8Array, tag: number): Buffer {
  const tlv = decodeSingleTlv(responseTlv);
  if (tlv.tag === scp03tErrorTag(tag)) {
    const reason = tlv.value[0];
    if (reason === Scp03tErrorReason.SECURITY) throw new CryptoError.MacMismatch(`card refused TLV ${tag.toString(16)}: security error`);
    throw new CryptoError.InvalidParameter(`card refused TLV ${tag.toString(16)}: reason ${reason ?? 'none'}`);
  }
  if (tlv.tag !== tag) throw new CryptoError.InvalidParameter(`expected response tag ${tag.toString(16)}, got ${tlv.tag.toString(16)}`);
  return tlv.value;
}
