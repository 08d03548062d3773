/**
 * SCP03 over APDUs (GlobalPlatform Card Spec v2.3 Amendment D v1.1.x / v1.2) for both ends:
 *  - {@link Scp03Host}: the off-card entity (SM-DP / SM-SR) — INITIALIZE UPDATE, EXTERNAL AUTHENTICATE,
 *    then C-MAC / C-DECRYPTION of commands and R-MAC / R-ENCRYPTION checks of responses;
 *  - {@link Scp03Card}: the card (virtual eUICC security domain) — the mirror image.
 * Key derivation lives in `scp03-kdf.ts`, the handshake data in `scp03-handshake.ts`, the secure
 * messaging core in `scp03-session.ts`.
 * Only S8 mode (8-byte challenges and MACs, i parameter b1 = 0) is supported.
 */
import { randomBytesPooled } from './random';
import type { CommandApdu, ResponseApdu } from '@rsp/tlv';
import { CryptoError } from './errors';
import {
  checkStaticKeys,
  deriveScp03SessionKeys,
  scp03HostCryptogram,
  SCP03_CHALLENGE_LENGTH,
  type Scp03StaticKeys,
} from './scp03-kdf';
import { checkSecurityLevel, Scp03SecurityLevel, Scp03Session, SCP03_MAC_LENGTH, swIsProtected } from './scp03-session';
import {
  confirmPredictedSession,
  predictSession,
  Scp03CardHandshake,
  verifyInitializeUpdateResponse,
  type PredictedSession,
  type InitializeUpdateResponse,
  type Scp03CardOptions,
} from './scp03-handshake';

const INS_INITIALIZE_UPDATE = 0x50;
const INS_EXTERNAL_AUTHENTICATE = 0x82;
const CLA_SECURE_MESSAGING = 0x04;
const SW_OK = 0x9000;

/** MAC input prefix for an APDU: CLA' INS P1 P2 Lc' where Lc' counts the MAC (Amd D §6.2.4). */
function apduMacPrefix(cla: number, ins: number, p1: number, p2: number, lcWithMac: number): Buffer {
  const lc = lcWithMac <= 255 ? Buffer.of(lcWithMac) : Buffer.of(0, lcWithMac >> 8, lcWithMac & 0xff);
  return Buffer.concat([Buffer.of(cla | CLA_SECURE_MESSAGING, ins, p1, p2), lc]);
}

/** What a response check needs about the command it answers. */
interface CommandContext {
  counter: bigint;
  mcv: Buffer;
}

/** Options of the off-card entity. */
export interface Scp03HostOptions {
  keys: Scp03StaticKeys;
  /** Key version number (P1 of INITIALIZE UPDATE); 0 lets the card choose. */
  kvn?: number;
  /** Key identifier (P2 of INITIALIZE UPDATE), normally 0. */
  keyId?: number;
  /** 8-byte host challenge; random when omitted (tests pass fixed vectors). */
  hostChallenge?: Uint8Array;
}

/** The off-card entity of SCP03. Use in order: initializeUpdate → process → externalAuthenticate → wrap/unwrap. */
export class Scp03Host {
  private readonly keys: Scp03StaticKeys;
  private readonly kvn: number;
  private readonly keyId: number;
  readonly hostChallenge: Buffer;
  private cardResponse?: InitializeUpdateResponse;
  private predicted?: PredictedSession;
  private context?: Buffer;
  private session?: Scp03Session;
  /**
   * Wrapped commands whose responses are not unwrapped yet, oldest first: an ES5 script carries several
   * wrapped C-APDUs before any R-APDU comes back, and each R-MAC is over the MAC chaining value of its
   * own command (Amd D §6.2.5), so responses are unwrapped in command order.
   */
  private readonly pendingCommands: CommandContext[] = [];

  constructor(options: Scp03HostOptions) {
    checkStaticKeys(options.keys);
    this.keys = options.keys;
    this.kvn = options.kvn ?? 0;
    this.keyId = options.keyId ?? 0;
    this.hostChallenge = Buffer.from(options.hostChallenge ?? randomBytesPooled(SCP03_CHALLENGE_LENGTH));
    if (this.hostChallenge.length !== SCP03_CHALLENGE_LENGTH) {
      throw new CryptoError.InvalidLength('host challenge must be 8 bytes');
    }
  }

