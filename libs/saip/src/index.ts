/**
 * @packageDocumentation
 * `@rsp/saip`: the SAIP profile package — TCA "eUICC Profile Package: Interoperable Format Technical
 * Specification" (ASN.1 module PE_Definitions 3.3.1, AUTOMATIC TAGS, DER). Pure code on `@rsp/tlv`.
 *
 * **Decode / encode** — {@link decodeProfilePackage} turns DER (the concatenation of ProfileElement TLVs)
 * into a {@link ProfilePackage}; {@link encodeProfilePackage} does the reverse. Modelled elements:
 * ProfileHeader, PE-MF, PE-USIM (files as `TemplateFile`s with FCP and fill content), PE-PINCodes,
 * PE-PUKCodes, PE-AKAParameter, PE-SecurityDomain (minimal), PE-End. Any other element decodes to
 * `{ kind: 'unknown', tag, name?, header?, raw }` and re-encodes byte for byte. Single elements:
 * {@link decodeProfileElement} / {@link encodeProfileElement}.
 *
 * **Validation** — {@link validateProfilePackage} (run by decode and encode unless `validate: false`):
 * header first, end last, no duplicate header / end / MF / USIM, unique PE identifications, ICCID Luhn,
 * IMSI 6..15 digits, Milenage Ki / OPc of 16 bytes, known algorithmID. Each failure is one
 * {@link SaipError} subclass with `code`, `euiccStatus` (a {@link PE_STATUS} value: 3 bad-values,
 * 5 invalid-request-format, 31 unsupported-profile-version, …), `peIndex` and `identification`.
 *
 * **Card side** — {@link summariseProfile} gives the facts the eUICC stores (ICCID, IMSI, algorithm, Ki,
 * OPc, PIN1, PUK1, size…); Ki, OPc, PINs are secret — log only {@link redactProfileSummary}'s output.
 * {@link encodeEuiccResponse} / {@link decodeEuiccResponse} code the EUICCResponse, and
 * {@link successResponse} / {@link errorResponse} build it from the install outcome.
 *
 * **SM-DP side** — {@link personaliseProfile} replaces ICCID, IMSI (+ EF.ACC), Ki / OPc (Milenage),
 * PIN1 / PUK1 in a template (decoded or DER) and returns the new DER; {@link buildDefaultTemplate}
 * builds a minimal valid M2M template (header, MF, PUK, PIN, USIM, AKA, end). MNO templates are loaded
 * from DER with {@link decodeProfilePackage}.
 *
 * **EF contents** — {@link encodeEfImsi} / {@link decodeEfImsi} (TS 31.102 §4.2.2),
 * {@link encodeEfIccid} / {@link decodeEfIccid}, {@link encodeEfAd}, {@link encodeEfAcc}.
 */
export * from './errors';
export { contextTag, decodeOid, encodeOid } from './der';
export * from './header';
export * from './file';
export * from './ef-content';
export * from './pe-filesystem';
export * from './pe-codes';
export * from './pe-aka';
export * from './pe-security-domain';
export * from './profile-element';
export * from './package';
export * from './summary';
export * from './euicc-response';
export * from './template';
export * from './personalise';
