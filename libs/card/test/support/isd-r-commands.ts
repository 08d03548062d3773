/** Test helper: ES5 ISD-R command builders (codings as in src/handlers/isd-r-*.ts) and state fixtures. */
import { encodeDgi, encodeTlv, type CommandApdu } from '@rsp/tlv';
import { AID, ISDP_LIFE_CYCLE, type IsdpLifeCycle, type IsdpState } from '../../src';

const lv = (value: Uint8Array) => Buffer.concat([Buffer.of(value.length), value]);
const aidTlv = (aid: string) => encodeTlv(0x4f, Buffer.from(aid, 'hex'));

export function storeData(dgi: number, value: Uint8Array, p1 = 0x88): CommandApdu {
  return { cla: 0x80, ins: 0xe2, p1, p2: 0x00, data: encodeDgi(dgi, value) };
}

export interface CreateIsdpOptions {
  quota?: number;
  loadFile?: string;
  module?: string;
}

/** INSTALL [for install and make selectable] as SPEC-NOTES gives it. */
export function createIsdpApdu(aid: string, options: CreateIsdpOptions = {}): CommandApdu {
  const c9 = encodeTlv(0xc9, encodeTlv(0x81, Buffer.of(0x03, 0x70)));
  const quota = options.quota === undefined ? Buffer.alloc(0) : encodeTlv(0xef, encodeTlv(0x83, Buffer.of(options.quota >> 8, options.quota & 0xff)));
  const data = Buffer.concat([
    lv(Buffer.from(options.loadFile ?? AID.ISD_P_LOAD_FILE, 'hex')),
    lv(Buffer.from(options.module ?? AID.ISD_P_MODULE, 'hex')),
    lv(Buffer.from(aid, 'hex')),
    lv(Buffer.of(0x80, 0xc0, 0x00)),
    lv(Buffer.concat([c9, quota])),
    lv(Buffer.alloc(0)),
  ]);
  return { cla: 0x80, ins: 0xe6, p1: 0x0c, p2: 0x00, data };
}

export const enableApdu = (aid: string) => storeData(0x3a03, aidTlv(aid));
export const disableApdu = (aid: string) => storeData(0x3a04, aidTlv(aid));
export const setFallbackApdu = (aid: string) => storeData(0x3a05, aidTlv(aid));
export const updatePol1Apdu = (aid: string, pol1: number) => storeData(0x3a06, Buffer.concat([aidTlv(aid), encodeTlv(0x81, Buffer.of(pol1))]));
export const masterDeleteApdu = (aid: string, token: Uint8Array) => storeData(0x3a09, Buffer.concat([aidTlv(aid), encodeTlv(0x86, token)]));
export const confirmNotificationApdu = (seq: number) => storeData(0x3a08, encodeTlv(0x4e, Buffer.of(seq >> 8, seq & 0xff)), 0x89);
export const deleteApdu = (aid: string): CommandApdu => ({ cla: 0x80, ins: 0xe4, p1: 0x00, p2: 0x40, data: aidTlv(aid) });
export const getStatusApdu = (aid?: string): CommandApdu => ({
  cla: 0x80,
  ins: 0xf2,
  p1: 0x40,
  p2: 0x02,
  data: encodeTlv(0x4f, aid ? Buffer.from(aid, 'hex') : Buffer.alloc(0)),
  le: 256,
});

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
