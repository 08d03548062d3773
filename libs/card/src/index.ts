/**
 * @packageDocumentation
 * `@rsp/card`: the virtual eUICC of SGP.02 at APDU level — ECASD, ISD-R and ISD-Ps — as pure code.
 * Storage, clock, randomness and faults are injected; transports live in `simulator/`. The off-card side
 * (command builders, the ES5 script codec, the ES8 layout, status-word errors) is `@rsp/offcard`, which the
 * card imports for what both ends share; the services import only that, never this lib.
 */
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
export * from './script-runner';
export { ISD_R_COMMANDS } from './handlers/isd-r';
export { storeDataRow, type StoreDataFunction } from './handlers/store-data';
export { masterDeleteToken } from './handlers/isd-r-policy';
export { USIM_AID_PREFIX } from './handlers/select';
export { DEFAULT_ISDP_QUOTA_BYTES } from './handlers/isd-r-profile';
export { CARD_COMMANDS } from './handlers';
