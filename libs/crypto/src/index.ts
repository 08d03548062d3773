/**
 * @packageDocumentation
 * `@rsp/crypto`: the SGP.02 / GlobalPlatform / 3GPP cryptography, pure and on node:crypto, for both
 * NIST P-256 and brainpoolP256r1. Every bad input raises a {@link CryptoError} subclass with a stable code.
 *
 * - **EC** ({@link generateEcKeyPair}, {@link ecdsaSignPlain}, {@link ecdsaVerifyPlain}, {@link ecka}):
 *   ECDSA-SHA256 with plain r‖s signatures as GP certificates carry them, ECKA (BSI TR-03111), raw
 *   uncompressed points for GP tag B0.
 * - **AES-CMAC** ({@link aesCmac}, RFC 4493 / NIST SP 800-38B) and the **X9.63 KDF** with SHA-256
 *   ({@link x963Kdf}).
 * - **Scenario#3** (GP Amd E / Amd A, SGP.02 §3.1.2 ES8 EstablishISDPKeySet): CRT {@link buildScenario3Crt}
 *   / {@link parseScenario3Crt}, SharedInfo, {@link deriveScenario3Keys} (receipt key + one key or
 *   S-ENC/S-MAC/DEK), {@link computeReceipt} / {@link verifyReceipt}; both ends as {@link offCardEstablish}
 *   and {@link cardEstablish}.
 * - **SCP03** (GP Card Spec Amd D): SP 800-108 KDF ({@link scp03Kdf}, {@link deriveScp03SessionKeys}),
 *   cryptograms, and the two ends of the channel ({@link Scp03Host}, {@link Scp03Card}) with C-MAC/R-MAC
 *   chaining, C-DECRYPTION and R-ENCRYPTION with counter-derived ICVs; replays and re-orders are refused.
 * - **SCP03t** (SGP.02 §4.1.3.3 ES8 DownloadAndInstallation): {@link Scp03tSender} / {@link Scp03tReceiver}
 *   frame the profile package in MACed, encrypted `86` segments.
 * - **Milenage** (3GPP TS 35.206): {@link computeOpc}, {@link milenage} (f1–f5, f1*, f5*), and the USIM /
 *   network ends of AKA: {@link buildAutn}, {@link verifyAutn} (RES/CK/IK, MAC failure, AUTS on a
 *   sequence failure), {@link resyncSqnFromAuts}.
 */
export * from './errors';
export * from './ec';
export * from './ec-point';
export * from './cmac';
export * from './kdf';
export * from './scenario3-crt';
export * from './scenario3';
export * from './scp03-kdf';
export * from './scp03-session';
export * from './scp03-handshake';
export * from './scp03';
export * from './scp03t';
export * from './milenage';
