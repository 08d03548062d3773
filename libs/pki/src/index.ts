/**
 * @packageDocumentation
 * `@rsp/pki`: the SGP.02 test PKI and its validation. Pure code on node:crypto (both NIST P-256 and
 * brainpoolP256r1); no I/O except {@link writeTestPki}.
 *
 * **Build** — {@link generateTestPki} creates, in memory and synchronously:
 * - the CI root (X.509, self-signed, `OU=TESTCERT`, policy id-rspRole-ci `2.23.146.1.2.1.0`);
 * - the EUM (X.509 under the CI, policy `2.23.146.1.2.1.2`, `permittedEins` `2.23.146.1.2.2.0`);
 * - CERT.DP.ECDSA / CERT.SR.ECDSA (GP Amd E `7F21`, signed by the CI, discretionary data C8 01 01 / 02);
 * - CERT.ECASD.ECKA per demo eUICC (GP `7F21`, signed by the EUM, EID inside permittedEins);
 * - TLS certificates (a TLS CA under the CI, broker server, service and device clients) and CRLs.
 * {@link writeTestPki} writes it with SGP.26-style file names (`npm run certs`, see certs/README.md).
 *
 * **Validate** — each refusal is one {@link PkiError} subclass with a stable code:
 * - {@link validateEumCertificate}: EUM → CI (signature over received TBS bytes, dates, basicConstraints
 *   and pathLen, keyUsage, role OID per position, SKI/AKI, CRL);
 * - {@link validateEcasdChain}: CERT.ECASD.ECKA → EUM → CI, plus EID within permittedEins;
 * - {@link validateSmCertificate}: CERT.DP.ECDSA / CERT.SR.ECDSA → CI with the expected role;
 * - {@link validateX509Chain}: any X.509 path (e.g. TLS) up to the CI;
 * - {@link parseGpCertificate} / {@link verifyGpCertificate}: one GP certificate against its issuer.
 *
 * **Identifiers** — {@link validateEid} / {@link generateEid} (32 digits, ISO/IEC 7064 MOD 97-10) and
 * {@link validateIccid} / {@link generateIccid} (E.118, Luhn), with their BCD encodings.
 */
export * from './errors';
export * from './oids';
export * from './eid';
export * from './iccid';
export * from './gp-roles';
export * from './gp-certificate-codec';
export * from './gp-certificate';
export * from './x509-parse';
export * from './x509-builder';
export * from './x509-validate';
export * from './crl';
export * from './chain';
export * from './test-pki';
export * from './test-pki-files';
