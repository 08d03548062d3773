import { RspError } from '@rsp/errors';

/**
 * Errors raised by @rsp/pki, each with a stable code. Certificate validation throws exactly one of
 * these per failed check, so a caller (and a negative test) can tell which check refused the chain.
 * The service edge maps them to SGP.02 codes (e.g. 8.5.2 / 6.3 invalid ECASD certificate).
 */
export namespace PkiError {
  /** The bytes are not a well-formed certificate / CRL / identifier structure. */
  export class Malformed extends RspError {
    static override readonly code = 'ERR_PKI_MALFORMED';
  }
  /** A signature does not verify over the bytes received. */
  export class SignatureInvalid extends RspError {
    static override readonly code = 'ERR_PKI_SIGNATURE_INVALID';
  }
  export class Expired extends RspError {
    static override readonly code = 'ERR_PKI_EXPIRED';
  }
  export class NotYetValid extends RspError {
    static override readonly code = 'ERR_PKI_NOT_YET_VALID';
  }
  /** basicConstraints missing, not critical, or CA flag wrong for the position in the chain. */
  export class BasicConstraints extends RspError {
    static override readonly code = 'ERR_PKI_BASIC_CONSTRAINTS';
  }
  export class PathLength extends RspError {
    static override readonly code = 'ERR_PKI_PATH_LENGTH';
  }
  export class KeyUsage extends RspError {
    static override readonly code = 'ERR_PKI_KEY_USAGE';
  }
  /** The certificate's GSMA role (policy OID or GP discretionary data) is not the one expected here. */
  export class RoleMismatch extends RspError {
    static override readonly code = 'ERR_PKI_ROLE_MISMATCH';
  }
  /** AuthorityKeyIdentifier of the child does not match the SubjectKeyIdentifier of the issuer. */
  export class KeyIdentifierMismatch extends RspError {
    static override readonly code = 'ERR_PKI_KEY_ID_MISMATCH';
  }
  /** The chain does not end at a trusted CI root. */
  export class UntrustedRoot extends RspError {
    static override readonly code = 'ERR_PKI_UNTRUSTED_ROOT';
  }
  /** The EID is outside the EUM certificate's permittedEins (SGP.22 / SGP.02 EUM constraint). */
  export class EidNotPermitted extends RspError {
    static override readonly code = 'ERR_PKI_EID_NOT_PERMITTED';
  }
  export class Revoked extends RspError {
    static override readonly code = 'ERR_PKI_REVOKED';
  }
  /** A CRL that is badly signed, expired, or from the wrong issuer. */
  export class CrlInvalid extends RspError {
    static override readonly code = 'ERR_PKI_CRL_INVALID';
  }
  export class InvalidEid extends RspError {
    static override readonly code = 'ERR_PKI_INVALID_EID';
  }
  export class InvalidIccid extends RspError {
    static override readonly code = 'ERR_PKI_INVALID_ICCID';
  }
  export class Unsupported extends RspError {
    static override readonly code = 'ERR_PKI_UNSUPPORTED';
  }
}