  /** INITIALIZE UPDATE: 80 50 KVN KeyID 08 host-challenge 00 (Amd D §7.1.1). */
  initializeUpdateCommand(): CommandApdu {
    return { cla: 0x80, ins: INS_INITIALIZE_UPDATE, p1: this.kvn, p2: this.keyId, data: this.hostChallenge, le: 256 };
  }

  /** Parses the response, derives the session keys and verifies the card cryptogram (Amd D §6.2.2.2). */
  processInitializeUpdateResponse(response: ResponseApdu): InitializeUpdateResponse {
    if (response.sw !== SW_OK) {
      throw new CryptoError.InvalidParameter(`INITIALIZE UPDATE refused with SW ${response.sw.toString(16)}`);
    }
    const { parsed, context } = verifyInitializeUpdateResponse(this.keys, this.hostChallenge, this.kvn, response.data);
    this.cardResponse = parsed;
    this.context = context;
    return parsed;
  }

  /**
   * Scripting mode (Amd D §6.2.2.1): a card whose i parameter asks for a pseudo-random card challenge
   * derives it from its sequence counter, so an off-card entity that knows the counter the card will use
   * (the last one it saw + 1) knows the challenge, the session keys and the host cryptogram before the card
   * answers, and can send INITIALIZE UPDATE, EXTERNAL AUTHENTICATE and the wrapped commands in ONE script.
   * Nothing is weakened: the card still checks the host cryptogram and every C-MAC, and
   * {@link confirmPredictedInitializeUpdate} checks the card's cryptogram before any response is trusted.
   */
  predictInitializeUpdate(sequenceCounter: number, sdAid: Uint8Array): void {
    this.predicted = predictSession(this.keys, this.hostChallenge, sequenceCounter, sdAid);
    this.context = this.predicted.context;
    this.cardResponse = undefined;
  }

  /**
   * The card's real INITIALIZE UPDATE answer to a predicted session: its cryptogram must verify (card
   * authentication, Amd D §6.2.2.2) and its counter must be the predicted one. On a wrong prediction the
   * error carries the card's counter, so the caller can predict again (CryptoError.CounterMismatch).
   */
  confirmPredictedInitializeUpdate(response: ResponseApdu): InitializeUpdateResponse {
    if (!this.predicted) throw new CryptoError.SecureChannelState('no predicted INITIALIZE UPDATE');
    if (response.sw !== SW_OK) throw new CryptoError.InvalidParameter(`INITIALIZE UPDATE refused with SW ${response.sw.toString(16)}`);
    const parsed = confirmPredictedSession(this.keys, this.hostChallenge, this.kvn, response.data, this.predicted);
    this.cardResponse = parsed;
    return parsed;
  }

  /** EXTERNAL AUTHENTICATE: 84 82 level 00 10 host-cryptogram ‖ C-MAC, the MAC starting the chain (Amd D §7.1.2). */
  externalAuthenticateCommand(securityLevel: number): CommandApdu {
    if (!this.context || (!this.cardResponse && !this.predicted)) {
      throw new CryptoError.SecureChannelState('INITIALIZE UPDATE response not processed yet');
    }
    checkSecurityLevel(securityLevel);
    const sessionKeys = deriveScp03SessionKeys(this.keys, this.context);
    const session = new Scp03Session(sessionKeys, securityLevel);
    const hostCryptogram = scp03HostCryptogram(sessionKeys.sMac, this.context);
    const mac = session.generateCmac(
      apduMacPrefix(0x84, INS_EXTERNAL_AUTHENTICATE, securityLevel, 0x00, hostCryptogram.length + SCP03_MAC_LENGTH),
      hostCryptogram,
    );
    this.session = session;
    return {
      cla: 0x84,
      ins: INS_EXTERNAL_AUTHENTICATE,
      p1: securityLevel,
      p2: 0x00,
      data: Buffer.concat([hostCryptogram, mac]),
    };
  }

  /** Checks the EXTERNAL AUTHENTICATE status word; the session is usable afterwards. */
  processExternalAuthenticateResponse(response: ResponseApdu): void {
    if (response.sw !== SW_OK) {
      this.session?.close();
      throw new CryptoError.CryptogramMismatch(`EXTERNAL AUTHENTICATE refused with SW ${response.sw.toString(16)}`);
    }
  }

