/**
 * The card's side of GP Amd E Scenario#3 shared by ES8.EstablishISDPKeySet (`isdp-key-establishment.ts`,
 * SGP.02 §3.1.2 / §4.1.3.1) and ES5.EstablishISDRKeySet (`isd-r-key-establishment.ts`, SGP.02 §3.8 [U]):
 * the off-card certificate check of 3A01, the split of 3A02 and the derived key set. Only the role of
 * the certificate and the security domain that receives the keys differ between the two.
 */
import { GP_CURVE_REFERENCE, parseScenario3Crt, type Scenario3Crt } from '@rsp/crypto';
import { isRspError } from '@rsp/errors';
import { PkiError, validateSmCertificate } from '@rsp/pki';
import { children, decodeDgi, decodeSingleTlv, decodeTlvs, type Tlv } from '@rsp/tlv';
import type { CardContext } from '../context';
import { CardError } from '../errors';
import { ES8_TAG } from '../es8-layout';
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
 * of the ECASD — signature over the received bytes, CA id / AKI, dates, role, key usage, CI CRL — and
 * returns its bytes. Malformed → 6A80; anything that does not verify → 6982.
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
      }).cert.raw,
    );
  } catch (cause) {
    if (cause instanceof PkiError.Malformed) throw new CardError.IncorrectData('3A01: malformed certificate', { cause });
    if (isRspError(cause)) throw new CardError.SecurityStatus(`3A01: ${name} refused (${cause.code})`, { cause });
    throw cause;
  }
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
