/**
 * @packageDocumentation
 * `@rsp/card`: the virtual eUICC of SGP.02 at APDU level — ECASD, ISD-R and ISD-Ps — as pure code.
 * Storage, clock, randomness and faults are injected; transports live in `simulator/`.
 */
export * from './errors';
export * from './aids';
export * from './model';
export * from './store';
export * from './context';
export * from './dispatcher';
export * from './euicc';
export * from './manufacture';
export * from './es5-security-level';
export * from './notifications';
export * from './profile-ops';
export * from './fallback';
export { ISD_R_COMMANDS } from './handlers/isd-r';
export { storeDataRow, type StoreDataFunction } from './handlers/store-data';
export { masterDeleteToken } from './handlers/isd-r-policy';
export { USIM_AID_PREFIX } from './handlers/select';
export { DEFAULT_ISDP_QUOTA_BYTES } from './handlers/isd-r-profile';
export { CARD_COMMANDS } from './handlers';
export * from './off-card/es8';
export * from './off-card/es5';
export * from './es5-script';
export { ISD_R_DELETE_KEY_SET_TAG } from './handlers/isd-r-key-establishment';
export { ES8_HEADER, ES8_TAG } from './es8-layout';
