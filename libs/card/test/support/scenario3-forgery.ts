/**
 * Test helper: 3A02 commands built by hand so exactly one thing is wrong while everything else — the
 * signature over `3A02 TLV ‖ 7F49 TLV ‖ 85 L RC` included — is what a genuine off-card entity sends.
 */
import type { KeyObject } from 'node:crypto';
import { buildScenario3Crt, ecdsaSignPlain, exportRawPublicKey, generateEcKeyPair, GP_CURVE_REFERENCE, type CurveName } from '@rsp/crypto';
import { encodeDgi, encodeTlv, type CommandApdu } from '@rsp/tlv';
import { DEFAULT_ISDP_CRT, ES8_HEADER } from '@rsp/offcard';

/** What is wrong with the 3A02, and the status word the card answers it with. */
export const FORGERIES = {
  /** Signed by a key other than the one in the 3A01 certificate. */
  'bad signature': 0x6982,
  /** 7F49's F0 names a curve other than the ECASD's. */
  'wrong curve byte': 0x6a80,
  /** The 5F37 TLV is cut short. */
  malformed: 0x6a80,
  /** The CRT asks for scenario 2 instead of 3. */
  'bad CRT': 0x6a80,
  /** ePK is not a point of the curve (found only after the signature verified). */
  'point off the curve': 0x6a80,
} as const;
export type Forgery = keyof typeof FORGERIES;

export interface ForgeryInput {
  forgery: Forgery;
  challenge: Buffer;
  /** The key of the certificate the card accepted in 3A01. */
  signer: KeyObject;
  /** Any other key, for the bad signature. */
  otherSigner: KeyObject;
  curve: CurveName;
  keyVersion?: number;
}

const SCENARIO_TAG_AND_3 = Buffer.of(0x90, 0x02, 0x03);

export function forgedStep2(input: ForgeryInput): CommandApdu {
  const crt = buildScenario3Crt({ ...DEFAULT_ISDP_CRT, keyVersion: input.keyVersion ?? DEFAULT_ISDP_CRT.keyVersion });
  if (input.forgery === 'bad CRT') crt[crt.indexOf(SCENARIO_TAG_AND_3) + 2] = 0x02;
  const otherCurve: CurveName = input.curve === 'P-256' ? 'brainpoolP256r1' : 'P-256';
  const curveReference = GP_CURVE_REFERENCE[input.forgery === 'wrong curve byte' ? otherCurve : input.curve];
  const point =
    input.forgery === 'point off the curve'
      ? Buffer.concat([Buffer.of(0x04), Buffer.alloc(64, 0x11)])
      : exportRawPublicKey(generateEcKeyPair(input.curve).publicKey);
  const keyEstablishment = encodeDgi(0x3a02, crt);
  const publicKey = encodeTlv(0x7f49, encodeTlv(0xb0, point), encodeTlv(0xf0, Buffer.of(curveReference)));
  const signer = input.forgery === 'bad signature' ? input.otherSigner : input.signer;
  const signature = encodeTlv(0x5f37, ecdsaSignPlain(signer, Buffer.concat([keyEstablishment, publicKey, encodeTlv(0x85, input.challenge)])));
  const tail = input.forgery === 'malformed' ? signature.subarray(0, signature.length - 3) : signature;
  return { ...ES8_HEADER.STORE_DATA_KEY_ESTABLISHMENT, data: Buffer.concat([keyEstablishment, publicKey, tail]) };
}
