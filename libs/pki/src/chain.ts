/**
 * Certificate path validation for SGP.02 (§2.3; path rules of RFC 5280 §6.1 as the GSMA RSP PKI
 * applies them, SGP.22 §4.5.2):
 *
 *   CI (X.509, self-signed, role 2.23.146.1.2.1.0)
 *   ├── EUM (X.509, role 2.23.146.1.2.1.2, permittedEins) ── CERT.ECASD.ECKA (GP 7F21)
 *   ├── CERT.DP.ECDSA (GP 7F21, C8 01 01)
 *   └── CERT.SR.ECDSA (GP 7F21, C8 01 02)
 *
 * The trust anchor is the configured CI certificate. Every check throws its own PkiError.
 */
import type { KeyObject } from 'node:crypto';
import { checkNotRevoked, toParsedCrls, type ParsedCrl } from './crl';
import { validateEid } from './eid';
import { PkiError } from './errors';
import { parseGpCertificate, verifyGpCertificate, type GpCertificate } from './gp-certificate';
import type { GpRole } from './gp-roles';
import { OID } from './oids';
import { parseX509Certificate, type ParsedX509 } from './x509-parse';
import {
  checkCriticalExtensions,
  checkEidPermitted,
  checkIssuedBy,
  checkIssuerConstraints,
  checkKeyIdLink,
  checkRole,
  checkValidityPeriod,
  permittedEinsOf,
  verifyX509Signature,
} from './x509-validate';

/** CRLs as DER bytes or already parsed. */
export type CrlInput = Uint8Array | ParsedCrl;

export interface TrustOptions {
  /** The configured CI certificate (DER): the only trust anchor. */
  ciDer: Uint8Array;
  /** CRLs of the CI and/or the EUM; a CRL of an issuer on the path must be valid or the path fails. */
  crls?: readonly CrlInput[];
  /** Validation time (injected, no hidden clock). */
  now: Date;
}

/**
 * Checks the configured CI certificate itself: self-issued (subject = issuer, AKI if present = SKI),
 * self-signature over the received TBS, validity, CA constraints and the CI role policy.
 */
export function validateCiCertificate(ciDer: Uint8Array, now: Date): ParsedX509 {
  const ci = parseX509Certificate(ciDer);
  checkCriticalExtensions(ci);
  if (!ci.issuer.equals(ci.subject)) throw new PkiError.UntrustedRoot('CI certificate is not self-issued');
  if (!ci.subjectKeyId) throw new PkiError.KeyIdentifierMismatch('CI certificate has no subjectKeyIdentifier');
  if (ci.authorityKeyId) checkKeyIdLink(ci.authorityKeyId, ci);
  verifyX509Signature(ci, ci.publicKey);
  checkValidityPeriod(ci, now);
  checkIssuerConstraints(ci, 0);
  checkRole(ci, OID.roleCi);
  return ci;
}

export interface ValidatedEum {
  ci: ParsedX509;
  eum: ParsedX509;
  /** EID prefixes the EUM may certify. */
  permittedEins: string[];
}

/**
 * Validates an EUM certificate against the configured CI (SGP.02 §2.3; SGP.22 §4.5.2.1.0.2):
 * issued by the CI (name + AKI/SKI, else UntrustedRoot), CI signature over the received TBS,
 * validity, the CI's CA constraints (cA, keyCertSign, pathLen), EUM role policy, the EUM's own CA
 * constraints (it signs eUICC certificates), not revoked by a CI CRL.
 */
export function validateEumCertificate(eumDer: Uint8Array, options: TrustOptions): ValidatedEum {
  return validateEumAt(eumDer, options, 0);
}

/**
 * The EUM checks with the EUM at a position where `below` intermediate CA certificates follow the CI
 * (0 for the EUM alone, 1 when the EUM signs a further certificate, so the CI's pathLen counts it).
 */
