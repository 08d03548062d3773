/**
 * Runs scenario files (docs/scenarios.md): each scenario on a testbed of its own (scripts/testbed.ts: the
 * whole stack in this process, ephemeral ports), its steps in order, each answer checked against `expect`,
 * captures carried forward. Returns one {@link ScenarioResult} per scenario for the reports.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { TestPki } from '@rsp/pki';
import { generateTestPki } from '@rsp/pki';
import { differences, interpolate, scenarioSchema, valueAt, type Scenario, type ScenarioResult, type ScenarioStep, type StepOutcome, type StepResult, type Values } from '@rsp/scenario';
import { createRemoteTestbed, RemoteStackUnusable, type RemoteStack } from './remote-testbed';
import { createTestbed, type CallResult, type ScenarioBed } from './testbed';

export interface LoadedScenario {
  file: string;
  scenario: Scenario;
}

/** Every `*.yaml` / `*.yml` under `path` (or the file itself), parsed and validated; a bad file throws naming it. */
export function loadScenarios(path: string, root = process.cwd()): LoadedScenario[] {
  const files = statSync(path).isDirectory() ? walk(path) : [path];
  return files.map((file) => {
    const parsed = scenarioSchema.safeParse(parseYaml(readFileSync(file, 'utf8')));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${relative(root, file)}: ${issue?.path.join('.') || '(top)'}: ${issue?.message ?? 'invalid scenario'}`);
    }
    return { file: relative(root, file), scenario: parsed.data };
  });
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) return walk(full);
      return /\.ya?ml$/.test(name) ? [full] : [];
    });
}

export interface RunOptions {
  /** Overrides every scenario's seed. */
  seed?: number;
  /** Told when a scenario ends (progress). */
  onResult?: (result: ScenarioResult, index: number, total: number) => void;
  pki?: TestPki;
  /** Run against this running stack instead of an in-process one per scenario (scripts/remote-testbed.ts). */
  remote?: RemoteStack;
}

export async function runScenarios(loaded: readonly LoadedScenario[], options: RunOptions = {}): Promise<ScenarioResult[]> {
  const pki = options.pki ?? generateTestPki({ curve: 'P-256', euiccCount: 0 });
  const results: ScenarioResult[] = [];
  for (const [index, entry] of loaded.entries()) {
    const result = await runScenario(entry, { ...options, pki });
    results.push(result);
    options.onResult?.(result, index, loaded.length);
  }
  return results;
}

/** A bed as the runner sees it: against a running stack, it renames a scenario's ids and may be interrupted. */
type RunnerBed = ScenarioBed & { rename?: <T>(value: T) => T; interrupted?: () => string | undefined };

export async function runScenario({ file, scenario }: LoadedScenario, options: RunOptions & { pki: TestPki }): Promise<ScenarioResult> {
  const started = Date.now();
  const base = { file, name: scenario.name, covers: scenario.covers };
  let testbed: RunnerBed | undefined;
  const steps: StepResult[] = [];
  try {
    const seed = options.seed ?? scenario.seed;
    testbed = options.remote
      ? await createRemoteTestbed({ devices: scenario.devices, operators: scenario.operators, seed }, options.remote)
      : await createTestbed({ devices: scenario.devices, operators: scenario.operators, seed, pki: options.pki });
    const values: Values = { ...scenario.vars, smsrId: testbed.ids.smsrId, smdpId: testbed.ids.smdpId, unknownEid: testbed.ids.unknownEid, devices: Object.fromEntries(Object.keys(scenario.devices).map((name) => [name, { eid: testbed?.eid(name) }])) };
    let failed = false;
    for (const step of scenario.steps) {
      if (failed) break; // later steps depend on earlier ones: stop at the first failure
      const result = await runStep(testbed, step, values);
      steps.push(result);
      failed = !result.ok;
    }
    const interruption = testbed.interrupted?.();
    if (interruption) throw new RemoteStackUnusable(interruption);
    const hops = [...testbed.hops];
    await testbed.close();
    testbed = undefined;
    return { ...base, durationMs: Date.now() - started, ok: !failed, steps, hops };
  } catch (error) {
    const interruption = testbed?.interrupted?.();
    if (error instanceof RemoteStackUnusable || interruption) {
      await testbed?.close().catch(() => undefined);
      throw error instanceof RemoteStackUnusable ? error : new RemoteStackUnusable(interruption as string); // every scenario would fail the same way
    }
    const hops = testbed ? [...testbed.hops] : [];
    await testbed?.close().catch(() => undefined);
    return { ...base, durationMs: Date.now() - started, ok: false, steps, hops, error: (error as Error).message };
  }
}

async function runStep(testbed: RunnerBed, rawStep: ScenarioStep, values: Values): Promise<StepResult> {
  const started = Date.now();
  let action = describe(rawStep);
  try {
    // Against a running stack, the scenario's operators and profile types are the stack's / this run's.
    const step = testbed.rename ? testbed.rename(interpolate(rawStep, values)) : interpolate(rawStep, values);
    action = describe(step);
    const outcome = await perform(testbed, step, values);
    const failures = differences(step.expect, outcome);
    for (const [name, path] of Object.entries(step.capture ?? {})) {
      const value = valueAt(outcome.body, path);
      if (value === undefined) failures.push(`capture ${name}: nothing at ${path}`);
      else values[name] = value;
    }
    return { name: step.name, action, durationMs: Date.now() - started, ok: failures.length === 0, failures, ...(failures.length ? { answer: redact(outcome.body) } : {}) };
  } catch (error) {
    return { name: rawStep.name, action, durationMs: Date.now() - started, ok: false, failures: [`error: ${(error as Error).message}`] };
  }
}

async function perform(testbed: ScenarioBed, step: ScenarioStep, values: Values): Promise<StepOutcome> {
  const fromCall = (result: CallResult): StepOutcome => ({ body: result.body, http: result.http });
  const consentOf = (name: string | undefined) => (name === undefined ? undefined : String(values[name] ?? ''));
  if ('es2' in step || 'es4' in step) {
    const client = 'es2' in step ? testbed.es2 : testbed.es4;
    const fn = 'es2' in step ? step.es2 : step.es4;
    const consent = consentOf(step.consent);
    return fromCall(await client.call(fn, step.with, { ...(step.as ? { as: step.as } : {}), ...(consent ? { consent } : {}), ...(step.callId ? { callId: step.callId } : {}) }));
  }
  if ('es1' in step) return fromCall(await testbed.es1.register(step.es1.device, step.es1.variant));
  if ('device' in step) {
    const { name, connectivity, attach } = step.device;
    let body: unknown;
    if (connectivity) body = (await testbed.device.connectivity(name, connectivity)).body;
    if (attach) body = (await testbed.device.attach(name)).body;
    const info = await testbed.device.get(name);
    const profiles = Object.fromEntries(info.profiles.filter((profile) => profile.iccid).map((profile) => [profile.iccid as string, profile.lifeCycleName]));
    return { body: body ?? info, enabled: info.enabled?.iccid ?? 'none', profiles, events: testbed.device.events(name) as ReadonlyArray<Record<string, unknown>> };
  }
  if ('apdu' in step) {
    const answer = await testbed.apdu(step.apdu.device, step.apdu.hex);
    return { body: answer, sw: answer.sw };
  }
  if ('replay' in step) {
    const answer = await testbed.replayLastScript(step.replay.device);
    return { body: answer, sw: answer.sw };
  }
  if ('owner' in step) {
    const command = step.owner;
    if ('claim' in command) return fromCall(await testbed.owner.claim(command.by, command.claim));
    if ('consent' in command) {
      const result = await testbed.owner.consent(command.by, command.consent, command.for, command.operations, command.expiresInSeconds);
      return fromCall(result);
    }
    if ('revoke' in command) return fromCall(await testbed.owner.revoke(command.by, command.revoke));
    if ('suspend' in command) return fromCall(await testbed.owner.suspend(command.by, command.suspend, command.reason));
    if ('reinstate' in command) return fromCall(await testbed.owner.reinstate(command.by, command.reinstate));
    if ('read' in command) return fromCall(await testbed.owner.read(command.by, command.read));
    if ('transfer' in command) {
      const { subscription, mnoId, iccid } = command;
      return fromCall(await testbed.owner.transfer(command.by, command.transfer, { subscription, ...(mnoId ? { mnoId } : {}), ...(iccid ? { iccid } : {}) }));
    }
    if ('redeem' in command) return fromCall(await testbed.owner.redeem(command.by, command.redeem, command.code));
    if ('issuePac' in command) return fromCall(await testbed.pac(command.from, command.issuePac, command.iccid));
    return fromCall(await testbed.owner.port(command.by, command.port, { pac: command.pac, recipientMnoId: command.to, profileType: command.profileType }));
  }
  if ('notification' in step) {
    const { to, interface: iface, timeoutMs } = step.notification;
    const deadline = Date.now() + timeoutMs;
    const wanted = step.expect?.fields ?? {};
    for (;;) {
      await testbed.refreshNotifications?.();
      const found = testbed.notifications.find((entry) => entry.mnoId === to && String(entry.body.interface ?? '').toUpperCase() === iface && differences({ fields: wanted }, { body: entry.body }).length === 0);
      if (found) return { body: found.body };
      if (Date.now() > deadline) return { body: { received: testbed.notifications.filter((entry) => entry.mnoId === to).map((entry) => entry.body) } };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await new Promise((resolve) => setTimeout(resolve, step.wait));
  return { body: {} };
}

function describe(step: ScenarioStep): string {
  if ('es2' in step) return `ES2 ${step.es2}${step.as ? ` as ${step.as}` : ''}${step.consent ? ' with consent' : ''}`;
  if ('es4' in step) return `ES4 ${step.es4}${step.as ? ` as ${step.as}` : ''}`;
  if ('es1' in step) return `ES1 RegisterEIS (${step.es1.variant}) of ${step.es1.device}`;
  if ('device' in step) return `device ${step.device.name}${step.device.connectivity ? ` connectivity ${JSON.stringify(step.device.connectivity)}` : ''}${step.device.attach ? ' attach' : ''}`;
  if ('apdu' in step) return `APDU ${step.apdu.hex} to ${step.apdu.device}`;
  if ('replay' in step) return `replay the last ES5 script to ${step.replay.device}`;
  // Codes are secrets: a transfer code or a PAC never reaches a report, even as a step's description.
  if ('owner' in step) return `owner ${Object.entries(step.owner).map(([key, value]) => `${key} ${key === 'code' || key === 'pac' ? '[redacted]' : Array.isArray(value) ? value.join(',') : String(value)}`).join(' ')}`;
  if ('notification' in step) return `wait for an ${step.notification.interface} notification to ${step.notification.to}`;
  return `wait ${step.wait} ms`;
}

/** Keys whose values are secrets: consents, tokens, codes, subscriber keys. */
const SECRET_KEY = /^(consent|token|id_token|apiKey|claimCode|transferCode|code|pac|ki|opc)$/i;

/** Consents, tokens and codes never reach a report. */
function redact(body: unknown): unknown {
  return JSON.parse(JSON.stringify(body ?? null, (key, value: unknown) => (SECRET_KEY.test(key) ? '[redacted]' : value)));
}
