/**
 * Off-card builders of the ES5 commands an SM-SR sends to the ISD-R (SGP.02 §4.1.1; codings as the
 * card implements them in src/handlers/isd-r-*.ts, see SPEC-NOTES "STORE DATA and ISD-R commands").
 * They produce plain C-APDUs: the caller wraps them in its SCP03 session (ES5).
 */
import { encodeDgi, encodeTlv, type CommandApdu } from '@rsp/tlv';
import { AID } from './aids';

/** Length-value with a one-byte length (GP INSTALL parameters). */
const lv = (value: Uint8Array) => Buffer.concat([Buffer.of(value.length), value]);
const aidTlv = (aid: string) => encodeTlv(0x4f, Buffer.from(aid, 'hex'));

/** Tag of one key-set range in the FinaliseISDRhandover DELETE (SGP.02 v3.1 §4.1.1.9 via njiwa [U]). */
export const ISD_R_DELETE_KEY_SET_TAG = 0xf2;

/** STORE DATA with one DGI (P1 88: last block, DGI format; 89 when a response is expected). */
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

