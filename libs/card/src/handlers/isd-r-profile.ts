/**
 * ISD-R profile management over ES5 (SGP.02 §4.1.1; commands per SPEC-NOTES "STORE DATA and ISD-R
 * commands", from njiwa): CreateISDP, EnableProfile, DisableProfile, DeleteProfile and
 * HandleNotificationConfirmation. All rows are secured (ES5 SCP03 session of the ISD-R).
 */
import { encodeTlv, findTlv, decodeTlvs, type CommandApdu } from '@rsp/tlv';
import { AID, isIsdpAid } from '@rsp/offcard';
import type { CardContext, CommandHandler } from '../context';
import { ok } from '../dispatcher';
import { CardError } from '@rsp/offcard';
import { findIsdp, freeMemory, ISDP_LIFE_CYCLE, type IsdpState } from '../model';
import { deleteOnConfirmation, deleteProfile, disableProfile, enableProfile } from '../profile-ops';
import { aidHex, isCommand, LvReader, requireAidTlv, requireIsdp } from './common';
import type { StoreDataFunction } from './store-data';

/** Memory granted when CreateISDP names no quota (our choice). */
export const DEFAULT_ISDP_QUOTA_BYTES = 64 * 1024;
/** INSTALL P1: for install (04) + make selectable (08) (GP CS §11.5.2.1 Table 11-41). */
const P1_INSTALL_AND_MAKE_SELECTABLE = 0x0c;
const TAG_SYSTEM_PARAMETERS = 0xef;
/** SPEC-NOTES / njiwa: `EF { 83 02 quota }` [U]; GP CS Table 11-49 names C8 "non-volatile memory quota", accepted too. */
const QUOTA_TAGS = [0x83, 0xc8];

/** Reads the NV quota from the install parameters (`C9 …` then optional `EF { 83|C8 quota }`). */
function quotaFrom(installParameters: Buffer): number {
  const tlvs = decodeTlvs(installParameters);
  if (!findTlv(tlvs, 0xc9)) throw new CardError.IncorrectData('install parameters lack C9');
  const system = findTlv(tlvs, TAG_SYSTEM_PARAMETERS);
  if (!system) return DEFAULT_ISDP_QUOTA_BYTES;
  const systemTlvs = decodeTlvs(system.value);
  const quota = QUOTA_TAGS.map((tag) => findTlv(systemTlvs, tag)).find((t) => t !== undefined);
  if (!quota) return DEFAULT_ISDP_QUOTA_BYTES;
  if (quota.value.length < 1 || quota.value.length > 4) throw new CardError.IncorrectData('bad memory quota');
  return quota.value.readUIntBE(0, quota.value.length);
}

/**
 * CreateISDP — INSTALL [for install and make selectable] (SGP.02 §4.1.1.1 [U]; GP CS §11.5.2.3.2):
 *
 *   80 E6 0C 00 Lc  LV(load file AID = …0D00) LV(module AID = …0E00) LV(ISD-P AID) LV(privileges 80 C0 00)
 *                   LV(C9 L {81 02 03 70} [EF L {83 02 quota}]) LV(token, empty)      → 00 9000
 *
 * Refusals: wrong load file / module 6A88; bad or duplicate ISD-P AID 6A80 [U: GP gives no dedicated
 * SW for "AID already present"]; quota above free memory (or the memory-full fault) 6A84.
 */
function createIsdp(ctx: CardContext, apdu: CommandApdu) {
  if (apdu.p1 !== P1_INSTALL_AND_MAKE_SELECTABLE || apdu.p2 !== 0) throw new CardError.IncorrectP1P2('expected INSTALL 0C 00');
  const reader = new LvReader(apdu.data);
  const loadFile = reader.next('load file AID');
  const module = reader.next('module AID');
  const aid = aidHex(reader.next('application AID'));
  reader.next('privileges');
  const quota = quotaFrom(reader.next('install parameters'));
  reader.next('install token');
  if (!reader.done) throw new CardError.IncorrectData('trailing bytes after the install token');
  if (aidHex(loadFile) !== AID.ISD_P_LOAD_FILE || aidHex(module) !== AID.ISD_P_MODULE) {
    throw new CardError.ReferencedDataNotFound('unknown executable load file or module');
  }
  if (!isIsdpAid(aid)) throw new CardError.IncorrectData(`${aid} is not an ISD-P AID`);
  if (findIsdp(ctx.state, aid)) throw new CardError.IncorrectData(`ISD-P ${aid} already exists`);
  if (ctx.env.faults.memoryFull?.() || quota > freeMemory(ctx.state)) {
    throw new CardError.NotEnoughMemory(`quota ${quota} exceeds free memory`);
  }
  ctx.step('create-isdp');
  const isdp: IsdpState = { aid, lifeCycle: ISDP_LIFE_CYCLE.SELECTABLE, fallback: false, pol1: 0, memoryQuota: quota, scp03tCounter: 0 };
  ctx.state.isdps.push(isdp);
  return ok(Buffer.of(0x00)); // GP CS §11.5.3.1: response data '00'
}

