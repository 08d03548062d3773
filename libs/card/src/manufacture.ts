/**
 * Manufacturing a virtual eUICC: the state an EUM personalises before shipping (SGP.02 §2.2: ECASD with
 * SK.ECASD.ECKA, CERT.ECASD.ECKA, PK.CI.ECDSA and the EID; ISD-R with the SM-SR's initial key set) and,
 * for M2M, an optional provisioning profile that holds the fall-back attribute (SGP.02 §2.4.x [U]: a
 * card must never be left without connectivity, so it ships with one enabled fall-back profile).
 */
import type { KeyObject } from 'node:crypto';
import type { CurveName } from '@rsp/crypto';
import { validateEid, type TestPki } from '@rsp/pki';
import { RspError } from '@rsp/errors';
import { defaultIsdRKeySet, type IsdRKeySet } from '@rsp/offcard';
import { isdpAid } from '@rsp/offcard';
import { ES5_SECURITY_LEVEL_FLOOR, isEs5MinimumSecurityLevel, levelHex } from './es5-security-level';
import { ISDP_LIFE_CYCLE, NOTIFICATION_TYPE, type CardState, type IsdpState, type KeySetState } from './model';
import { appendNotification } from './notifications';

/** A manufacturing input is unusable (bad key length, duplicate KVN, memory too small …). */
export class ManufactureError extends RspError {
  static override readonly code = 'ERR_CARD_MANUFACTURE';
}

/** The network-access data of the provisioning (bootstrap) profile. */
export interface BootstrapProfile {
  iccid: string;
  imsi: string;
  /** Milenage K, 16 bytes. */
  ki: Buffer;
  /** Milenage OPc, 16 bytes. */
  opc: Buffer;
}

export interface ManufactureInput {
  eid: string;
  curve: CurveName;
  /** SK.ECASD.ECKA: a KeyObject, or its PKCS#8 DER already (a fleet builds it from the scalar, encodeEcPrivateKeyPkcs8). */
  ecasdPrivateKey: KeyObject | { pkcs8: Buffer };
  /** CERT.ECASD.ECKA, GP `7F21`. */
  ecasdCertificate: Buffer;
  /** CI certificate, X.509 DER (carries PK.CI.ECDSA). */
  ciCertificate: Buffer;
  isdRKeySets: IsdRKeySet[];
  /** Non-volatile memory for profiles (default {@link DEFAULT_MEMORY_BYTES}). */
  memoryBytes?: number;
  bootstrapProfile?: BootstrapProfile;
  /** Manufacturing time (timestamp of the declaration notification). */
  now?: Date;
}

/** Default memory for profiles: 512 KiB. */
export const DEFAULT_MEMORY_BYTES = 512 * 1024;
/** Memory granted to the bootstrap profile's ISD-P. */
export const BOOTSTRAP_QUOTA_BYTES = 32 * 1024;
/** Nominal size of the bootstrap profile (it has no SAIP package in the state). */
const BOOTSTRAP_PROFILE_BYTES = 8 * 1024;
function keySetState(keySet: IsdRKeySet): KeySetState {
  for (const key of [keySet.enc, keySet.mac, keySet.dek]) {
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new ManufactureError('SCP03 keys are 16, 24 or 32 bytes');
  }
  if (!Number.isInteger(keySet.kvn) || keySet.kvn < 1 || keySet.kvn > 0x7f) throw new ManufactureError(`bad KVN ${keySet.kvn}`);
  const minimum = keySet.minimumSecurityLevel;
  if (minimum !== undefined && !isEs5MinimumSecurityLevel(minimum)) {
    throw new ManufactureError(`ES5 minimum security level ${levelHex(minimum)}: a GP level of at least ${levelHex(ES5_SECURITY_LEVEL_FLOOR)}`);
  }
  return {
    kvn: keySet.kvn,
    enc: keySet.enc.toString('hex'),
    mac: keySet.mac.toString('hex'),
    dek: keySet.dek.toString('hex'),
    ...(minimum === undefined ? {} : { minimumSecurityLevel: minimum }),
  };
}

