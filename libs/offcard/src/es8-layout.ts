/**
 * Byte layout of the ES8 commands (SM-DP ↔ ISD-P, tunnelled by the SM-SR through the ISD-R's ES5
 * session), shared by the card handlers and the off-card builders so both ends agree on every byte.
 *
 * Sources: SGP.02 §3.1.2 / §4.1.3 (ES8.EstablishISDPKeySet, ES8.DownloadAndInstallation) as read in
 * SPEC-NOTES "ES8 key establishment" (njiwa ECKeyAgreementEG / DownloadProfileTransaction, facts only);
 * GP Card Spec v2.3 §11.5.2.3 (INSTALL [for personalization]) and §11.11 (STORE DATA).
 */
import type { CommandApdu } from '@rsp/tlv';

/** APDU headers (CLA INS P1 P2) of the ES8 commands. */
export const ES8_HEADER = {
  /** INSTALL [for personalization]: GP CS §11.5.2.3, SGP.02 §4.1.3.1 step 1. */
  INSTALL_FOR_PERSONALIZATION: { cla: 0x80, ins: 0xe6, p1: 0x20, p2: 0x00 },
  /**
   * STORE DATA with DGI 3A01: P1 09 = more blocks, DGI format (b5-b4 = 01), response expected (b1);
   * P2 00 = block 0 (GP CS §11.11.2.1; njiwa `isdKeySetEstablishmentSendCert`).
   */
  STORE_DATA_CERTIFICATE: { cla: 0x80, ins: 0xe2, p1: 0x09, p2: 0x00 },
  /** STORE DATA with DGI 3A02: P1 89 = last block, DGI, response expected; P2 01 = block 1. */
  STORE_DATA_KEY_ESTABLISHMENT: { cla: 0x80, ins: 0xe2, p1: 0x89, p2: 0x01 },
  /**
   * One SCP03t command TLV for the personalization target. [U] SGP.02 carries SCP03t TLVs directly in the
   * SCP81 (HTTPS) POST body targeted at the ISD-P AID (X-Admin-Targeted-Application), not in an APDU;
   * this project's ES5 carries APDUs only, so each TLV rides in its own STORE DATA: P1 91 = last block,
   * BER-TLV structure (b5-b4 = 10), response expected; P2 00 (each TLV is a one-block sequence).
   */
  STORE_DATA_SCP03T: { cla: 0x80, ins: 0xe2, p1: 0x91, p2: 0x00 },
} as const;

/** DGIs and tags of ES8.EstablishISDPKeySet (SGP.02 §4.1.3.1; SPEC-NOTES "ES8 key establishment"). */
export const ES8_TAG = {
  /** DGI: certificate of the off-card entity, `3A01 L { 7F21 CERT.DP.ECDSA }`. */
  DGI_CERTIFICATE: 0x3a01,
  /** DGI: key establishment data, `3A02 L { A6 CRT }` (then 7F49 and 5F37 follow it). */
  DGI_KEY_ESTABLISHMENT: 0x3a02,
  /** Random challenge of the card (response to 3A01) and, in the signed data, its echo. */
  CHALLENGE: 0x85,
  /** ePK.DP.ECKA: `7F49 { B0 04‖X‖Y, F0 01 <curve reference> }` (GP Amd E, GP CS Table 11-xx). */
  PUBLIC_KEY: 0x7f49,
  POINT: 0xb0,
  CURVE_REFERENCE: 0xf0,
  /** Plain r‖s ECDSA-SHA256 signature by SK.DP.ECDSA. */
  SIGNATURE: 0x5f37,
} as const;

/** Length of the random challenge the ISD-P returns for 3A01 [U: 16 bytes, as the SM-DP accepts any length]. */
export const ES8_CHALLENGE_LENGTH = 16;

/** True when the APDU header (secure-messaging bit ignored) equals `header`. */
export function hasHeader(apdu: CommandApdu, header: { ins: number; p1: number; p2: number }): boolean {
  return apdu.ins === header.ins && apdu.p1 === header.p1 && apdu.p2 === header.p2 && (apdu.cla & 0xf0) === 0x80;
}
