/**
 * ISD-R policy functions over ES5: SetFallBackAttribute, UpdatePOL1 and MasterDelete.
 *
 * [U] Their APDU coding could not be found in any readable source (SGP.02 text unavailable; njiwa does
 * not implement them). We carry them as STORE DATA DGIs next to 3A03/3A04/3A08, our choice:
 *
 *   SetFallBackAttribute  80 E2 88 00  3A05 L { 4F L AID }
 *   UpdatePOL1            80 E2 88 00  3A06 L { 4F L AID, 81 01 POL1 }
 *   MasterDelete          80 E2 88 00  3A09 L { 4F L AID, 86 10 token }
 *
 * MasterDelete token (our choice, SGP.02 §3.x says only that the SM-DP issues it): the first 16 bytes
 * of AES-CMAC(DEK of the ISD-P's Scenario#3 key set, AID bytes). Only the SM-DP that established the
 * ISD-P keys can compute it, so the SM-SR cannot delete profiles behind the SM-DP's back.
 */
import { timingSafeEqual } from 'node:crypto';
import { aesCmac } from '@rsp/crypto';
import { decodeTlvs, findTlv } from '@rsp/tlv';
import type { CardContext } from '../context';
import { ok } from '../dispatcher';
import { CardError } from '@rsp/offcard';
import { checkDeletable, fallbackIsdp, isInstalled, POL1_ALL_RULES, removeIsdp } from '../profile-ops';
import { requireAidTlv, requireIsdp } from './common';
import type { StoreDataFunction } from './store-data';
import { staticKeys } from '../key-objects';

/** The MasterDelete token for an ISD-P (see the module comment): AES-CMAC(ISD-P DEK, AID). */
export function masterDeleteToken(isdpDek: Uint8Array, aid: string): Buffer {
  return aesCmac(isdpDek, Buffer.from(aid, 'hex'));
}

/** SetFallBackAttribute: moves the attribute to an installed profile (exactly one holder). */
const SET_FALLBACK_ATTRIBUTE: StoreDataFunction = {
  name: 'SetFallBackAttribute (3A05) [U coding]',
  spec: 'SGP.02 §4.1.1.x (coding ours)',
  dgi: 0x3a05,
  handle(ctx: CardContext, value: Buffer) {
    const target = requireIsdp(ctx, requireAidTlv(value));
    requireInstalled(target);
    const previous = fallbackIsdp(ctx);
    if (previous) previous.fallback = false;
    target.fallback = true;
    return ok();
  },
};

/** Fall-back and POL1 belong to installed profiles only (6985 otherwise). */
function requireInstalled(target: Parameters<typeof isInstalled>[0]): void {
  if (!isInstalled(target)) throw new CardError.ConditionsNotSatisfied(`ISD-P ${target.aid} holds no installed profile`);
}

/** UpdatePOL1: replaces the POL1 byte of an installed profile (unknown rule bits → 6A80). */
const UPDATE_POL1: StoreDataFunction = {
  name: 'UpdatePOL1 (3A06) [U coding]',
  spec: 'SGP.02 §4.1.1.x (coding ours)',
  dgi: 0x3a06,
  handle(ctx: CardContext, value: Buffer) {
    const target = requireIsdp(ctx, requireAidTlv(value));
    const rules = findTlv(decodeTlvs(value), 0x81);
    if (!rules || rules.value.length !== 1) throw new CardError.IncorrectData('81 01 POL1 missing');
    const pol1 = rules.value[0] as number;
    if ((pol1 & ~POL1_ALL_RULES) !== 0) throw new CardError.IncorrectData(`unknown POL1 bits ${pol1.toString(16)}`);
    requireInstalled(target);
    target.pol1 = pol1;
    return ok();
  },
};

/**
 * MasterDelete: deletes a profile whatever its POL1 says, given a valid token (6982 otherwise).
 * Still never the enabled or the fall-back profile (6985); an ISD-P without Scenario#3 keys has no
 * token (6985).
 */
const MASTER_DELETE: StoreDataFunction = {
  name: 'MasterDelete (3A09) [U coding]',
  spec: 'SGP.02 §4.1.1.x (coding ours)',
  dgi: 0x3a09,
  handle(ctx: CardContext, value: Buffer) {
    const target = requireIsdp(ctx, requireAidTlv(value));
    const token = findTlv(decodeTlvs(value), 0x86);
    if (!token) throw new CardError.IncorrectData('86 token missing');
    checkDeletable(target);
    if (!target.keySet) throw new CardError.ConditionsNotSatisfied(`ISD-P ${target.aid} has no key set to check a token`);
    const expected = masterDeleteToken(staticKeys(target.keySet).dek, target.aid);
    if (token.value.length !== expected.length || !timingSafeEqual(token.value, expected)) {
      throw new CardError.SecurityStatus('MasterDelete token does not verify');
    }
    removeIsdp(ctx, target);
    ctx.emit({ type: 'refresh', reason: 'profile-deleted' });
    return ok();
  },
};

export const ISD_R_POLICY_STORE_DATA: readonly StoreDataFunction[] = [SET_FALLBACK_ATTRIBUTE, UPDATE_POL1, MASTER_DELETE];