function bootstrapIsdp(profile: BootstrapProfile): IsdpState {
  if (profile.ki.length !== 16 || profile.opc.length !== 16) throw new ManufactureError('Ki and OPc are 16 bytes');
  return {
    aid: isdpAid(1),
    lifeCycle: ISDP_LIFE_CYCLE.ENABLED,
    fallback: true,
    pol1: 0,
    memoryQuota: BOOTSTRAP_QUOTA_BYTES,
    scp03tCounter: 0,
    profile: {
      iccid: profile.iccid,
      imsi: profile.imsi,
      ki: profile.ki.toString('hex'),
      opc: profile.opc.toString('hex'),
      sqnMs: '000000000000',
      sizeBytes: BOOTSTRAP_PROFILE_BYTES,
    },
  };
}

/**
 * A freshly manufactured card. With `bootstrapProfile` it holds one ISD-P ({@link isdpAid}(1)) ENABLED
 * with the fall-back attribute. A card declaration notification (type 01) is pending from the start.
 */
export function manufactureCardState(input: ManufactureInput): CardState {
  validateEid(input.eid, { anyPrefix: true });
  if (input.isdRKeySets.length === 0) throw new ManufactureError('the ISD-R needs at least one key set');
  const kvns = new Set(input.isdRKeySets.map((k) => k.kvn));
  if (kvns.size !== input.isdRKeySets.length) throw new ManufactureError('duplicate ISD-R KVN');
  const state: CardState = {
    version: 1,
    eid: input.eid,
    ecasd: {
      curve: input.curve,
      privateKey: ('pkcs8' in input.ecasdPrivateKey ? input.ecasdPrivateKey.pkcs8 : (input.ecasdPrivateKey.export({ format: 'der', type: 'pkcs8' }) as Buffer)).toString('hex'),
      certificate: input.ecasdCertificate.toString('hex'),
      ciCertificate: input.ciCertificate.toString('hex'),
    },
    isdR: { keySets: input.isdRKeySets.map(keySetState), sequenceCounter: 0 },
    isdps: input.bootstrapProfile ? [bootstrapIsdp(input.bootstrapProfile)] : [],
    memory: { totalBytes: input.memoryBytes ?? DEFAULT_MEMORY_BYTES },
    notifications: { nextSeq: 1, pending: [] },
  };
  if (state.memory.totalBytes < state.isdps.reduce((sum, isdp) => sum + isdp.memoryQuota, 0)) {
    throw new ManufactureError('memory too small for the bootstrap profile');
  }
  // SGP.02 §3.x eUICC declaration [U]: the first notification announces the card to its SM-SR.
  appendNotification(state, NOTIFICATION_TYPE.EUICC_DECLARATION, input.now ?? new Date());
  return state;
}

export interface ManufactureFromTestPkiOptions {
  isdRKeySets?: IsdRKeySet[];
  memoryBytes?: number;
  bootstrapProfile?: BootstrapProfile;
  now?: Date;
}

/** {@link manufactureCardState} with the ECASD credential of `pki.euiccs[index]`, the test CI and the default TEST ISD-R keys. */
export function manufactureFromTestPki(pki: TestPki, index: number, options: ManufactureFromTestPkiOptions = {}): CardState {
  const euicc = pki.euiccs[index];
  if (!euicc) throw new ManufactureError(`the test PKI has no eUICC #${index}`);
  return manufactureCardState({
    eid: euicc.eid,
    curve: pki.curve,
    ecasdPrivateKey: euicc.ecasd.privateKey,
    ecasdCertificate: euicc.ecasd.cert,
    ciCertificate: pki.ci.der,
    isdRKeySets: options.isdRKeySets ?? [defaultIsdRKeySet(euicc.eid)],
    ...(options.memoryBytes !== undefined ? { memoryBytes: options.memoryBytes } : {}),
    ...(options.bootstrapProfile ? { bootstrapProfile: options.bootstrapProfile } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

