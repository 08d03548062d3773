/**
 * The scenario file format (docs/scenarios.md): YAML, validated with this zod schema; the JSON Schema editors
 * use (scenarios/scenario.schema.json) is generated from it, so the two cannot drift.
 *
 * A scenario names the SGP.02 clauses it covers, the devices, operators and owners it needs, and its steps.
 * Each step has exactly one action key (es1, es2, es4, device, apdu, replay, owner, notification, wait) plus a
 * name, an expectation and values to capture for later steps (`${name}`).
 */
import { ID_PATTERN } from '@rsp/contracts';
import { z } from 'zod';

const functionName = z.string().regex(/^[A-Z][A-Za-z0-9]{1,63}$/, 'an SGP.02 function name, e.g. DownloadProfile');

const policyRuleSchema = z.strictObject({
  subject: z.literal('PROFILE').default('PROFILE'),
  action: z.enum(['ENABLE', 'DISABLE', 'DELETE']),
  qualification: z.enum(['Not-Allowed', 'Auto-Delete']),
});
const subscriptionCount = z.number().int().positive().max(50);
export const profileTypeSchema = z.union([
  subscriptionCount,
  z.strictObject({ count: subscriptionCount, pol1: z.array(policyRuleSchema).max(3).optional(), pol2: z.array(policyRuleSchema).max(3).optional() }),
]);
export type ProfileTypeStock = z.infer<typeof profileTypeSchema>;

export const coverSchema = z.strictObject({
  /** `ES2.DownloadProfile`, `ES4.AuditEIS`, `ES5.SecurityLevel`, `Owner.Resale` … */
  function: z.string().regex(/^(ES[1-8]|Owner|Device|Policy)\.[A-Za-z0-9]+$/),
  /** Where the behaviour is specified, e.g. `SGP.02 v4.2 §5.3.1`. */
  clause: z.string().min(3),
  outcome: z.enum(['nominal', 'error']),
});

/** Matchers for a value in a response: a literal, or one of these forms. */
export const matcherSchema = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.strictObject({ exists: z.boolean() }),
  z.strictObject({ regex: z.string() }),
  z.strictObject({ oneOf: z.array(z.union([z.string(), z.number(), z.boolean()])) }),
  z.strictObject({ length: z.number().int().nonnegative() }),
]);

/** A functionExecutionStatus: `Executed-Success`, or `{ status, subject, reason }` (SGP.02 §5.1.6). */
export const statusExpectation = z.union([
  z.enum(['Executed-Success', 'Executed-WithWarning', 'Failed', 'Expired']),
  z.strictObject({
    status: z.enum(['Executed-Success', 'Executed-WithWarning', 'Failed', 'Expired']),
    subject: z.string().regex(/^\d+(\.\d+)*$/).optional(),
    reason: z.string().regex(/^\d+(\.\d+)*$/).optional(),
  }),
]);

export const expectSchema = z.strictObject({
  status: statusExpectation.optional(),
  /** HTTP status of the answer (an owner-registry refusal, a 401 …). */
  http: z.number().int().optional(),
  /** Dotted paths into the response body → matcher. */
  fields: z.record(z.string(), matcherSchema).optional(),
  /** Device steps: the enabled profile's ICCID (`none` when no profile is enabled). */
  enabled: z.string().optional(),
  /** Device steps: ICCID → lifecycle name (ENABLED, DISABLED …), or `absent`. */
  profiles: z.record(z.string(), z.string()).optional(),
  /** APDU steps: the status word (hex). */
  sw: z.string().regex(/^[0-9A-Fa-f]{4}$/).optional(),
  /**
   * Device steps: events the device published since the scenario started (docs/device-api.md "Events"),
   * in this order, others allowed between them; each is `{ type, field: matcher … }`.
   */
  events: z.array(z.record(z.string(), matcherSchema).and(z.object({ type: z.string() }))).optional(),
});

const callOptions = {
  /** The operator making the call (default: the scenario's first operator). */
  as: z.string().optional(),
  with: z.record(z.string(), z.unknown()).default({}),
  /** Send the consent captured under this name as X-Owner-Consent (ES2). */
  consent: z.string().optional(),
  /** header.functionCallIdentifier (default a fresh one per call): reuse one to test idempotency. */
  callId: z.string().regex(ID_PATTERN).optional(),
};

const common = {
  name: z.string().min(1),
  expect: expectSchema.optional(),
  /** Variable name → dotted path into the response body. */
  capture: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
};

