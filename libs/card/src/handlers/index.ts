/**
 * The command table: every APDU the card understands, in match order. Each module contributes its
 * rows; each row names the clause it implements.
 */
import type { CommandHandler } from '../context';
import { ES8_COMMANDS } from './es8';
import { ISD_R_COMMANDS } from './isd-r';
import { ISD_R_KEY_ESTABLISHMENT_COMMANDS } from './isd-r-key-establishment';

export const CARD_COMMANDS: readonly CommandHandler[] = [
  ...ISD_R_KEY_ESTABLISHMENT_COMMANDS, // 3A01/3A02 to the ISD-R, or handed to the ES8 row when an ISD-P is targeted
  ...ES8_COMMANDS, // header-specific STORE DATA rows, ahead of any row matching every 80 E2
  ...ISD_R_COMMANDS, // ends with the DGI-dispatching STORE DATA row (3A03–3A09)
];
