/**
 * @packageDocumentation
 * `@rsp/scenario`: the pure half of the integration-suite kit (docs/scenarios.md) — the scenario file
 * format ({@link scenarioSchema}, {@link scenarioJsonSchema}), values and captures ({@link interpolate}),
 * expectations ({@link differences}), the message sequence diagram ({@link renderSequenceSvg}) and the
 * reports ({@link junitXml}, {@link htmlReport}). The runner and the in-process testbed that start the stack
 * are scripts/scenario-runner.ts and scripts/testbed.ts.
 */
export * from './schema';
export * from './values';
export * from './expectations';
export * from './sequence-svg';
export * from './reports';
export * from './coverage';