  /** Protects one command according to the security level (C-DECRYPTION then C-MAC, Amd D §6.2.6 / §6.2.4). */
  wrapCommand(command: CommandApdu): CommandApdu {
    const session = this.openSession();
    if (!session.hasLevel(Scp03SecurityLevel.C_MAC)) return command;
    const counter = session.nextCommandCounter();
    const data =
      session.hasLevel(Scp03SecurityLevel.C_DECRYPTION) && command.data.length > 0
        ? session.encryptCommandData(command.data, counter)
        : Buffer.from(command.data);
    const prefix = apduMacPrefix(command.cla, command.ins, command.p1, command.p2, data.length + SCP03_MAC_LENGTH);
    const mac = session.generateCmac(prefix, data);
    if (session.hasLevel(Scp03SecurityLevel.R_MAC)) this.pendingCommands.push({ counter, mcv: session.macChainingValue });
    const wrapped: CommandApdu = { ...command, cla: command.cla | CLA_SECURE_MESSAGING, data: Buffer.concat([data, mac]) };
    return wrapped;
  }

  /**
   * Verifies R-MAC and removes R-ENCRYPTION of the response to the oldest wrapped command not yet
   * unwrapped (Amd D §6.2.5, §6.2.7). An unprotected status word (an error) still consumes its command.
   */
  unwrapResponse(response: ResponseApdu): ResponseApdu {
    const session = this.openSession();
    if (!session.hasLevel(Scp03SecurityLevel.R_MAC)) return response;
    const command = this.pendingCommands.shift();
    if (!command) throw new CryptoError.SecureChannelState('no wrapped command awaits a response');
    if (!swIsProtected(response.sw)) return response;
    if (response.data.length < SCP03_MAC_LENGTH) {
      session.close();
      throw new CryptoError.MacMismatch('response too short to carry an R-MAC');
    }
    const body = response.data.subarray(0, response.data.length - SCP03_MAC_LENGTH);
    const rmac = response.data.subarray(response.data.length - SCP03_MAC_LENGTH);
    session.verifyRmac(command.mcv, Buffer.concat([body, swBytes(response.sw)]), rmac);
    const data =
      session.hasLevel(Scp03SecurityLevel.R_ENCRYPTION) && body.length > 0
        ? session.decryptResponseData(body, command.counter)
        : Buffer.from(body);
    return { data, sw: response.sw };
  }

  private openSession(): Scp03Session {
    if (!this.session) throw new CryptoError.SecureChannelState('EXTERNAL AUTHENTICATE not sent yet');
    return this.session;
  }
}

type CardState = { phase: 'handshake' } | { phase: 'open'; session: Scp03Session; last?: CommandContext };

/**
 * The card side of SCP03, e.g. a virtual eUICC security domain. Methods throw typed CryptoErrors; the
 * caller maps them to status words (MacMismatch / CryptogramMismatch → 6982, InvalidParameter → 6A88…).
 * Any failure aborts the session; a new INITIALIZE UPDATE starts over.
 */
export class Scp03Card {
  private readonly handshake: Scp03CardHandshake;
  private state: CardState = { phase: 'handshake' };

  constructor(options: Scp03CardOptions) {
    this.handshake = new Scp03CardHandshake(options);
  }

  /** The sequence counter to persist (incremented by each INITIALIZE UPDATE). */
  get sequenceCounter(): number {
    return this.handshake.sequenceCounter;
  }

  /** True once EXTERNAL AUTHENTICATE succeeded and no failure closed the session since. */
  get isAuthenticated(): boolean {
    return this.state.phase === 'open' && !this.state.session.isClosed;
  }

  /** Security level of the open session. */
  get securityLevel(): number | undefined {
    return this.state.phase === 'open' ? this.state.session.securityLevel : undefined;
  }

