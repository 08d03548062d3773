/**
 * INSTALL [for personalization] addressed to the ISD-R: names the ISD-P that receives the following
 * STORE DATA commands of ES8 (GP Card Spec v2.3 §11.5.2.3; SGP.02 §4.1.3.1 EstablishISDPKeySet step 1).
 *
 * The target stays in volatile state until the next INSTALL [for personalization] or a power cycle:
 * the SM-DP sends 3A02 (and later the SCP03t download) in separate ES5 scripts without repeating the
 * INSTALL (njiwa DownloadProfileTransaction), so it must outlive one script.
 */
import type { CardContext, CommandHandler } from '../context';
import { ok } from '../dispatcher';
import { CardError } from '@rsp/offcard';
import { ES8_HEADER, hasHeader } from '@rsp/offcard';
import { findIsdp, ISDP_LIFE_CYCLE, type IsdpLifeCycle, type IsdpState } from '../model';

/** Life-cycle states in which an ISD-P accepts ES8 personalization (key establishment, then download). */
const PERSONALIZABLE: ReadonlySet<IsdpLifeCycle> = new Set([ISDP_LIFE_CYCLE.SELECTABLE, ISDP_LIFE_CYCLE.PERSONALIZED]);

/**
 * Parses the INSTALL [for personalization] data field (GP CS Table 11-44 as SGP.02 uses it):
 * `00` (no load file AID) ‖ `00` (no module AID) ‖ LV(application AID) ‖ `00` (privileges) ‖
 * `00` (parameters) ‖ `00` (token). Returns the AID in upper-case hex; anything else is 6A80.
 */
export function parseInstallForPersonalization(data: Buffer): string {
  const fields: Buffer[] = [];
  let offset = 0;
  while (offset < data.length) {
    const length = data[offset] as number;
    const end = offset + 1 + length;
    if (end > data.length) throw new CardError.IncorrectData('INSTALL [for personalization]: truncated LV');
    fields.push(data.subarray(offset + 1, end));
    offset = end;
  }
  const [loadFile, module, aid, privileges, parameters, token] = fields;
  if (fields.length !== 6 || !aid || aid.length < 5 || aid.length > 16) {
    throw new CardError.IncorrectData('INSTALL [for personalization]: expected 00 00 LV(AID) 00 00 00');
  }
  if ([loadFile, module, privileges, parameters, token].some((field) => field?.length !== 0)) {
    throw new CardError.IncorrectData('INSTALL [for personalization]: only the application AID may be present');
  }
  return aid.toString('hex').toUpperCase();
}

/**
 * The ISD-P addressed by the last INSTALL [for personalization], from the draft state. No target, or a
 * target that no longer exists → 6985 (conditions of use: GP CS §11.11.3.2).
 */
export function personalizationTarget(ctx: CardContext): IsdpState {
  const aid = ctx.volatile.personalizationTarget;
  const isdp = aid === undefined ? undefined : findIsdp(ctx.state, aid);
  if (!isdp) throw new CardError.ConditionsNotSatisfied('STORE DATA without a personalization target');
  return isdp;
}

/**
 * `80 E6 20 00 Lc 00 00 LV(ISD-P AID) 00 00 00` → 9000 and the ISD-P becomes the personalization target.
 * Unknown ISD-P (or an AID that is not an ISD-P) → 6A88; an ISD-P already DISABLED / ENABLED → 6985.
 */
export const installForPersonalization: CommandHandler = {
  name: 'ISD-R INSTALL [for personalization] (ES8 target ISD-P)',
  spec: 'GP CS v2.3 §11.5.2.3; SGP.02 §4.1.3.1',
  app: 'isd-r',
  secured: true,
  matches: (apdu) => hasHeader(apdu, ES8_HEADER.INSTALL_FOR_PERSONALIZATION),
  handle(ctx, apdu) {
    const aid = parseInstallForPersonalization(apdu.data);
    const isdp = findIsdp(ctx.state, aid);
    if (!isdp) throw new CardError.ReferencedDataNotFound(`no ISD-P ${aid}`);
    if (!PERSONALIZABLE.has(isdp.lifeCycle)) {
      throw new CardError.ConditionsNotSatisfied(`ISD-P ${aid} is in state ${isdp.lifeCycle.toString(16)}, not personalizable`);
    }
    ctx.volatile.personalizationTarget = isdp.aid;
    return ok();
  },
};

export const ISDP_PERSONALIZATION_COMMANDS: CommandHandler[] = [installForPersonalization];
