/**
 * The command table: every APDU the card understands, in match order. Each module contributes its
 * rows; each row names the clause it implements.
 */
import type { CommandHandler } from '../context';
import { ES8_COMMANDS } from './es8';
import { ISD_R_COMMANDS } from './isd-r';

export const CARD_COMMANDS: readonly CommandHandler[] = [
  ...ES8_COMMANDS, // first: header-specific STORE DATA rows, ahead of any row matching every 80 E2
  ...ISD_R_COMMANDS, // ends with the DGI-dispatching STORE DATA row (3A03–3A09)
];
