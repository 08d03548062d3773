/**
 * SELECT by DF name (ISO/IEC 7816-4 §11.2.2; GP CS v2.3 §11.9):
 *
 *   00 A4 04 P2 Lc AID [Le]      P2 00 (first occurrence, return FCI) or 0C (no response data)
 *
 * Selects the ISD-R, the ECASD, or the USIM ADF of the enabled profile (AID prefix A0000000871002,
 * ETSI TS 101 220 Annex E / TS 31.102 — no enabled profile → 6A82). Any other AID → 6A82 and the
 * previous selection stays (ISO/IEC 7816-4 §7.1.1).
 * A successful SELECT resets the INSTALL [for personalization] target (GP CS §11.5.2.3) and ends the
 * ISD-R secure channel session (GP CS v2.3 §10.2.3 [U]: a session ends when its SD is (re)selected).
 */
import { encodeTlv, type CommandApdu } from '@rsp/tlv';
import { AID } from '@rsp/offcard';
import type { CardApplication, CardContext, CommandHandler } from '../context';
import { ok } from '../dispatcher';
import { CardError } from '@rsp/offcard';
import { enabledIsdp } from '../model';
import { aidHex, isCommand } from './common';

/** 3GPP USIM application RID + application code (ETSI TS 101 220 Annex E). */
export const USIM_AID_PREFIX = 'A0000000871002';
const P1_BY_DF_NAME = 0x04;
const P2_RETURN_FCI = 0x00;
/** ETSI TS 102 221 §11.1.1: UICC terminals (e.g. selecting the USIM) ask for the FCP template. */
const P2_RETURN_FCP = 0x04;
const P2_NO_RESPONSE_DATA = 0x0c;

function resolve(ctx: CardContext, aid: string): CardApplication {
  if (aid === AID.ISD_R) return 'isd-r';
  if (aid === AID.ECASD) return 'ecasd';
  if (aid.startsWith(USIM_AID_PREFIX)) {
    if (!enabledIsdp(ctx.state)?.profile) throw new CardError.FileNotFound('no enabled profile, hence no USIM');
    return 'usim';
  }
  throw new CardError.FileNotFound(`no application ${aid}`);
}

function select(ctx: CardContext, apdu: CommandApdu) {
  if (apdu.p1 !== P1_BY_DF_NAME || ![P2_RETURN_FCI, P2_RETURN_FCP, P2_NO_RESPONSE_DATA].includes(apdu.p2)) {
    throw new CardError.IncorrectP1P2('only SELECT by DF name is supported');
  }
  const aid = aidHex(apdu.data);
  ctx.volatile.selected = resolve(ctx, aid);
  ctx.volatile.personalizationTarget = undefined;
  ctx.volatile.scp03 = undefined;
  // FCI (6F) or FCP (62) template with the DF name only (ISO/IEC 7816-4 §5.3.3, TS 102 221 §11.1.1.3).
  if (apdu.p2 === P2_NO_RESPONSE_DATA) return ok();
  return ok(encodeTlv(apdu.p2 === P2_RETURN_FCP ? 0x62 : 0x6f, encodeTlv(0x84, Buffer.from(aid, 'hex'))));
}

export const SELECT_COMMANDS: CommandHandler[] = [
  {
    name: 'SELECT by AID',
    spec: 'ISO/IEC 7816-4 §11.2.2; GP CS v2.3 §11.9',
    app: 'any',
    secured: false,
    matches: (apdu) => isCommand(apdu, 0x00, 0xa4),
    handle: select,
  },
];
