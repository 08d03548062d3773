/**
 * Roles of GlobalPlatform-format (GP Amd E, tag 7F21) certificates in SGP.02 and how a certificate
 * shows its role: the certificate type `C8` inside the discretionary data `73`, and the key usage `95`.
 *
 * Sources (no SGP.02 / GP Amd E text was readable here, so these are secondary, see SPEC-NOTES.md):
 *  - bagyenda/njiwa `src/io/njiwa/common/ECKeyAgreementEG.java` @3c1dc9e: `C8 01 01` = SM-DP
 *    ("Table 77 of SGP.02 v4.1"), `C8 01 02` = SM-SR ("Table 39 of SGP.02 v4.1"), followed by
 *    `C9 L <authority key id>` ("Table 77 of SGP.02 v4.1"); key usage `0080` = key agreement
 *    ("Table 3-5 of GPC Amd E"); `82` = signature verification ("Table 11-17 of GPC").
 *  - The ECASD certificate (CERT.ECASD.ECKA, signed by the EUM) carries no `C8` in this project [U]:
 *    its role follows from key usage `0080` (ECKA key agreement, SGP.02 §2.3 / GP Amd E).
 */
import { encodeTlv } from '@rsp/tlv';

/** The three kinds of GP-format certificate SGP.02 uses. */
export type GpRole = 'sm-dp' | 'sm-sr' | 'ecasd';

/** Key usage qualifier values (tag 95), encoded on 2 bytes. */
export const GP_KEY_USAGE = {
  /** GP Amd E Table 3-5 (via njiwa): the ECASD ECKA key is for key agreement only. */
  keyAgreement: 0x0080,
  /** GP Card Spec Table 11-17 `82` (verification + digital signature) on 2 bytes [U for the 2-byte form]. */
  signatureVerification: 0x0082,
} as const;

/** Certificate type byte in `C8` (SGP.02 Tables 39 / 77, via njiwa). */
export const GP_CERTIFICATE_TYPE = { 'sm-dp': 0x01, 'sm-sr': 0x02 } as const;

/** Tags inside the discretionary data template `73`. */
export const GP_DISCRETIONARY_TAG = { certificateType: 0xc8, authorityKeyId: 0xc9 } as const;

export interface GpRoleProfile {
  /** `C8` value, absent for the ECASD certificate. */
  readonly certificateType: number | undefined;
  /** Key usage (tag 95) a certificate of this role must carry. */
  readonly keyUsage: number;
}

/** What each role's certificate carries. */
export const GP_ROLE: Readonly<Record<GpRole, GpRoleProfile>> = {
  'sm-dp': { certificateType: GP_CERTIFICATE_TYPE['sm-dp'], keyUsage: GP_KEY_USAGE.signatureVerification },
  'sm-sr': { certificateType: GP_CERTIFICATE_TYPE['sm-sr'], keyUsage: GP_KEY_USAGE.signatureVerification },
  ecasd: { certificateType: undefined, keyUsage: GP_KEY_USAGE.keyAgreement },
};

/**
 * Builds the contents of the discretionary data template `73` for a role:
 * `[C8 01 <type>] ‖ [C9 L <authority key id>]` (SGP.02 Table 77 layout, via njiwa).
 */
export function gpDiscretionaryData(role: GpRole, authorityKeyId?: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  const type = GP_ROLE[role].certificateType;
  if (type !== undefined) parts.push(encodeTlv(GP_DISCRETIONARY_TAG.certificateType, Buffer.of(type)));
  if (authorityKeyId !== undefined) parts.push(encodeTlv(GP_DISCRETIONARY_TAG.authorityKeyId, authorityKeyId));
  return Buffer.concat(parts);
}

/** The parts of a parsed certificate that decide its role. */
export interface GpRoleEvidence {
  /** Value of `C8` inside `73`, if present. */
  readonly certificateType: number | undefined;
  readonly keyUsage: number;
}

/**
 * The role a GP certificate claims: `C8 01 01` → SM-DP, `C8 01 02` → SM-SR, no `C8` with key usage
 * `0080` → ECASD. Anything else has no recognised role (undefined).
 */
export function roleOfGpCertificate(cert: GpRoleEvidence): GpRole | undefined {
  if (cert.certificateType === GP_CERTIFICATE_TYPE['sm-dp']) return 'sm-dp';
  if (cert.certificateType === GP_CERTIFICATE_TYPE['sm-sr']) return 'sm-sr';
  if (cert.certificateType === undefined && cert.keyUsage === GP_KEY_USAGE.keyAgreement) return 'ecasd';
  return undefined;
}
