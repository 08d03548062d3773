/**
 * ES8.EstablishISDPKeySet on the card: GP Amd E Scenario#3 with certificate verification (mutual
 * authentication), SGP.02 §3.1.2 / §4.1.3.1, as two STORE DATA commands to the personalization target.
 *
 * ```
 * 80 E2 09 00  3A01 L { 7F21 CERT.DP.ECDSA }                      → 85 L RC
 * 80 E2 89 01  3A02 L { A6 CRT } ‖ 7F49 L { B0 41 04‖X‖Y, F0 01 ref } ‖ 5F37 40 <r‖s>
 *                                                                  → 85 L DR ‖ 86 10 receipt
 * ```
 * - 3A01 / 3A02 are DGIs (P1 b5-b4 = 01: DGI format, GP CS §11.11.2.2): 1-byte length up to 254, else
 *   FF + 2 bytes. njiwa writes BER lengths instead [U which one SGP.02 wants; they agree below 128].
 * - 3A02 wraps only the CRT; 7F49 and 5F37 follow it at top level (njiwa `isdKeySetEstablishmentSendKeyParams`,
 *   "Table 81 of SGP.02 v3.1") [U: no SGP.02 text was readable].
 * - The signature covers `3A02 TLV ‖ 7F49 TLV ‖ 85 L RC` exactly as received (njiwa, minus its leading
 *   00 byte and its signing with the ephemeral key, both taken for bugs) [U].
 * - Status words [U]: certificate or signature that does not verify → 6982 (security status, as the
 *   project maps every authentication failure); malformed data, wrong curve, bad point, bad CRT → 6A80;
 *   wrong order / state → 6985. GP CS Table 11-88 lists only 6A80 / 6A84 / 6A88 for STORE DATA.
 * - The challenge is single-use: any 3A02, accepted or refused, consumes it, and any 3A01 replaces it
 *   (`consumeChallenge` in scenario3-card.ts).
 */
import { decodeDgi, encodeTlv, type CommandApdu } from '@rsp/tlv';
import type { CardContext, CommandHandler, IsdpSession } from '../context';
import { ok } from '../dispatcher';
import { CardError } from '@rsp/offcard';
import { ES8_CHALLENGE_LENGTH, ES8_HEADER, ES8_TAG, hasHeader } from '@rsp/offcard';
import { ISDP_LIFE_CYCLE, type IsdpState } from '../model';
import { personalizationTarget } from './isdp-personalization';
import { agreeScenario3Keys, consumeChallenge, keySetOf, validateOffCardCertificate, verifyKeyEstablishment } from './scenario3-card';

/**
 * One DGI read from `data` at `offset` (GP CS §11.11.2.2 lengths). A malformed one is a TlvError,
 * which the dispatcher answers with 6A80.
 */
export const readDgi = decodeDgi;

/** The ISD-P must still be SELECTABLE: keys are established once (SGP.02 §3.1.2). */
function requireSelectable(isdp: IsdpState): void {
  if (isdp.lifeCycle !== ISDP_LIFE_CYCLE.SELECTABLE) {
    throw new CardError.ConditionsNotSatisfied(`ISD-P ${isdp.aid} already has its key set`);
  }
}

/** The ISD-P's volatile session without the pending 3A01 result (SCP03t state, if any, stays). */
function withoutChallenge(session: IsdpSession | undefined): IsdpSession {
  const { challenge: _challenge, offCardCertificate: _certificate, ...rest } = session ?? {};
  return rest;
}

/**
 * Step 1 (3A01): validates CERT.DP.ECDSA against PK.CI.ECDSA of the ECASD — signature over the received
 * bytes, CA id / AKI, dates, role C8 01 01, key usage (no CRL on the card: `validateOffCardCertificate`)
 * — and answers a fresh random challenge.
 */
function receiveCertificate(ctx: CardContext, isdp: IsdpState, value: Buffer): Buffer {
  // A new 3A01 ends any pending attempt, even when it is refused below.
  ctx.volatile.isdpSessions.set(isdp.aid, withoutChallenge(ctx.volatile.isdpSessions.get(isdp.aid)));
  requireSelectable(isdp);
  ctx.step('key-establishment:certificate');
  const certificate = validateOffCardCertificate(ctx, value, 'sm-dp');
  const challenge = Buffer.from(ctx.env.random(ES8_CHALLENGE_LENGTH));
  ctx.step('key-establishment:challenge');
  // A new 3A01 replaces any earlier pending one: only the latest challenge can be signed.
  ctx.volatile.isdpSessions.set(isdp.aid, { challenge, offCardCertificate: certificate });
  return encodeTlv(ES8_TAG.CHALLENGE, challenge);
}

/**
 * Step 2 (3A02): verifies the SM-DP's signature with PK.DP.ECDSA from the 3A01 certificate, runs ECKA-EG
 * with SK.ECASD.ECKA, stores the derived key set and moves the ISD-P to PERSONALIZED (one draft commit).
 */
function establishKeys(ctx: CardContext, isdp: IsdpState, data: Buffer): Buffer {
  const sessions = ctx.volatile.isdpSessions;
  const session = sessions.get(isdp.aid);
  const pending = consumeChallenge(session, () => sessions.set(isdp.aid, withoutChallenge(session)));
  requireSelectable(isdp);
  const received = verifyKeyEstablishment(ctx, pending, data, 'SK.DP.ECDSA');
  ctx.step('key-establishment:signature-verified');
  const result = agreeScenario3Keys(ctx, received, 'ePK.DP.ECKA / CRT');
  ctx.step('key-establishment:keys-derived');
  isdp.keySet = keySetOf(received.crt, result.keys);
  isdp.lifeCycle = ISDP_LIFE_CYCLE.PERSONALIZED;
  return result.response;
}

/** Both STORE DATA blocks of EstablishISDPKeySet, routed by header (SGP.02 §4.1.3.1 / SPEC-NOTES). */
export const storeDataKeyEstablishment: CommandHandler = {
  name: 'ISD-P STORE DATA 3A01/3A02 (ES8 EstablishISDPKeySet)',
  spec: 'SGP.02 §3.1.2, §4.1.3.1; GP Amd E Scenario#3; GP CS §11.11',
  app: 'isd-r',
  secured: true,
  matches: (apdu: CommandApdu) =>
    hasHeader(apdu, ES8_HEADER.STORE_DATA_CERTIFICATE) || hasHeader(apdu, ES8_HEADER.STORE_DATA_KEY_ESTABLISHMENT),
  handle(ctx, apdu) {
    const isdp = personalizationTarget(ctx);
    if (apdu.p1 === ES8_HEADER.STORE_DATA_CERTIFICATE.p1) {
      const dgi = readDgi(apdu.data);
      if (dgi.dgi !== ES8_TAG.DGI_CERTIFICATE || dgi.next !== apdu.data.length) {
        throw new CardError.IncorrectData('expected exactly one DGI 3A01');
      }
      return ok(receiveCertificate(ctx, isdp, dgi.value));
    }
    return ok(establishKeys(ctx, isdp, apdu.data));
  },
};

export const ISDP_KEY_ESTABLISHMENT_COMMANDS: CommandHandler[] = [storeDataKeyEstablishment];