export const stepSchema = z.union([
  z.strictObject({ ...common, es2: functionName, ...callOptions }),
  z.strictObject({ ...common, es4: functionName, ...callOptions }),
  z.strictObject({
    ...common,
    /** ES1 RegisterEIS of a device (registered already by the testbed: expect 3.3), or a forged variant. */
    es1: z.strictObject({ device: z.string(), variant: z.enum(['as-manufactured', 'bad-signature', 'eid-out-of-range', 'foreign-eum']) }),
  }),
  z.strictObject({
    ...common,
    /** Read a device through the device API; optionally change connectivity or attach first. */
    device: z.strictObject({
      name: z.string(),
      connectivity: z.strictObject({ wifi: z.boolean().optional(), cellular: z.boolean().optional() }).optional(),
      attach: z.boolean().optional(),
    }),
  }),
  z.strictObject({ ...common, apdu: z.strictObject({ device: z.string(), hex: z.string().regex(/^([0-9A-Fa-f]{2}\s?)+$/) }) }),
  /** An attacker replays the last ES5 script the device's card received (recorded off the network) to the card. */
  z.strictObject({ ...common, replay: z.strictObject({ device: z.string() }) }),
  z.strictObject({
    ...common,
    owner: z.union([
      z.strictObject({ claim: z.string(), by: z.string() }),
      z.strictObject({ consent: z.string(), by: z.string(), for: z.string(), operations: z.array(z.string()).min(1), expiresInSeconds: z.number().int().positive().optional() }),
      z.strictObject({ revoke: z.string(), by: z.string() }),
      z.strictObject({ suspend: z.string(), by: z.string(), reason: z.enum(['lost', 'stolen', 'compromised']) }),
      /** Reinstate a suspended device (step-up: a fresh login is made first). */
      z.strictObject({ reinstate: z.string(), by: z.string() }),
      /** Read the device as this user (GET /devices/{eid}): 200 with a grant, 404 without (no sign it exists). */
      z.strictObject({ read: z.string(), by: z.string() }),
      /** Start a resale (step-up): `leave` the subscription with its operator or `pass` it (mnoId, iccid) to the buyer. Capture `transferCode`. */
      z.strictObject({ transfer: z.string(), by: z.string(), subscription: z.enum(['leave', 'pass']), mnoId: z.string().optional(), iccid: z.string().optional() }),
      /** The buyer redeems a captured transfer code; the step ends once the services hold the new owner. */
      z.strictObject({ redeem: z.string(), by: z.string(), code: z.string() }),
      /** The donor operator `from` issues a porting code for one of its profiles. Capture `pac`. */
      z.strictObject({ issuePac: z.string(), from: z.string(), iccid: z.string() }),
      /** The owner ports the subscription to operator `to` with a PAC, as profile type `profileType`. */
      z.strictObject({ port: z.string(), by: z.string(), to: z.string(), pac: z.string(), profileType: z.string() }),
    ]),
  }),
  z.strictObject({
    ...common,
    /** Wait for a notification to an operator (webhook), matching `fields`, until `timeoutMs`. */
    notification: z.strictObject({ to: z.string(), interface: z.enum(['ES2', 'ES4']), timeoutMs: z.number().int().positive().max(60_000).default(10_000) }),
  }),
  z.strictObject({ ...common, wait: z.number().int().positive().max(60_000) }),
]);

export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  covers: z.array(coverSchema).min(1),
  tags: z.array(z.string()).default([]),
  /** Makes EIDs and call identifiers the same on every run. */
  seed: z.number().int().nonnegative().default(1),
  /** Device name → model, and a fault plan for its card (docs/device-api.md "Fault plans"; validated when the scenario starts). */
  devices: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]*$/),
      z.strictObject({
        type: z.enum(['oven', 'bbq', 'generic']),
        faults: z
          .strictObject({
            seed: z.number().int().nonnegative().optional(),
            /** drop, delay, duplicate, corrupt, tamperEs8 (docs/device-api.md "Fault plans"). */
            es5: z.record(z.string(), z.unknown()).optional(),
            powerLossAt: z.array(z.string()).optional(),
            memoryFull: z.boolean().optional(),
            connectivityLossAtMs: z.number().int().positive().optional(),
          })
          .optional(),
      }),
    )
    .default({ oven: { type: 'oven' } }),
  /**
   * Operator id → its profile types: how many subscriptions each, or `{ count, pol1, pol2 }` for a type whose
   * profiles carry POL1 (written into the profile, enforced by the card) or POL2 (kept by the SM-SR).
   */
  operators: z
    .record(z.string(), z.strictObject({ profileTypes: z.record(z.string(), profileTypeSchema) }))
    .default({ 'mno.a': { profileTypes: { 'a-iot': 4 } } }),
  vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  steps: z.array(stepSchema).min(1),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioStep = z.infer<typeof stepSchema>;
export type StepExpectation = z.infer<typeof expectSchema>;
export type Matcher = z.infer<typeof matcherSchema>;

/** The JSON Schema of a scenario file (for editors: `# yaml-language-server: $schema=…`). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return { ...(z.toJSONSchema(scenarioSchema, { io: 'input' }) as Record<string, unknown>), title: 'RSP simulator scenario (docs/scenarios.md)' };
}