/** DeleteProfile — DELETE `80 E4 00 40 Lc 4F L AID` (P2 40 = delete object and related; SGP.02 §4.1.1.4 [U]; GP CS §11.2). */
function deleteIsdp(ctx: CardContext, apdu: CommandApdu) {
  if (apdu.p1 !== 0x00 || apdu.p2 !== 0x40) throw new CardError.IncorrectP1P2('expected DELETE 00 40');
  const aid = requireAidTlv(apdu.data);
  deleteProfile(ctx, requireIsdp(ctx, aid));
  return ok(Buffer.of(0x00)); // GP CS §11.2.3: response data '00'
}

/** EnableProfile — STORE DATA `3A03 L { 4F L AID }` (SGP.02 §4.1.1.2 [U] numbering). */
const ENABLE_PROFILE: StoreDataFunction = {
  name: 'EnableProfile (3A03)',
  spec: 'SGP.02 §4.1.1.2',
  dgi: 0x3a03,
  handle(ctx, value) {
    enableProfile(ctx, requireIsdp(ctx, requireAidTlv(value)));
    return ok();
  },
};

/** DisableProfile — STORE DATA `3A04 L { 4F L AID }` (SGP.02 §4.1.1.3 [U] numbering). */
const DISABLE_PROFILE: StoreDataFunction = {
  name: 'DisableProfile (3A04)',
  spec: 'SGP.02 §4.1.1.3',
  dgi: 0x3a04,
  handle(ctx, value) {
    disableProfile(ctx, requireIsdp(ctx, requireAidTlv(value)));
    return ok();
  },
};

/**
 * HandleNotificationConfirmation — STORE DATA `3A08 L { 4E 02 seq }` (SGP.02 §4.1.1.11 [U]) →
 * `80 L { 4F L AID }*` listing the ISD-Ps deleted as a result: the profile the confirmed change
 * disabled, when its POL1 says "delete when disabled" (SGP.02 §3.2). Unknown sequence number → 6A88.
 */
const HANDLE_NOTIFICATION_CONFIRMATION: StoreDataFunction = {
  name: 'HandleNotificationConfirmation (3A08)',
  spec: 'SGP.02 §4.1.1.11',
  dgi: 0x3a08,
  handle(ctx, value) {
    const seqTlv = findTlv(decodeTlvs(value), 0x4e);
    if (!seqTlv || seqTlv.value.length !== 2) throw new CardError.IncorrectData('4E sequence number missing');
    const seq = seqTlv.value.readUInt16BE(0);
    const pending = ctx.state.notifications.pending;
    const index = pending.findIndex((n) => n.seq === seq);
    if (index < 0) throw new CardError.ReferencedDataNotFound(`no pending notification ${seq}`);
    const [confirmed] = pending.splice(index, 1);
    const deleted = confirmed ? deleteOnConfirmation(ctx, confirmed) : [];
    ctx.emit({ type: 'notification-acknowledged', seq });
    if (deleted.length > 0) ctx.emit({ type: 'refresh', reason: 'profile-deleted' });
    return ok(encodeTlv(0x80, ...deleted.map((aid) => encodeTlv(0x4f, Buffer.from(aid, 'hex')))));
  },
};

export const ISD_R_PROFILE_STORE_DATA: readonly StoreDataFunction[] = [ENABLE_PROFILE, DISABLE_PROFILE, HANDLE_NOTIFICATION_CONFIRMATION];

export const ISD_R_PROFILE_COMMANDS: CommandHandler[] = [
  {
    name: 'ISD-R CreateISDP (INSTALL for install and make selectable)',
    spec: 'SGP.02 §4.1.1.1; GP CS v2.3 §11.5',
    app: 'isd-r',
    secured: true,
    matches: (apdu) => isCommand(apdu, 0x80, 0xe6) && apdu.p1 === P1_INSTALL_AND_MAKE_SELECTABLE,
    handle: createIsdp,
  },
  {
    name: 'ISD-R DeleteProfile (DELETE)',
    spec: 'SGP.02 §4.1.1.4; GP CS v2.3 §11.2',
    app: 'isd-r',
    secured: true,
    matches: (apdu) => isCommand(apdu, 0x80, 0xe4) && apdu.p2 === 0x40,
    handle: deleteIsdp,
  },
];
