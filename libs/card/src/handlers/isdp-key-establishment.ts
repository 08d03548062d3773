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
 */
import { cardEstablish, ecdsaVerifyPlain, GP_CURVE_REFERENCE, parseScenario3Crt, type Scenario3Crt } from '@rsp/crypto';
import { isRspError } from '@rsp/errors';
import { PkiError, parseGpCertificate, validateSmCertificate } from '@rsp/pki';
import { children, decodeDgi, decodeSingleTlv, decodeTlvs, encodeTlv, type CommandApdu, type Tlv } from '@rsp/tlv';
import type { CardContext, CommandHandler } from '../context';
import { ok } from '../dispatcher';
import { CardError } from '../errors';
import { ES8_CHALLENGE_LENGTH, ES8_HEADER, ES8_TAG, hasHeader } from '../es8-layout';
import { ISDP_LIFE_CYCLE, type IsdpState, type KeySetState } from '../model';
import { personalizationTarget } from './isdp-personalization';

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

/** TLV parsing errors of received data are 6A80. */
function parsed<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (cause) {
    if (cause instanceof CardError.IncorrectData) throw cause;
    throw new CardError.IncorrectData(`${what}: malformed`, { cause });
  }
}

/**
 * Step 1 (3A01): validates CERT.DP.ECDSA against PK.CI.ECDSA of the ECASD — signature over the received
 * bytes, CA id / AKI, dates, role C8 01 01, key usage, CI CRL — and answers a fresh random challenge.
 */
function receiveCertificate(ctx: CardContext, isdp: IsdpState, value: Buffer): Buffer {
  requireSelectable(isdp);
  ctx.step('key-establishment:certificate');
  let certificate: Buffer;
  try {
    certificate = Buffer.from(
      validateSmCertificate({
        gpCert: value,
        ciDer: Buffer.from(ctx.state.ecasd.ciCertificate, 'hex'),
        expectedRole: 'sm-dp',
        now: ctx.env.now(),
      }).cert.raw,
    );
  } catch (cause) {
    if (cause instanceof PkiError.Malformed) throw new CardError.IncorrectData('3A01: malformed certificate', { cause });
    if (isRspError(cause)) throw new CardError.SecurityStatus(`3A01: CERT.DP.ECDSA refused (${cause.code})`, { cause });
    throw cause;
  }
  const challenge = Buffer.from(ctx.env.random(ES8_CHALLENGE_LENGTH));
  ctx.step('key-establishment:challenge');
  // A new 3A01 replaces any earlier pending one: only the latest challenge can be signed.
  ctx.volatile.isdpSessions.set(isdp.aid, { challenge, offCardCertificate: certificate });
  return encodeTlv(ES8_TAG.CHALLENGE, challenge);
}

interface KeyEstablishmentData {
  crt: Scenario3Crt;
  point: Buffer;
  signature: Buffer;
  /** `3A02 TLV ‖ 7F49 TLV` as received: the signed data without the challenge. */
  signedPrefix: Buffer;
}

/** Splits `3A02 { A6 } ‖ 7F49 { B0, F0 } ‖ 5F37` and checks the curve reference against the ECASD's. */
function parseKeyEstablishment(ctx: CardContext, data: Buffer): KeyEstablishmentData {
  return parsed('3A02', () => {
    const first = readDgi(data);
    if (first.dgi !== ES8_TAG.DGI_KEY_ESTABLISHMENT) throw new CardError.IncorrectData('expected DGI 3A02');
    const crt = parseScenario3Crt(decodeSingleTlv(first.value).raw);
    const rest = decodeTlvs(data.subarray(first.next));
    const [publicKey, signature] = rest as [Tlv | undefined, Tlv | undefined];
    if (rest.length !== 2 || publicKey?.tag !== ES8_TAG.PUBLIC_KEY || signature?.tag !== ES8_TAG.SIGNATURE) {
      throw new CardError.IncorrectData('3A02 must be followed by 7F49 and 5F37 only');
    }
    const items = children(publicKey);
    const point = items.find((t) => t.tag === ES8_TAG.POINT);
    const curve = items.find((t) => t.tag === ES8_TAG.CURVE_REFERENCE);
    if (items.length !== 2 || !point || curve?.value.length !== 1) throw new CardError.IncorrectData('7F49 must hold B0 and F0');
    if (curve.value[0] !== GP_CURVE_REFERENCE[ctx.state.ecasd.curve]) {
      throw new CardError.IncorrectData(`ePK on curve reference ${curve.value[0]}, the ECASD uses ${ctx.state.ecasd.curve}`);
    }
    return {
      crt,
      point: Buffer.from(point.value),
      signature: Buffer.from(signature.value),
      signedPrefix: Buffer.from(data.subarray(0, data.length - signature.raw.length)),
    };
  });
}

/** The CRT's key set as card state: three keys S-ENC / S-MAC / DEK, or one base key for all three [U, njiwa]. */
function keySetOf(crt: Scenario3Crt, keys: Buffer[]): KeySetState {
  const [enc, mac, dek] = keys.map((key) => key.toString('hex'));
  if (enc === undefined) throw new CardError.IncorrectData('no key derived');
  return { kvn: crt.keyVersion, enc, mac: mac ?? enc, dek: dek ?? enc };
}

/**
 * Step 2 (3A02): verifies the SM-DP's signature with PK.DP.ECDSA from the 3A01 certificate, runs ECKA-EG
 * with SK.ECASD.ECKA, stores the derived key set and moves the ISD-P to PERSONALIZED (one draft commit).
 */
function establishKeys(ctx: CardContext, isdp: IsdpState, data: Buffer): Buffer {
  requireSelectable(isdp);
  const session = ctx.volatile.isdpSessions.get(isdp.aid);
  const challenge = session?.challenge;
  if (!session || !challenge || !session.offCardCertificate) {
    throw new CardError.ConditionsNotSatisfied('3A02 without a verified 3A01 (or its challenge was used)');
  }
  const received = parseKeyEstablishment(ctx, data);
  const signed = Buffer.concat([received.signedPrefix, encodeTlv(ES8_TAG.CHALLENGE, challenge)]);
  const smdpKey = parseGpCertificate(session.offCardCertificate).publicKey;
  if (!ecdsaVerifyPlain(smdpKey, signed, received.signature)) {
    throw new CardError.SecurityStatus('3A02: signature by SK.DP.ECDSA does not verify');
  }
  ctx.step('key-establishment:signature-verified');
  const result = parsed('ePK.DP.ECKA / CRT', () =>
    cardEstablish({ ecasdPrivateKey: ctx.env.ecasdPrivateKey(), ePK: received.point, crt: received.crt.tlv, randomDr: ctx.env.random }),
  );
  ctx.step('key-establishment:keys-derived');
  isdp.keySet = keySetOf(received.crt, result.keys);
  isdp.lifeCycle = ISDP_LIFE_CYCLE.PERSONALIZED;
  // The challenge is consumed: a replayed 3A02 finds none (and the ISD-P is no longer SELECTABLE).
  ctx.volatile.isdpSessions.set(isdp.aid, {});
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

