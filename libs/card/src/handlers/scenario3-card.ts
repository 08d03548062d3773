/**
 * The card's side of GP Amd E Scenario#3 shared by ES8.EstablishISDPKeySet (`isdp-key-establishment.ts`,
 * SGP.02 §3.1.2 / §4.1.3.1) and ES5.EstablishISDRKeySet (`isd-r-key-establishment.ts`, SGP.02 §3.8 [U]):
 * the off-card certificate check of 3A01, the single-use challenge, the split and signature check of 3A02
 * and the derived key set. Only the role of the certificate and the security domain that receives the
 * keys differ between the two.
 */
import { cardEstablish, ecdsaVerifyPlain, GP_CURVE_REFERENCE, parseScenario3Crt, type CardScenario3Result, type Scenario3Crt } from '@rsp/crypto';
import { isRspError } from '@rsp/errors';
import { parseGpCertificate, PkiError, validateSmCertificate } from '@rsp/pki';
import { children, decodeDgi, decodeSingleTlv, decodeTlvs, encodeTlv, type Tlv } from '@rsp/tlv';
import type { CardContext } from '../context';
import { CardError } from '@rsp/offcard';
import { ES8_TAG } from '@rsp/offcard';
import type { KeySetState } from '../model';

/** TLV parsing errors of received data are 6A80 (a CardError from inside keeps its status word). */
export function parsed<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (cause) {
    if (cause instanceof CardError.IncorrectData) throw cause;
    throw new CardError.IncorrectData(`${what}: malformed`, { cause });
  }
}

/**
 * 3A01: validates the off-card entity's certificate (CERT.DP.ECDSA or CERT.SR.ECDSA) against PK.CI.ECDSA
 * of the ECASD — signature over the received bytes, CA id / AKI, dates, role, key usage — and returns its
 * bytes. Malformed → 6A80; anything that does not verify → 6982.
 *
 * No revocation check, on purpose: the SGP.02 ECASD holds PK.CI.ECDSA but no CRL (SGP.02 §2.2.1.3 [U
 * numbering]), and SGP.02 has no ES5 / ES8 function that would load or refresh one (SGP.22's optional
 * ES10b.LoadCRL has no M2M counterpart). Revocation of SM-DP / SM-SR certificates is the off-card actors'
 * business (CI CRLs checked by the SM-SR, MNO, EUM) [U: no SGP.02 text on card-side revocation readable].
 * A card that claimed a CRL check it cannot make would only hide that gap.
 */
export function validateOffCardCertificate(ctx: CardContext, value: Buffer, role: 'sm-dp' | 'sm-sr'): Buffer {
  const name = role === 'sm-dp' ? 'CERT.DP.ECDSA' : 'CERT.SR.ECDSA';
  try {
    return Buffer.from(
      validateSmCertificate({
        gpCert: value,
        ciDer: Buffer.from(ctx.state.ecasd.ciCertificate, 'hex'),
        expectedRole: role,
        now: ctx.env.now(),
        crls: [], // the card holds none: see above
      }).cert.raw,
    );
  } catch (cause) {
    if (cause instanceof PkiError.Malformed) throw new CardError.IncorrectData('3A01: malformed certificate', { cause });
    if (isRspError(cause)) throw new CardError.SecurityStatus(`3A01: ${name} refused (${cause.code})`, { cause });
    throw cause;
  }
}

/** What an accepted 3A01 leaves in volatile memory for the 3A02. */
export interface PendingKeyEstablishment {
  challenge: Buffer;
  /** The verified CERT.DP.ECDSA / CERT.SR.ECDSA (7F21). */
  offCardCertificate: Buffer;
}

/**
 * The challenge is single-use (GP Amd E Scenario#3 with certificate verification; SGP.02 §3.1.2 /
 * §4.1.3.1, one signature per 3A01 challenge): the caller `burn`s the pending 3A01 result before the 3A02
 * is even parsed, so ANY refused 3A02 (bad signature, wrong curve byte, malformed, bad CRT, point off the
 * curve) uses it up and a correct 3A02 afterwards gets 6985 until a new 3A01 yields a new challenge.
 * Otherwise one challenge would allow unlimited tries against the card's signature check.
 */
export function consumeChallenge(pending: Partial<PendingKeyEstablishment> | undefined, burn: () => void): PendingKeyEstablishment {
  burn();
  if (!pending?.challenge || !pending.offCardCertificate) {
    throw new CardError.ConditionsNotSatisfied('3A02 without a verified 3A01 (or its challenge was used)');
  }
  return { challenge: pending.challenge, offCardCertificate: pending.offCardCertificate };
}

export interface KeyEstablishmentData {
  crt: Scenario3Crt;
  point: Buffer;
  signature: Buffer;
  /** `3A02 TLV ‖ 7F49 TLV` as received: the signed data without the challenge. */
  signedPrefix: Buffer;
}

/** Splits `3A02 { A6 } ‖ 7F49 { B0, F0 } ‖ 5F37` and checks the curve reference against the ECASD's. */
export function parseKeyEstablishment(ctx: CardContext, data: Buffer): KeyEstablishmentData {
  return parsed('3A02', () => {
    const first = decodeDgi(data);
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
export function keySetOf(crt: Scenario3Crt, keys: Buffer[]): KeySetState {
  const [enc, mac, dek] = keys.map((key) => key.toString('hex'));
  if (enc === undefined) throw new CardError.IncorrectData('no key derived');
  return { kvn: crt.keyVersion, enc, mac: mac ?? enc, dek: dek ?? enc };
}

/**
 * 3A02 against a consumed challenge: parses it, then verifies the off-card entity's signature with the
 * key of its 3A01 certificate over `3A02 TLV ‖ 7F49 TLV ‖ 85 L RC` as received → 6982 when it fails.
 */
export function verifyKeyEstablishment(ctx: CardContext, pending: PendingKeyEstablishment, data: Buffer, signer: string): KeyEstablishmentData {
  const received = parseKeyEstablishment(ctx, data);
  const signed = Buffer.concat([received.signedPrefix, encodeTlv(ES8_TAG.CHALLENGE, pending.challenge)]);
  if (!ecdsaVerifyPlain(parseGpCertificate(pending.offCardCertificate).publicKey, signed, received.signature)) {
    throw new CardError.SecurityStatus(`3A02: signature by ${signer} does not verify`);
  }
  return received;
}

/** ECKA-EG with SK.ECASD.ECKA on the verified 3A02: keys, DR and receipt; a bad point or CRT → 6A80. */
export function agreeScenario3Keys(ctx: CardContext, received: KeyEstablishmentData, what: string): CardScenario3Result {
  return parsed(what, () =>
    cardEstablish({ ecasdPrivateKey: ctx.env.ecasdKeyAgreement(), ePK: received.point, crt: received.crt.tlv, randomDr: ctx.env.random }),
  );
}
