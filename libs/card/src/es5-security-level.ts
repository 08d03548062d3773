/**
 * The SCP03 security level the ISD-R demands on ES5 (P1 of EXTERNAL AUTHENTICATE, GP CS v2.3 Amd D
 * §7.1.2; level bits Amd D §5.1 / Table 5-1).
 *
 * ES5 runs SCP03 in place of SCP80 / SCP81 (SGP.02 §2.4, §2.2.5), and both of those always protect
 * integrity and confidentiality — SCP81 is TLS-PSK, both directions. A card decides the minimum it accepts
 * per key set and refuses a lower EXTERNAL AUTHENTICATE with 6982 (GP CS v2.3 / Amd D §7.1.2; SPEC-NOTES
 * "SCP03": clause number [U]). Our decision:
 * - every ISD-R key set demands 0x33 (C-MAC, C-DEC, R-MAC, R-ENC) unless configured otherwise: SCP81
 *   encrypts responses too, and 0x33 is what our SM-SR sends (apps/sm-sr ES5_SECURITY_LEVEL);
 * - a key set may be configured down to 0x13 (responses authenticated but not encrypted), never lower:
 *   without C-MAC + C-DEC + R-MAC, ES5 commands could be forged, read or their answers faked.
 */
import { checkSecurityLevel, Scp03SecurityLevel } from '@rsp/crypto';
import type { KeySetState } from './model';

/** The level every ISD-R key set demands when its state names none (0x33). */
export const ES5_DEFAULT_MINIMUM_SECURITY_LEVEL =
  Scp03SecurityLevel.C_MAC | Scp03SecurityLevel.C_DECRYPTION | Scp03SecurityLevel.R_MAC | Scp03SecurityLevel.R_ENCRYPTION;

/** The lowest level any ISD-R key set may be configured to (0x13); the card never accepts less. */
export const ES5_SECURITY_LEVEL_FLOOR = Scp03SecurityLevel.C_MAC | Scp03SecurityLevel.C_DECRYPTION | Scp03SecurityLevel.R_MAC;

/** True when `level` carries every protection bit of `required` (levels are bit sets, not an order). */
export function includesSecurityLevel(level: number, required: number): boolean {
  return (level & required) === required;
}

/** True for a level a key set may name as its minimum: an Amd D §5.1 combination holding the floor (0x13, 0x33). */
export function isEs5MinimumSecurityLevel(level: number): boolean {
  try {
    checkSecurityLevel(level);
  } catch {
    return false;
  }
  return includesSecurityLevel(level, ES5_SECURITY_LEVEL_FLOOR);
}

/** What EXTERNAL AUTHENTICATE must ask for with this ISD-R key set: its own minimum, never below the floor. */
export function requiredSecurityLevel(keySet: Pick<KeySetState, 'minimumSecurityLevel'>): number {
  return (keySet.minimumSecurityLevel ?? ES5_DEFAULT_MINIMUM_SECURITY_LEVEL) | ES5_SECURITY_LEVEL_FLOOR;
}

/** Two hex digits, for messages. */
export function levelHex(level: number): string {
  return `0x${level.toString(16).padStart(2, '0')}`;
}