  /** Handles INITIALIZE UPDATE (Amd D §7.1.1): new challenge, session keys and card cryptogram. */
  initializeUpdate(command: CommandApdu): ResponseApdu {
    this.state = { phase: 'handshake' }; // Amd D §7.1.1: INITIALIZE UPDATE aborts any open session.
    this.handshake.reset();
    if ((command.cla & ~0x03) !== 0x80 || command.ins !== INS_INITIALIZE_UPDATE) {
      throw new CryptoError.InvalidParameter('not an INITIALIZE UPDATE command');
    }
    return { data: this.handshake.initializeUpdate(command.p1, command.data), sw: SW_OK };
  }

  /** Handles EXTERNAL AUTHENTICATE (Amd D §7.1.2): host cryptogram, then the C-MAC that starts the chain. */
  externalAuthenticate(command: CommandApdu): ResponseApdu {
    this.state = { phase: 'handshake' };
    if (command.cla !== 0x84 || command.ins !== INS_EXTERNAL_AUTHENTICATE || command.p2 !== 0) {
      this.handshake.reset();
      throw new CryptoError.InvalidParameter('not an EXTERNAL AUTHENTICATE command with C-MAC');
    }
    if (command.data.length !== SCP03_CHALLENGE_LENGTH + SCP03_MAC_LENGTH) {
      this.handshake.reset();
      throw new CryptoError.InvalidLength('EXTERNAL AUTHENTICATE data must be 16 bytes');
    }
    const hostCryptogram = command.data.subarray(0, SCP03_CHALLENGE_LENGTH);
    const session = this.handshake.externalAuthenticate(
      command.p1,
      hostCryptogram,
      apduMacPrefix(command.cla, command.ins, command.p1, command.p2, command.data.length),
      hostCryptogram,
      command.data.subarray(SCP03_CHALLENGE_LENGTH),
    );
    this.state = { phase: 'open', session };
    return { data: Buffer.alloc(0), sw: SW_OK };
  }

  /** Verifies C-MAC (first) and removes C-DECRYPTION of one command (Amd D §6.2.4, §6.2.6). */
  unwrapCommand(command: CommandApdu): CommandApdu {
    const state = this.openState();
    const session = state.session;
    if (!session.hasLevel(Scp03SecurityLevel.C_MAC)) return command;
    const counter = session.nextCommandCounter();
    if ((command.cla & CLA_SECURE_MESSAGING) === 0 || command.data.length < SCP03_MAC_LENGTH) {
      session.close();
      throw new CryptoError.MacMismatch('command carries no C-MAC');
    }
    const body = command.data.subarray(0, command.data.length - SCP03_MAC_LENGTH);
    const mac = command.data.subarray(command.data.length - SCP03_MAC_LENGTH);
    session.verifyCmac(apduMacPrefix(command.cla, command.ins, command.p1, command.p2, command.data.length), body, mac);
    const data =
      session.hasLevel(Scp03SecurityLevel.C_DECRYPTION) && body.length > 0
        ? session.decryptCommandData(body, counter)
        : Buffer.from(body);
    state.last = { counter, mcv: session.macChainingValue };
    return { ...command, cla: command.cla & ~CLA_SECURE_MESSAGING, data };
  }

  /** Adds R-ENCRYPTION and R-MAC to the response of the last unwrapped command (Amd D §6.2.7, §6.2.5). */
  wrapResponse(response: ResponseApdu): ResponseApdu {
    const state = this.openState();
    const session = state.session;
    if (!session.hasLevel(Scp03SecurityLevel.R_MAC) || !swIsProtected(response.sw)) return response;
    const command = state.last;
    if (!command) throw new CryptoError.SecureChannelState('no unwrapped command to answer');
    state.last = undefined;
    const body =
      session.hasLevel(Scp03SecurityLevel.R_ENCRYPTION) && response.data.length > 0
        ? session.encryptResponseData(response.data, command.counter)
        : Buffer.from(response.data);
    const rmac = session.computeRmac(command.mcv, Buffer.concat([body, swBytes(response.sw)]));
    return { data: Buffer.concat([body, rmac]), sw: response.sw };
  }

  private openState(): Extract<CardState, { phase: 'open' }> {
    if (this.state.phase !== 'open' || this.state.session.isClosed) {
      throw new CryptoError.SecureChannelState('no open SCP03 session');
    }
    return this.state;
  }
}

function swBytes(sw: number): Buffer {
  return Buffer.of(sw >> 8, sw & 0xff);
}