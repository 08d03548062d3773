/**
 * Single-certificate checks for the X.509 part of the SGP.02 PKI (CI and EUM certificates).
 * Each check throws exactly one PkiError subclass, so callers and negative tests can tell which
 * rule refused a certificate. chain.ts composes them into path validation.
 */
import { verify as nodeVerify, type KeyObject } from 'node:crypto';
import { children, decodeSingleTlv } from '@rsp/tlv';
import { eidMatchesPermittedEins, validateEid } from './eid';
import { PkiError } from './errors';
import { OID } from './oids';
import { verifiedOnce } from './parse-cache';
import { EXTENSION_OID, guarded, KEY_USAGE, parseX509Certificate, type ParsedX509 } from './x509-parse';

/**
 * Extensions this lib processes; any other critical one is refused (RFC 5280 §4.2). nameConstraints
 * is not evaluated, so a critical one (SGP.26 variant O EUMs) is refused rather than ignored.
 */
const UNDERSTOOD_EXTENSIONS: ReadonlySet<string> = new Set(
  Object.values(EXTENSION_OID).filter((oid) => oid !== EXTENSION_OID.nameConstraints),
);

/**
 * Verifies the ECDSA-with-SHA256 signature over the tbsCertificate bytes as received
 * (RFC 5280 §4.1.1.3) with the issuer's public key.
 */
export function verifyX509Signature(cert: ParsedX509, issuerPublicKey: KeyObject): void {
  checkSignatureAlgorithm(cert.signatureAlgorithm, cert.tbsSignatureAlgorithm);
  // The CI and EUM certificates are checked on every chain validation: a signature already verified over
  // these exact bytes with this key is not recomputed (verifiedOnce; a failure always throws below).
  verifiedOnce(issuerPublicKey, cert.tbsRaw, cert.signature, () => {
    verifyEcdsaDer(cert.tbsRaw, cert.signature, issuerPublicKey, 'certificate');
    return true;
  });
}

/** RFC 5280 §4.1.1.2 / §4.1.2.3: both algorithm fields must name ecdsa-with-SHA256 (SGP.02 §2.3). */
export function checkSignatureAlgorithm(outer: string, inner: string): void {
  if (outer !== inner) throw new PkiError.Malformed(`signatureAlgorithm ${outer} differs from the TBS field ${inner}`);
  if (outer !== OID.ecdsaWithSha256) throw new PkiError.Unsupported(`signature algorithm ${outer} is not ecdsa-with-SHA256`);
}

/** Verifies a DER ECDSA-Sig-Value over `signed`; any failure is PkiError.SignatureInvalid. */
export function verifyEcdsaDer(signed: Buffer, signature: Buffer, publicKey: KeyObject, what: string): void {
  let ok = false;
  try {
    ok = nodeVerify('sha256', signed, publicKey, signature);
  } catch (cause) {
    throw new PkiError.SignatureInvalid(`${what} signature is malformed`, { cause });
  }
  if (!ok) throw new PkiError.SignatureInvalid(`${what} signature does not verify`);
}

/** notBefore ≤ now ≤ notAfter (RFC 5280 §6.1.3 (a)(2)). */
export function checkValidityPeriod(cert: ParsedX509, now: Date): void {
  checkInstant(now);
  if (now.getTime() < cert.notBefore.getTime()) {
    throw new PkiError.NotYetValid(`certificate is valid from ${cert.notBefore.toISOString()}`);
  }
  if (now.getTime() > cert.notAfter.getTime()) {
    throw new PkiError.Expired(`certificate expired at ${cert.notAfter.toISOString()}`);
  }
}

/** A validation time must be a real instant: an Invalid Date would make every comparison false. */
export function checkInstant(now: Date): void {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new PkiError.Malformed('validation time is not a valid Date');
}

/** Refuses critical extensions this lib does not process (RFC 5280 §4.2). */
export function checkCriticalExtensions(cert: ParsedX509): void {
  for (const extension of cert.extensions.values()) {
    if (extension.critical && !UNDERSTOOD_EXTENSIONS.has(extension.oid)) {
      throw new PkiError.Unsupported(`unrecognised critical extension ${extension.oid}`);
    }
  }
}

/**
 * Checks that `issuer` may sign certificates at its position (RFC 5280 §6.1.4 (k), (l), (n)):
 * basicConstraints present, critical, cA=TRUE; pathLenConstraint ≥ the number of intermediate CA
 * certificates below it; keyUsage with keyCertSign.
 *
 * @param intermediatesBelow - CA certificates between `issuer` and the end of the path, the
 *   final certificate not counted (0 when `issuer` signs the last certificate of the path).
 */
