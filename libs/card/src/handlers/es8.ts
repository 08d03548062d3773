/** The ES8 rows (SM-DP ↔ ISD-P through the ISD-R, SGP.02 §3.1.2–§3.1.3, §4.1.3), in match order. */
import type { CommandHandler } from '../context';
import { ISDP_DOWNLOAD_COMMANDS } from './isdp-download';
import { ISDP_KEY_ESTABLISHMENT_COMMANDS } from './isdp-key-establishment';
import { ISDP_PERSONALIZATION_COMMANDS } from './isdp-personalization';

export const ES8_COMMANDS: CommandHandler[] = [
  ...ISDP_PERSONALIZATION_COMMANDS,
  ...ISDP_KEY_ESTABLISHMENT_COMMANDS,
  ...ISDP_DOWNLOAD_COMMANDS,
];
