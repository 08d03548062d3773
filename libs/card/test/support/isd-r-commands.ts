/** Test helper: state fixtures and test data; the ES5 command builders are production code (src/off-card/es5.ts). */
export * from '@rsp/offcard';
import { ISDP_LIFE_CYCLE, type IsdpLifeCycle, type IsdpState } from '../../src';

/** TS 35.208 test set 1 (libs/crypto/test/vectors/milenage-ts35207-35208.json). */
export const TEST_SET_1 = {
  k: '465b5ce8b199b49faa5f0a2ee238a6bc',
  opc: 'cd63cb71954a9f4e48a5994e37a02baf',
  rand: '23553cbe9637a89d218ae64dae47bf35',
  sqn: 'ff9bb4d0b607',
  amf: 'b9b9',
};

/** An ISD-P holding an installed profile, for putting straight into a manufactured state. */
export function installedIsdp(aid: string, options: { lifeCycle?: IsdpLifeCycle; pol1?: number; fallback?: boolean; quota?: number; dek?: string; iccid?: string } = {}): IsdpState {
  return {
    aid,
    lifeCycle: options.lifeCycle ?? ISDP_LIFE_CYCLE.DISABLED,
    fallback: options.fallback ?? false,
    pol1: options.pol1 ?? 0,
    memoryQuota: options.quota ?? 32 * 1024,
    scp03tCounter: 0,
    ...(options.dek ? { keySet: { kvn: 0x30, enc: options.dek, mac: options.dek, dek: options.dek } } : {}),
    profile: {
      iccid: options.iccid ?? '8944000000000000017',
      imsi: '001010000000017',
      ki: TEST_SET_1.k,
      opc: TEST_SET_1.opc,
      sqnMs: '000000000000',
      sizeBytes: 10 * 1024,
    },
  };
}
