/**
 * @packageDocumentation
 * `@rsp/contracts`: what both ends of the SGP.02 off-card interfaces share — pure code, no NestJS, MQTT
 * or database.
 *
 * - **Status** ({@link FunctionExecutionStatus}, {@link SUBJECT}, {@link REASON}, {@link STATUS_CODE}):
 *   SGP.02 §5.1 execution outcomes and subject/reason codes, each code with its source
 *   ({@link STATUS_CODE_SOURCES}).
 * - **Errors → status** ({@link toExecutionStatus}, {@link ERROR_STATUS_MAP}): every `ERR_*` code of the libs
 *   mapped to SGP.02 codes with a fixed message (no internal detail leaks); {@link StatusError} lets a service
 *   fail with explicit codes; {@link ContractError} is what the validators throw (1.6 / 2.1, 2.2, 2.3 with
 *   the parameter path as subjectIdentifier).
 * - **Messages** (`es1`, `es2`, `es3`, `es4`, `es5` namespaces): request/response types and runtime validators
 *   for ES1 RegisterEIS, ES2 (MNO → SM-DP), ES3 (SM-DP → SM-SR), ES4 (MNO → SM-SR) with the common header,
 *   notification callbacks, and the ES5 MQTT envelopes. Validate with {@link parse}.
 * - **EIS** ({@link Eis}, {@link signEis}, {@link verifyEisSignature}): the eUICC Information Set and the EUM
 *   signature over its EumSignedInfo part, as RFC 8785 canonical JSON (a documented departure from
 *   SGP.02's XML signature).
 * - **Policy** ({@link checkPol2}, {@link mostRestrictive}, {@link POLICY_RULE_TABLE}): POL1/POL2 rules.
 * - **Topics** ({@link es5CommandTopic}, {@link es5ReplyTopic}, {@link serviceTopic} …): MQTT topic names with
 *   validated segments, so no input can produce a wildcard or extra level; ids written with {@link topicLevel}.
 * - **Broker ACL** ({@link BROKER_ACL}, {@link mayPublish}, {@link maySubscribe}, {@link renderMosquittoAcl}):
 *   who may publish and subscribe to what, one table for the embedded broker and Mosquitto.
 * - **Function frame** ({@link FunctionFrame}, {@link functionRow}, {@link httpAnswerBeforeFrame}): the SGP.02
 *   §5.1 common frame every ES1–ES4 call runs through (validation, requester, idempotency, validityPeriod,
 *   the in-progress answer, errors → status); interfaces are tables of rows, transports stay thin.
 */
export * from './status';
export * from './errors';
export * from './error-mapping';
export { parse, optional, object, arrayOf, type Check, type OptionalCheck, type Infer } from './schema';
export * as schema from './schema';
export * from './policy';
export * from './eis';
export * from './topics';
export * from './broker-acl';
export * from './function-frame';
export * from './function-frame-http';
export * from './sequence';
export * from './logger';
export * from './openapi';
export * from './inventory';
export * from './messages/common';
export * from './messages/notifications';
export * as es1 from './messages/es1';
export * as es2 from './messages/es2';
export * as es3 from './messages/es3';
export * as es4 from './messages/es4';
export * as es5 from './messages/es5';