function validateEumAt(eumDer: Uint8Array, options: TrustOptions, below: number): ValidatedEum {
  const ci = validateCiCertificate(options.ciDer, options.now);
  const eum = parseX509Certificate(eumDer);
  if (eum.raw.equals(ci.raw)) throw new PkiError.RoleMismatch('the CI certificate was given as the EUM certificate');
  const crls = toParsedCrls(options.crls);
  checkAnchoredAt(eum, ci);
  validateLink(eum, ci, { now: options.now, crls, intermediatesBelowIssuer: below });
  checkRole(eum, OID.roleEum);
  // The EUM signs eUICC certificates, so it is a CA position: cA, keyCertSign (pathLen 0 suffices).
  checkIssuerConstraints(eum, 0);
  return { ci, eum, permittedEins: permittedEinsOf(eum) };
}

/**
 * Validates an X.509 path given leaf first (e.g. `[tlsLeaf, tlsCa]`, or `[eum]`), optionally ending
 * with the CI itself, which must then be byte-identical to the configured CI (else UntrustedRoot).
 * `expectedRoles[i]` is the role policy OID required of `chain[i]` (undefined: no role check).
 */
export function validateX509Chain(
  chainDer: readonly Uint8Array[],
  options: TrustOptions & { expectedRoles?: ReadonlyArray<string | undefined> },
): ParsedX509[] {
  const ci = validateCiCertificate(options.ciDer, options.now);
  const parsed = chainDer.map((der) => parseX509Certificate(der));
  const last = parsed[parsed.length - 1];
  if (last && last.issuer.equals(last.subject)) {
    if (!last.raw.equals(ci.raw)) throw new PkiError.UntrustedRoot('chain ends in a root that is not the configured CI');
    parsed.pop();
  }
  if (parsed.length === 0) throw new PkiError.Malformed('empty certificate chain');
  const crls = toParsedCrls(options.crls);
  checkAnchoredAt(parsed[parsed.length - 1] as ParsedX509, ci);
  parsed.forEach((cert, index) => {
    const issuer = parsed[index + 1] ?? ci;
    validateLink(cert, issuer, { now: options.now, crls, intermediatesBelowIssuer: index });
    const role = options.expectedRoles?.[index];
    if (role !== undefined) checkRole(cert, role);
  });
  return parsed;
}

export interface EcasdChainInput {
  /** CERT.ECASD.ECKA, GP format (7F21), as received. */
  ecasdCert: Uint8Array;
  /** The EUM certificate (X.509 DER). */
  eumDer: Uint8Array;
  ciDer: Uint8Array;
  crls?: readonly CrlInput[];
  now: Date;
  /** The EID the eUICC claims (EIS / GET DATA 5A); must be inside the EUM's permittedEins. */
  eid: string;
}

export interface ValidatedEcasd extends ValidatedEum {
  ecasd: GpCertificate;
  /** PK.ECASD.ECKA, ready for ECKA (SGP.02 §3.1.2 Scenario#3); imported when first read (not enumerable). */
  publicKey: KeyObject;
}

/**
 * Validates CERT.ECASD.ECKA up to the CI (SGP.02 §2.3 / §3.1.2): the EUM as above (with the CI's
 * pathLen counting the EUM as an intermediate), the EUM allowed to sign (cA, keyCertSign, pathLen 0
 * suffices), the GP certificate via pki-gp's verifyGpCertificate (signature over the received bytes,
 * 42/C9 = EUM SKI, dates, role ecasd, key usage), the EID within permittedEins, and the ECASD serial
 * (tag 93) not listed on a CRL of the EUM.
 */