export function checkIssuerConstraints(issuer: ParsedX509, intermediatesBelow: number): void {
  const bc = issuer.basicConstraints;
  if (!bc) throw new PkiError.BasicConstraints('issuer certificate has no basicConstraints');
  if (!bc.critical) throw new PkiError.BasicConstraints('issuer basicConstraints is not critical');
  if (!bc.cA) throw new PkiError.BasicConstraints('issuer certificate is not a CA (cA=FALSE)');
  if (bc.pathLen !== undefined && intermediatesBelow > bc.pathLen) {
    throw new PkiError.PathLength(`pathLenConstraint ${bc.pathLen} allows fewer than ${intermediatesBelow} intermediates`);
  }
  checkKeyUsageBit(issuer, KEY_USAGE.keyCertSign, 'keyCertSign');
}

/** keyUsage present and asserting `bit` (RFC 5280 §4.2.1.3). */
export function checkKeyUsageBit(cert: ParsedX509, bit: number, name: string): void {
  if (!cert.keyUsage) throw new PkiError.KeyUsage(`certificate has no keyUsage (needs ${name})`);
  if ((cert.keyUsage.bits & bit) === 0) throw new PkiError.KeyUsage(`keyUsage lacks ${name}`);
}

/** The certificate carries the GSMA role OID `expected` in certificatePolicies (SGP.22 §4.5.2.1). */
export function checkRole(cert: ParsedX509, expected: string): void {
  if (!cert.policies.includes(expected)) {
    const found = cert.policies.length ? cert.policies.join(', ') : 'none';
    throw new PkiError.RoleMismatch(`expected role policy ${expected}, found ${found}`);
  }
}

/**
 * Links `child` to `issuer`: issuer Name equal to the issuer's subject (RFC 5280 §6.1.3 (a)(4))
 * and AuthorityKeyIdentifier equal to the issuer's SubjectKeyIdentifier (§4.2.1.1).
 */
export function checkIssuedBy(child: ParsedX509, issuer: ParsedX509): void {
  if (!child.issuer.equals(issuer.subject)) {
    throw new PkiError.KeyIdentifierMismatch('issuer name differs from the issuer certificate subject');
  }
  checkKeyIdLink(child.authorityKeyId, issuer);
}

/** AKI present and equal to the issuer's SKI. */
export function checkKeyIdLink(authorityKeyId: Buffer | undefined, issuer: ParsedX509): void {
  if (!issuer.subjectKeyId) throw new PkiError.KeyIdentifierMismatch('issuer certificate has no subjectKeyIdentifier');
  if (!authorityKeyId) throw new PkiError.KeyIdentifierMismatch('certificate has no authorityKeyIdentifier');
  if (!authorityKeyId.equals(issuer.subjectKeyId)) {
    throw new PkiError.KeyIdentifierMismatch('authorityKeyIdentifier does not match the issuer subjectKeyIdentifier');
  }
}

/**
 * The EID prefixes of an EUM certificate's permittedEins extension (OID 2.23.146.1.2.2.0,
 * `SEQUENCE OF PrintableString`); an empty list when the extension is absent.
 */
export function permittedEinsOf(eumCert: ParsedX509 | Uint8Array): string[] {
  const cert = eumCert instanceof Uint8Array ? parseX509Certificate(eumCert) : eumCert;
  const extension = cert.extensions.get(OID.permittedEins);
  if (!extension) return [];
  const sequence = guarded('permittedEins', () => decodeSingleTlv(extension.value));
  if (sequence.tag !== 0x30) throw new PkiError.Malformed('permittedEins is not a SEQUENCE');
  return guarded('permittedEins', () => children(sequence)).map((item) => {
    const text = item.value.toString('latin1');
    if (item.tag !== 0x13 || !/^[0-9]+$/.test(text)) {
      throw new PkiError.Malformed('permittedEins entry is not a PrintableString of digits');
    }
    return text;
  });
}

/**
 * The EID is well formed and starts with one of the EUM's permittedEins prefixes
 * (SGP.22 §4.5.2.1.0.2). An EUM certificate without the extension permits no EID.
 */
export function checkEidPermitted(eid: string, eumCert: ParsedX509): void {
  validateEid(eid);
  const permitted = permittedEinsOf(eumCert);
  if (!eidMatchesPermittedEins(eid, permitted)) {
    throw new PkiError.EidNotPermitted(`EID ${eid} is outside the EUM permittedEins [${permitted.join(', ')}]`);
  }
}
