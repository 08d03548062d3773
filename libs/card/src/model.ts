/**
 * The persistent state of one eUICC, as plain JSON-safe data (hex strings for bytes), so it can be
 * cloned for a transaction, written atomically and restored after a power cycle.
 *
 * Secrets (marked @secret) live only here and in memory: never log a CardState; use
 * {@link redactCardState} for diagnostics.
 */
import { ISDP_LIFE_CYCLE, NOTIFICATION_TYPE, type IsdpLifeCycle } from '@rsp/offcard';

// The codings both ends share live in @rsp/offcard; the card's model re-exports them.
export { ISDP_LIFE_CYCLE, NOTIFICATION_TYPE, type IsdpLifeCycle };


/** An SCP03 key set (hex). @secret */
export interface KeySetState {
  kvn: number;
  enc: string;
  mac: string;
  dek: string;
  /**
   * ISD-R key sets only: the lowest SCP03 security level EXTERNAL AUTHENTICATE may ask for with this set.
   * Absent: ES5_DEFAULT_MINIMUM_SECURITY_LEVEL (0x33); never effective below 0x13 (es5-security-level.ts).
   */
  minimumSecurityLevel?: number;
}

/** The network-access data of an installed profile, decoded from its SAIP package. */
export interface InstalledProfileState {
  iccid: string;
  imsi: string;
  profileType?: string;
  /** Milenage K (hex). @secret */
  ki: string;
  /** Milenage OPc (hex). @secret */
  opc: string;
  /** Highest SQN accepted so far (hex, 6 bytes): the USIM's SQN_MS (TS 33.102 §6.3.3). */
  sqnMs: string;
  /** Bytes the profile occupies (counted against the ISD-P's quota and the card's memory). */
  sizeBytes: number;
  /** The SAIP package as installed (hex), kept for audit and re-enable. @secret */
  package?: string;
}

export interface IsdpState {
  aid: string;
  lifeCycle: IsdpLifeCycle;
  /** Exactly one ISD-P holds the fall-back attribute when any does (SGP.02 §2.4.x). */
  fallback: boolean;
  /** POL1 rules byte of the profile (set by the profile / ES6 only). */
  pol1: number;
  /** Non-volatile memory granted at creation (bytes). */
  memoryQuota: number;
  /** SM-DP that created it (for notifications and audit). */
  smdpId?: string;
  mnoId?: string;
  /** Key set from Scenario#3, once established. @secret */
  keySet?: KeySetState;
  /** Sequence counter of the ISD-P's SCP03t channel (persisted like any SCP03 counter). */
  scp03tCounter: number;
  profile?: InstalledProfileState;
  connectivityParameters?: string;
}


export interface NotificationState {
  seq: number;
  type: number;
  aid?: string;
  /** The encoded `E1` notification TLV (hex), as sent. */
  tlv: string;
  createdAt: string;
  attempts: number;
  /**
   * ISD-P disabled by the profile change this notification reports. When the SM-SR confirms the
   * notification and that ISD-P's POL1 says "delete when disabled", the ISD-R deletes it then
   * (SGP.02 §3.2 / §4.1.1.11: deletion follows the notification confirmation).
   */
  disabledAid?: string;
}

export interface CardState {
  /** Schema version of this document, for upgrades. */
  version: 1;
  eid: string;
  ecasd: {
    curve: 'P-256' | 'brainpoolP256r1';
    /** SK.ECASD.ECKA, PKCS#8 DER (hex). @secret */
    privateKey: string;
    /** CERT.ECASD.ECKA, GP 7F21 (hex). */
    certificate: string;
    /** The CI certificate (X.509 DER, hex) whose key is PK.CI.ECDSA: off-card certificates must chain to it. */
    ciCertificate: string;
  };
  isdR: {
    /** The SM-SR's key sets for ES5 (SCP03 standing in for SCP80/SCP81). @secret */
    keySets: KeySetState[];
    /** SCP03 sequence counter (persisted so challenges never repeat). */
    sequenceCounter: number;
  };
  isdps: IsdpState[];
  memory: {
    /** Non-volatile memory available for profiles in total (bytes). */
    totalBytes: number;
  };
  notifications: {
    nextSeq: number;
    pending: NotificationState[];
  };
  /** Device data the card reports (IMEI of the hosting device, if known). */
  imei?: string;
}

const SECRET_FIELDS = new Set(['privateKey', 'enc', 'mac', 'dek', 'ki', 'opc', 'package']);

/** A deep copy with every secret replaced by '<redacted>': safe for logs and error reports. */
export function redactCardState(state: CardState): unknown {
  return JSON.parse(JSON.stringify(state), (key, value: unknown) => (SECRET_FIELDS.has(key) ? '<redacted>' : value));
}

/** Free non-volatile memory: total minus what the ISD-Ps were granted. */
export function freeMemory(state: CardState): number {
  return state.memory.totalBytes - state.isdps.reduce((sum, isdp) => sum + isdp.memoryQuota, 0);
}

export function findIsdp(state: CardState, aid: string): IsdpState | undefined {
  const wanted = aid.toUpperCase();
  return state.isdps.find((isdp) => isdp.aid === wanted);
}

export function enabledIsdp(state: CardState): IsdpState | undefined {
  return state.isdps.find((isdp) => isdp.lifeCycle === ISDP_LIFE_CYCLE.ENABLED);
}
