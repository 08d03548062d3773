/**
 * Codings the eUICC and the off-card entities share: ISD-P life-cycle states and notification types.
 * They live off-card because the SM-SR reads them back (GET STATUS, notifications) and must not depend
 * on the virtual card to do so.
 */

/** GP life-cycle states of an ISD-P (SGP.02 §2.2.1.2; GP CS §5.3.2) with their coding. */
export const ISDP_LIFE_CYCLE = {
  /** Created by INSTALL [for install and make selectable]. */
  SELECTABLE: 0x07,
  /** Keys established (Scenario#3) — ready for the profile download. */
  PERSONALIZED: 0x0f,
  /** Profile installed, not active. */
  DISABLED: 0x1f,
  /** Profile active: at most one ISD-P at a time. */
  ENABLED: 0x3f,
} as const;
export type IsdpLifeCycle = (typeof ISDP_LIFE_CYCLE)[keyof typeof ISDP_LIFE_CYCLE];

/** Notification types of SGP.02 (tag 4D). */
export const NOTIFICATION_TYPE = {
  EUICC_DECLARATION: 0x01,
  PROFILE_CHANGE_SUCCEEDED: 0x02,
  PROFILE_CHANGE_FAILED_ROLLED_BACK: 0x03,
  VOID: 0x04,
  PROFILE_CHANGE_AFTER_FALLBACK: 0x05,
} as const;

export type IsdpLifeCycleName = keyof typeof ISDP_LIFE_CYCLE;

/**
 * The GP name of an ISD-P life-cycle coding (GP CS §5.3.2 / §11.1.1 table 11-5, SGP.02 §2.2.1.2), for people:
 * device API, CLI, console. An unknown coding reads `UNKNOWN (0xNN)`, never a guess.
 */
export function lifeCycleName(code: number): IsdpLifeCycleName | `UNKNOWN (0x${string})` {
  for (const [name, value] of Object.entries(ISDP_LIFE_CYCLE)) if (value === code) return name as IsdpLifeCycleName;
  return `UNKNOWN (0x${code.toString(16).toUpperCase().padStart(2, '0')})`;
}
