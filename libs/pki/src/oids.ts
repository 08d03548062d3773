/**
 * GSMA RSP object identifiers (SGP.22 §A / SGP.26), used here for the X.509 role policies of SGP.02
 * test certificates.
 *   id-rsp        OBJECT IDENTIFIER ::= { joint-iso-itu-t(2) international-organizations(23) gsma(146) rsp(1) }
 *   id-rspExt     OBJECT IDENTIFIER ::= { id-rsp 2 }
 *   id-rspRole    OBJECT IDENTIFIER ::= { id-rspExt 1 }
 *   id-rspPermittedEins OBJECT IDENTIFIER ::= { id-rspExt 2 0 }   -- 2.23.146.1.2.2.0
 */
export const OID = {
  rspRole: '2.23.146.1.2.1',
  roleCi: '2.23.146.1.2.1.0',
  roleEuicc: '2.23.146.1.2.1.1',
  roleEum: '2.23.146.1.2.1.2',
  roleDpTls: '2.23.146.1.2.1.3',
  roleDpAuth: '2.23.146.1.2.1.4',
  roleDpPb: '2.23.146.1.2.1.5',
  roleDsTls: '2.23.146.1.2.1.6',
  roleDsAuth: '2.23.146.1.2.1.7',
  /** X.509 extension restricting the EIDs an EUM may certify (SGP.22 §4.5.2.1.0.2). */
  permittedEins: '2.23.146.1.2.2.0',
  certificatePolicies: '2.5.29.32',
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  brainpoolP256r1: '1.3.36.3.3.2.8.1.1.7',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
} as const;
