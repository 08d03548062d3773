/**
 * The ISD-R's SCP03 key set as both ends hold it (GP Amd D §6.2), and the public TEST key set an EUM
 * ships before the SM-SR's first contact replaces it (docs/architecture.md, departure 7).
 */
import { aesCmac } from '@rsp/crypto';
import { eidToBytes } from '@rsp/pki';

/** One SCP03 key set as bytes (AES-128: 16-byte keys). */
export interface IsdRKeySet {
  kvn: number;
  enc: Buffer;
  mac: Buffer;
  dek: Buffer;
  /** Lowest ES5 security level accepted with this set: 0x33 when absent, 0x13 at the least (es5-security-level.ts). */
  minimumSecurityLevel?: number;
}

/**
 * KVN of the default ISD-R key set. [U] GP Amd D reserves no KVN range we could verify; 0x30 is the
 * value commonly used for SCP03 key sets (our choice).
 */
export const DEFAULT_ISD_R_KVN = 0x30;

/**
 * TEST master key of {@link defaultIsdRKeySet}. It is public: key sets derived from it protect nothing
 * and exist only so an SM-SR and a simulated card agree without configuration. Never use on real cards.
 */
const TEST_MASTER_KEY = Buffer.from('5445535420524f4f54204b4559202121', 'hex'); // "TEST ROOT KEY !!"

/**
 * Deterministic **TEST** ES5 key set for the ISD-R of `eid`: each key is
 * AES-CMAC(TEST_MASTER_KEY, `01|02|03` ‖ EID as 16 BCD bytes) for ENC, MAC and DEK respectively, KVN
 * {@link DEFAULT_ISD_R_KVN}. Anyone can compute these keys: test and demo use only.
 */
export function defaultIsdRKeySet(eid: string): IsdRKeySet {
  const eidBytes = eidToBytes(eid);
  const derive = (label: number): Buffer => aesCmac(TEST_MASTER_KEY, Buffer.concat([Buffer.of(label), eidBytes]));
  return { kvn: DEFAULT_ISD_R_KVN, enc: derive(0x01), mac: derive(0x02), dek: derive(0x03) };
}