export function validateEcasdChain(input: EcasdChainInput): ValidatedEcasd {
  validateEid(input.eid);
  const trust = { ciDer: input.ciDer, now: input.now, ...(input.crls ? { crls: input.crls } : {}) };
  const validated = validateEumAt(input.eumDer, trust, 1);
  const { eum } = validated;
  const ecasd = parseGpCertificate(input.ecasdCert);
  if (ecasd.curve !== eum.curve) throw new PkiError.Unsupported('ECASD certificate curve differs from the EUM curve');
  verifyGpCertificate(ecasd, gpIssuerOf(eum), { now: input.now, expectedRole: 'ecasd' });
  checkEidPermitted(input.eid, eum);
  checkNotRevoked(ecasd.serialNumber, eum, toParsedCrls(input.crls), input.now);
  // PK.ECASD.ECKA as a KeyObject only when read: the SM-DP's Scenario#3 takes the checked point
  // (`ecasd.publicPoint`), and OpenSSL's import costs 110–160 µs (withLazyPublicKey).
  return Object.defineProperty({ ...validated, ecasd }, 'publicKey', { enumerable: false, get: () => ecasd.publicKey }) as ValidatedEcasd;
}

export interface SmCertificateInput {
  /** CERT.DP.ECDSA or CERT.SR.ECDSA, GP format (7F21), as received. */
  gpCert: Uint8Array;
  ciDer: Uint8Array;
  expectedRole: Extract<GpRole, 'sm-dp' | 'sm-sr'>;
  crls?: readonly CrlInput[];
  now: Date;
}

/**
 * Validates CERT.DP.ECDSA / CERT.SR.ECDSA against the CI (SGP.02 §2.3; what the ISD-P / ISD-R does on
 * 3A01): the CI as trust anchor, pki-gp's verifyGpCertificate with the CI key and SKI and the expected
 * role, and the serial (tag 93) not on a CI CRL.
 */
export function validateSmCertificate(input: SmCertificateInput): { ci: ParsedX509; cert: GpCertificate } {
  const ci = validateCiCertificate(input.ciDer, input.now);
  const cert = parseGpCertificate(input.gpCert);
  if (cert.curve !== ci.curve) throw new PkiError.Unsupported('certificate curve differs from the CI curve');
  verifyGpCertificate(cert, gpIssuerOf(ci), { now: input.now, expectedRole: input.expectedRole });
  checkNotRevoked(cert.serialNumber, ci, toParsedCrls(input.crls), input.now);
  return { ci, cert };
}

/** The GP view of an X.509 issuer: its key and its SKI (the `42` / `C9` value). */
function gpIssuerOf(cert: ParsedX509): { publicKey: KeyObject; subjectKeyId: Buffer } {
  if (!cert.subjectKeyId) throw new PkiError.KeyIdentifierMismatch('issuer certificate has no subjectKeyIdentifier');
  return { publicKey: cert.publicKey, subjectKeyId: cert.subjectKeyId };
}

/**
 * The top certificate of the received path must name the configured CI: same issuer Name or same
 * AKI. A certificate from another CI is UntrustedRoot; a partial match (name but not key id) is left
 * to validateLink, which reports the precise mismatch.
 */
function checkAnchoredAt(top: ParsedX509, ci: ParsedX509): void {
  const sameName = top.issuer.equals(ci.subject);
  const sameKeyId = !!top.authorityKeyId && !!ci.subjectKeyId && top.authorityKeyId.equals(ci.subjectKeyId);
  if (!sameName && !sameKeyId) throw new PkiError.UntrustedRoot('certificate is not issued by the configured CI');
}

/** One link child ← issuer (RFC 5280 §6.1.3 / §6.1.4). */
function validateLink(
  cert: ParsedX509,
  issuer: ParsedX509,
  context: { now: Date; crls: readonly ParsedCrl[]; intermediatesBelowIssuer: number },
): void {
  checkCriticalExtensions(cert);
  checkIssuedBy(cert, issuer);
  checkIssuerConstraints(issuer, context.intermediatesBelowIssuer);
  verifyX509Signature(cert, issuer.publicKey);
  checkValidityPeriod(cert, context.now);
  checkNotRevoked(cert.serialNumber, issuer, context.crls, context.now);
}
