/**
 * @packageDocumentation
 * `@rsp/offcard`: the off-card side of ES5 and ES8 — what an SM-SR or an SM-DP needs to talk to an eUICC,
 * and nothing of the card itself (that is `@rsp/card`, which the services may not import: eslint.config.js).
 *
 * - **AIDs** ({@link AID}, {@link isdpAid}): SGP.02 Annex H application identifiers.
 * - **Codings** ({@link ISDP_LIFE_CYCLE}, {@link NOTIFICATION_TYPE}): what GET STATUS and notifications carry.
 * - **Status words as errors** ({@link CardFailure}, {@link CardError}): one typed error per refusing SW, with
 *   stable codes libs/contracts maps to SGP.02 subject/reason codes.
 * - **ES5 script codec** ({@link encodeCommandScript}, {@link decodeResponseScript} …): ETSI TS 102 226
 *   expanded scripts (SGP.02 Annex K).
 * - **ISD-R commands** ({@link createIsdpApdu}, {@link enableApdu}, {@link deleteApdu} …): SGP.02 §4.1.1.
 * - **ISD-R key set** ({@link IsdRKeySet}, {@link defaultIsdRKeySet}): GP Amd D SCP03 keys, the TEST set.
 * - **ES8** ({@link buildEstablishKeySetStep1}, {@link buildDownloadCommands} …): Scenario#3 and SCP03t
 *   builders and parsers (SGP.02 §3.1.2–§3.1.3, §4.1.3), with the byte layout shared with the card
 *   ({@link ES8_HEADER}, {@link ES8_TAG}).
 */
export * from './aids';
export * from './card-codings';
export * from './errors';
export * from './es5-script';
export * from './isd-r-commands';
export * from './isd-r-key-set';
export * from './es8-layout';
export * from './es8';
