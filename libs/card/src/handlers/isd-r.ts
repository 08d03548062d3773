/** The ISD-R / ECASD / USIM rows of card-isdr, in match order (SGP.02 §4.1.1; GP CS v2.3 §11). */
import type { CommandHandler } from '../context';
import { ECASD_COMMANDS } from './ecasd';
import { ISD_R_AUDIT_COMMANDS } from './isd-r-audit';
import { ISD_R_POLICY_STORE_DATA } from './isd-r-policy';
import { ISD_R_PROFILE_COMMANDS, ISD_R_PROFILE_STORE_DATA } from './isd-r-profile';
import { NETWORK_COMMANDS } from './network';
import { SECURE_CHANNEL_COMMANDS } from './secure-channel';
import { SELECT_COMMANDS } from './select';
import { storeDataRow } from './store-data';

/** Every `80 E2` not claimed by a header-specific row before it lands in the DGI-dispatching STORE DATA row. */
export const ISD_R_COMMANDS: CommandHandler[] = [
  ...SELECT_COMMANDS,
  ...SECURE_CHANNEL_COMMANDS,
  ...ISD_R_PROFILE_COMMANDS,
  ...ISD_R_AUDIT_COMMANDS,
  ...ECASD_COMMANDS,
  ...NETWORK_COMMANDS,
  storeDataRow([...ISD_R_PROFILE_STORE_DATA, ...ISD_R_POLICY_STORE_DATA]),
];
