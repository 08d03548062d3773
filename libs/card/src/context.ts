/**
 * What a command handler sees. Handlers are plain functions over a draft of the card state: the
 * dispatcher commits the draft atomically when the handler returns, and drops it when it throws,
 * so every refused command leaves the card exactly as it was.
 */
import type { EckaKeyPair, Scp03Card, Scp03tReceiver } from '@rsp/crypto';
import type { CommandApdu, ResponseApdu } from '@rsp/tlv';
import type { CardState } from './model';

/** Applications a command can address. 'usim' is the enabled profile's USIM (network access). */
export type CardApplication = 'isd-r' | 'ecasd' | 'usim';

/** One row of the command table, in the spirit of aedes' handlers: named, with its spec clause. */
export interface CommandHandler {
  /** e.g. 'ISD-R ENABLE PROFILE (STORE DATA 3A03)'. */
  readonly name: string;
  /** The clause it implements, e.g. 'SGP.02 §4.1.1.2'. */
  readonly spec: string;
  /** Which selected application(s) accept it. */
  readonly app: CardApplication | 'any';
  /** Must arrive inside the ISD-R's SCP03 session (ES5); otherwise 6982. */
  readonly secured: boolean;
  matches(apdu: CommandApdu): boolean;
  handle(ctx: CardContext, apdu: CommandApdu): ResponseApdu;
}

/** Per-ISD-P volatile state of ES8 (lost on power cycle, as on a real card). */
export interface IsdpSession {
  /** Challenge returned for 3A01, expected in the 3A02 signature (SGP.02 §4.1.3.3); single use. */
  challenge?: Buffer;
  /** The SM-DP's verified certificate (7F21), from 3A01. */
  offCardCertificate?: Buffer;
  /** SCP03t receiver once keys exist. */
  scp03t?: Scp03tReceiver;
  /** The decrypted profile package received so far (installed only when complete). */
  download?: DownloadBuffer;
}

/**
 * A profile package as its segments arrive: one buffer grown by doubling, and how far whole top-level
 * TLVs have been walked. Each segment then costs its own length, not the package's so far (a 60 KB
 * profile arrives in about 250 segments; concatenating all of them again per segment was quadratic).
 */
export interface DownloadBuffer {
  bytes: Buffer;
  /** Bytes used in `bytes`. */
  length: number;
  /** Offset of the first top-level TLV not yet seen whole. */
  walked: number;
  /** Tag of the last whole top-level TLV, -1 before the first. */
  lastTag: number;
}

/**
 * ES5 EstablishISDRKeySet in progress on the ISD-R itself (SGP.02 §3.8 [U numbering]; GP Amd E
 * Scenario#3). Unlike the personalization target it survives SELECT: the SM-SR sends 3A01 and 3A02 in
 * two ES5 sessions, each opened by SELECT ISD-R.
 */
export interface IsdRKeyEstablishment {
  /** Challenge returned for 3A01, expected in the 3A02 signature. */
  challenge: Buffer;
  /** The SM-SR's verified CERT.SR.ECDSA (7F21), from 3A01. */
  offCardCertificate: Buffer;
}

/** State that does not survive a power cycle. */
export interface VolatileState {
  /** Currently selected application. */
  selected: CardApplication;
  /** The ISD-R's ES5 secure channel. */
  scp03?: Scp03Card;
  /** Security level the key set chosen by INITIALIZE UPDATE demands of EXTERNAL AUTHENTICATE. */
  scp03RequiredLevel?: number;
  /** ISD-P addressed by INSTALL [for personalization] (GP CS §11.5.2.3). */
  personalizationTarget?: string;
  isdpSessions: Map<string, IsdpSession>;
  /** Pending ES5 EstablishISDRKeySet (3A01 accepted, 3A02 not yet received). */
  isdRKeyEstablishment?: IsdRKeyEstablishment;
}

/** Events for the device around the card (delivered only after the command committed). */
export type CardEvent =
  | { type: 'refresh'; reason: 'profile-enabled' | 'profile-disabled' | 'fallback' | 'profile-deleted' }
  | { type: 'profile-switched'; fromAid?: string; toAid?: string; iccid?: string }
  | { type: 'fallback-triggered'; fromAid?: string; toAid: string }
  | { type: 'profile-installed'; aid: string; iccid: string }
  | { type: 'notification-queued'; seq: number; notificationType: number }
  | { type: 'notification-acknowledged'; seq: number }
  | { type: 'attach'; result: 'ok' | 'mac-failure' | 'sync-failure'; imsi?: string };

/** Fault hooks (seeded by the simulator's fault plans). */
export interface CardFaults {
  /** True to lose power at this named step (see {@link CardContext.step}). */
  powerLossAt?(step: string): boolean;
  /** True to report memory as full (every allocation fails with 6A84). */
  memoryFull?(): boolean;
}

/** Things a handler may use that are not card state. */
export interface CardEnvironment {
  now(): Date;
  random(length: number): Buffer;
  /** SK.ECASD.ECKA as node ECDH state, read once from the stored PKCS#8 (no KeyObject import). */
  ecasdKeyAgreement(): EckaKeyPair;
  faults: CardFaults;
}

export interface CardContext {
  /** Draft of the persistent state; mutate freely. */
  readonly state: CardState;
  readonly volatile: VolatileState;
  readonly env: CardEnvironment;
  /** Queues an event for delivery after commit. */
  emit(event: CardEvent): void;
  /** A named point where a fault plan may cut the power (throws PowerLoss). */
  step(name: string): void;
}
