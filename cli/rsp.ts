/**
 * `npx rsp <es1|es2|es4> <function> [options]`: the operator CLI of the simulator. It calls the SM-DP
 * (ES2) and SM-SR (ES1, ES4) over their HTTP binding, `POST /gsma/{es}/{functionName}` (docs/services.md),
 * and prints one line per result (or the raw JSON with --json). Exit codes: 0 Executed-*, 2 Failed,
 * 3 Expired, 1 usage or transport error. See docs/cli.md.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ContractFailure, SUBSCRIPTION_STATES } from '@rsp/contracts';
import { isRspError } from '@rsp/errors';
import { CliTransportError, endpointUrl, postFunction } from './http';
import { readUserFile } from './files';
import { hintsFor } from './hints';
import { InventoryUsageError, mnoStock, mnoSubscriptions, type InventoryRequest, type StockInput } from './inventory';
import { watchTransaction } from './watch';
import { LoginError, ownerLogin } from './login';
import { runScenarioCommand, type ScenarioRunOptions } from './scenario';
import { BulkUsageError, runDownloadProfiles, type BulkCommandOptions } from './bulk-download';
import { EXIT, exitCodeFor, formatResponse } from './output';
import * as requests from './requests';
import type { BuiltRequest, HeaderOptions } from './requests';

/** ES2 / ES4 functions the services answer without an owner's consent (docs/owner-registry.md "Fail closed"). */
const READS: ReadonlySet<string> = new Set(['getEIS', 'auditEIS']);

export const DEFAULT_SMDP_URL = 'http://127.0.0.1:8081';
export const DEFAULT_SMSR_URL = 'http://127.0.0.1:8082';
export const DEFAULT_REQUESTER = 'mno.demo';
export const DEFAULT_SMSR_ID = 'smsr.demo';
export const DEFAULT_IDP_URL = 'http://127.0.0.1:8085';
/** Seconds to wait for an answer when neither --timeout nor --validity is given. */
export const DEFAULT_TIMEOUT_SECONDS = 120;

/** Where the CLI writes and what it reads; tests inject their own. */
export interface RspIo {
  /** Raw text to stdout (lines end with `\n`). */
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
}

interface GlobalOptions {
  smdpUrl: string;
  smsrUrl: string;
  apiKey?: string;
  consent?: string;
  watch?: boolean;
  requester: string;
  callId?: string;
  validity?: number;
  json?: boolean;
  timeout?: number;
}

const positiveSeconds = (text: string): number => {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return value;
};
/** Left unchecked on purpose: the contract validator reports a bad header.validityPeriod with its codes. */
const seconds = (text: string): number => Number(text);
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const positiveInteger = (text: string): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 1000) throw new InvalidArgumentError('must be an integer from 1 to 1000');
  return value;
};

type Builder = (input: never, header: HeaderOptions) => BuiltRequest;

/** Builds the whole command tree; `execute` sends a built request and records the exit code. */
function buildProgram(
  io: RspIo,
  execute: (request: BuiltRequest, globals: GlobalOptions) => Promise<void>,
  login: (user: string, options: LoginOptions) => Promise<void>,
  scenario: (path: string, options: ScenarioRunOptions) => Promise<void>,
  bulk: (options: BulkCommandOptions, globals: GlobalOptions) => Promise<void>,
): Command {
  const { env } = io;
  const program = new Command('rsp')
    .description('Operator CLI: SGP.02 ES2 (SM-DP), ES4 and ES1 (SM-SR) calls over the HTTP binding')
    .option('--smdp-url <url>', 'SM-DP base URL (env RSP_SMDP_URL)', env.RSP_SMDP_URL ?? DEFAULT_SMDP_URL)
    .option('--smsr-url <url>', 'SM-SR base URL (env RSP_SMSR_URL)', env.RSP_SMSR_URL ?? DEFAULT_SMSR_URL)
    // No commander default: help would print the key taken from the environment.
    .option('--api-key <key>', 'MNO API key sent as X-API-Key (env RSP_API_KEY)')
    // No default either: a consent is a bearer token of its owner.
    .option('--consent <token>', "an owner's consent for this device, sent as X-Owner-Consent with ES2 and ES4 calls (env RSP_OWNER_CONSENT)")
    .option('--requester <id>', 'header.functionRequesterIdentifier (env RSP_REQUESTER_ID)', env.RSP_REQUESTER_ID ?? DEFAULT_REQUESTER)
    .option('--call-id <id>', 'header.functionCallIdentifier, the idempotency key (default: a fresh UUID)')
    .option('--validity <seconds>', 'header.validityPeriod in seconds', seconds)
    .option('--json', 'print the raw JSON response')
    .option('--watch', "follow an ES2 or ES4 call's steps while it runs (on stderr), from the called service's transaction stream; an ES2 call's ES3 calls with their card scripts from the SM-SR's record")
    .option('--timeout <seconds>', `seconds to wait for the answer (default: validity + 10, else ${DEFAULT_TIMEOUT_SECONDS})`, positiveSeconds)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showSuggestionAfterError();

  const action =
    <I>(builder: (input: I, header: HeaderOptions) => BuiltRequest, toInput: (options: Record<string, unknown>) => I = (o) => o as I) =>
    async (options: Record<string, unknown>): Promise<void> => {
      const globals = program.opts<GlobalOptions>();
      const header: HeaderOptions = { requester: globals.requester };
      if (globals.callId !== undefined) header.callId = globals.callId;
      if (globals.validity !== undefined) header.validity = globals.validity;
      await execute(builder(toInput(options), header), globals);
    };

  const smsrId = (command: Command): Command =>
    command.option('--smsr-id <id>', 'SM-SR the eUICC is registered with (env RSP_SMSR_ID)', env.RSP_SMSR_ID ?? DEFAULT_SMSR_ID);
  const eid = (command: Command): Command => command.option('--eid <eid>', 'EID (32 digits)');
  const iccid = (command: Command): Command => command.option('--iccid <iccid>', 'ICCID of the profile');
  const policy = (command: Command): Command =>
    command
      .option('--pol2 <json>', 'POL2 as a JSON array of { subject, action, qualification }')
      .option('--rule <action:qualification>', 'one POL2 rule, e.g. DISABLE:Not-Allowed (repeatable)', collect);

  // ES2: MNO → SM-DP (SGP.02 §5.3)
  const es2 = program.command('es2').description('MNO → SM-DP functions (SGP.02 §5.3), sent to --smdp-url');
  smsrId(eid(es2.command('get-eis').description('ES2.GetEIS: the EIS of an eUICC'))).action(action(requests.es2GetEis));
  smsrId(iccid(eid(es2.command('download-profile').description('ES2.DownloadProfile (§3.1): by --iccid or --profile-type'))))
    .option('--profile-type <type>', 'profile type, when no --iccid is given')
    .option('--enable', 'enable the profile once installed (enableProfile)')
    .action(action(requests.es2DownloadProfile));
  policy(smsrId(iccid(eid(es2.command('update-policy-rules').description('ES2.UpdatePolicyRules: replace POL2 of a profile'))))).action(
    action(requests.es2UpdatePolicyRules),
  );
  smsrId(iccid(eid(es2.command('update-subscription-address').description('ES2.UpdateSubscriptionAddress'))))
    .option('--imsi <imsi>', 'new IMSI')
    .option('--msisdn <msisdn>', 'new MSISDN')
    .action(action(requests.es2UpdateSubscriptionAddress));
  const es2Profiles: [string, string, Builder][] = [
    ['enable-profile', 'ES2.EnableProfile (§3.2)', requests.es2EnableProfile],
    ['disable-profile', 'ES2.DisableProfile (§3.3)', requests.es2DisableProfile],
    ['delete-profile', 'ES2.DeleteProfile (§3.4)', requests.es2DeleteProfile],
  ];
  for (const [name, description, builder] of es2Profiles) {
    smsrId(iccid(eid(es2.command(name).description(description)))).action(action(builder as typeof requests.es2EnableProfile));
  }
  // Many eUICCs at once (cli/bulk-download.ts)
  smsrId(es2.command('download-profiles').description('ES2.DownloadProfile on many eUICCs, N in flight: a summary, failures by code, a JSONL report (docs/cli.md)'))
    .requiredOption('--profile-type <type>', 'profile type to download to each eUICC')
    .option('--enable', 'enable each profile once downloaded')
    .option('--eids-file <path>', 'the eUICCs: one EID per line (# comments)')
    .option('--eids-from <url>', "the eUICCs: every device of a device API (npm start's http://127.0.0.1:8083, or a fleet's)")
    .option('--concurrency <n>', 'calls in flight (default 8)', positiveInteger, 8)
    .option('--run-id <id>', 'each call is {run-id}-{eid}: the same run id again replays the finished calls and downloads only the rest (default: a fresh one, printed)')
    .option('--report <path>', 'write one JSON line per eUICC: status, codes, ICCID, ms')
    .action((options: BulkCommandOptions) => bulk(options, program.opts<GlobalOptions>()));

  // ES4: MNO → SM-SR (SGP.02 §5.6)
  const es4 = program.command('es4').description('MNO → SM-SR functions (SGP.02 §5.6), sent to --smsr-url');
  eid(es4.command('get-eis').description("ES4.GetEIS: the EIS, filtered to the MNO's profiles")).action(action(requests.es4GetEis));
  eid(es4.command('audit-eis').description('ES4.AuditEIS: audit the eUICC, optionally some profiles only'))
    .option('--iccid <iccid>', 'limit the audit to this profile (repeatable)', collect)
    .action(action(requests.es4AuditEis));
  const es4Profiles: [string, string, Builder][] = [
    ['enable-profile', 'ES4.EnableProfile', requests.es4EnableProfile],
    ['disable-profile', 'ES4.DisableProfile', requests.es4DisableProfile],
    ['delete-profile', 'ES4.DeleteProfile', requests.es4DeleteProfile],
  ];
  for (const [name, description, builder] of es4Profiles) {
    iccid(eid(es4.command(name).description(description))).action(action(builder as typeof requests.es4EnableProfile));
  }
  policy(iccid(eid(es4.command('update-policy-rules').description('ES4.UpdatePolicyRules: replace POL2 of a profile')))).action(
    action(requests.es4UpdatePolicyRules),
  );
  iccid(eid(es4.command('update-subscription-address').description('ES4.UpdateSubscriptionAddress: new IMSI / MSISDN of a profile in the EIS')))
    .option('--imsi <imsi>', 'new IMSI')
    .option('--msisdn <msisdn>', 'new MSISDN')
    .action(action(requests.es4UpdateSubscriptionAddress));

  // Owners: an ID token without a browser (dev IdP, CIBA; cli/login.ts)
  program
    .command('login <user>')
    .description("an owner's ID token from the dev IdP without a browser (written to a file, mode 600)")
    .option('--idp <url>', 'the IdP issuer URL (env RSP_IDP_URL)', env.RSP_IDP_URL ?? DEFAULT_IDP_URL)
    .option('--password <password>', "the user's password (env RSP_OWNER_PASSWORD; dev users: the user name)")
    .option('--out <file>', 'where to write the token (default data/owner-token-<user>)')
    .option('--print', 'also print the token on stdout (for a script: TOKEN=$(npx rsp login alice --print))')
    .action((user: string, options: LoginOptions) => login(user, options));

  // Scenarios: declarative provisioning scenarios, on in-process stacks or a running one (docs/scenarios.md; cli/scenario.ts)
  program
    .command('scenario')
    .description('integration scenarios (docs/scenarios.md)')
    .command('run <path>')
    .description('run scenario files (a file or a folder of *.yaml), each on its own in-process stack, or with fresh cards of its own against a running stack (--smdp …)')
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--html <file>', 'write an HTML report with each scenario\'s message sequence diagram')
    .option('--seed <n>', 'override every scenario\'s seed', (text) => Number(text))
    .option('--stack <kind>', 'embedded (an in-process stack per scenario, the default) or remote (a running stack: npm start\'s URLs unless given)')
    .option('--smdp <url>', 'remote: the SM-DP (default http://127.0.0.1:8081)')
    .option('--smsr <url>', 'remote: the SM-SR (default http://127.0.0.1:8082)')
    .option('--sim <url>', 'remote: the stack\'s device API, whose EIDs fresh cards keep clear of (default http://127.0.0.1:8083)')
    .option('--registry <url>', 'remote: the owner registry (default http://127.0.0.1:8084)')
    .option('--idp <url>', 'remote: the dev IdP owners log in at (default http://127.0.0.1:8085)')
    .option('--mqtt-url <url>', 'remote: the stack\'s broker, joined by the fresh cards (default mqtts://127.0.0.1:8883)')
    .option('--data-dir <dir>', 'remote: the stack\'s data directory: its PKI and API key files (default data)')
    .option('--smsr-id <id>', 'remote: the SM-SR\'s id (default smsr.demo)')
    .option('--smdp-id <id>', 'remote: the SM-DP\'s id (default smdp.demo)')
    .option('--operator <map>', 'remote: a scenario operator on the stack, e.g. mno.a=mno.demo (repeatable; default in order mno.demo, mno.beta)', (value: string, all: string[] = []) => [...all, value])
    .action((path: string, options: ScenarioRunOptions) => scenario(path, options));

  // The SM-DP's inventory: an MNO's profile types, with the POL1 their profiles carry (docs/services.md "Policy rules")
  const mno = program.command('mno').description("the MNO's inventory at the SM-DP (--smdp-url)");
  mno
    .command('profile-type')
    .description('add or replace a profile type, with POL1 (written into its profiles, enforced by the card) and POL2 (kept by the SM-SR)')
    .requiredOption('--name <name>', 'profile type name, e.g. demo-iot-locked')
    .option('--pol1-rule <action:qualification>', 'a POL1 rule: DISABLE:Not-Allowed, DELETE:Not-Allowed or DISABLE:Auto-Delete (repeatable)', collect)
    .option('--pol2-rule <action:qualification>', 'a POL2 rule, e.g. DELETE:Not-Allowed (repeatable)', collect)
    .option('--template <hex>', 'a SAIP profile package template, DER as hex (default: the SM-DP\'s own)')
    .action(action(requests.mnoProfileType));
  mno
    .command('stock')
    .description('add subscriber records of a profile type: --generate N (Ki and OPc written once to --out, mode 600) or --file records.json')
    .requiredOption('--profile-type <type>', 'the profile type the records belong to (rsp mno profile-type)')
    .option('--generate <count>', 'generate this many records (1..10000): ICCID, IMSI, Ki, OPc')
    .option('--iccid-prefix <digits>', 'with --generate: ICCID issuer prefix, 89 and up to 10 more digits')
    .option('--imsi-prefix <digits>', 'with --generate: MCC+MNC, 5..10 digits')
    .option('--out <file>', 'with --generate: where the records with their Ki and OPc go (created mode 600, never overwritten)')
    .option('--file <path>', 'load these records instead: a JSON array of { iccid, imsi, ki, opc }')
    .action(action((input: StockInput) => mnoStock(input)));
  mno
    .command('subscriptions')
    .description("list the MNO's subscriber records (no Ki or OPc: the SM-DP never shows them after stocking)")
    .option('--state <state>', `only those in this state: ${SUBSCRIPTION_STATES.join(', ')}`)
    .option('--profile-type <type>', 'only those of this profile type')
    .action(action((input: { state?: string; profileType?: string }) => mnoSubscriptions(input)));

  // ES1: EUM → SM-SR (SGP.02 §5.5)
  const es1 = program.command('es1').description('EUM → SM-SR functions (SGP.02 §5.5), sent to --smsr-url');
  es1
    .command('register-eis')
    .description('ES1.RegisterEIS: register a signed EIS (JSON file: the EIS or { "eis": … })')
    .requiredOption('--file <path>', 'EIS JSON file')
    .action(action(requests.es1RegisterEis, (options) => readJsonFile(String(options.file))));

  return program;
}

interface LoginOptions {
  idp: string;
  password?: string;
  out?: string;
  print?: boolean;
}

/** A local problem the user can fix (bad file, bad option): one line, exit 1. */
class CliUsageError extends Error {}

function readJsonFile(path: string): unknown {
  const text = readUserFile(path, (message) => new CliUsageError(message));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliUsageError(`${path} is not valid JSON`);
  }
}

function timeoutMs(globals: GlobalOptions): number {
  const secondsToWait = globals.timeout ?? (globals.validity !== undefined && Number.isFinite(globals.validity) ? globals.validity + 10 : DEFAULT_TIMEOUT_SECONDS);
  return Math.round(secondsToWait * 1000);
}

/** Runs the CLI on `argv` (user arguments, without node and script) and returns the exit code. */
export async function runRsp(argv: readonly string[], ioOverrides: Partial<RspIo> = {}): Promise<number> {
  const io: RspIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    ...ioOverrides,
  };
  const line = (text: string) => io.stdout(`${text}\n`);
  let exitCode: number = EXIT.OK;

  const program = buildProgram(io, async (request, globals) => {
    const baseUrl = request.interface === 'es2' ? globals.smdpUrl : globals.smsrUrl;
    // An inventory call (cli/inventory.ts) is no SGP.02 function: its own method and presentation, no consent.
    const inventory = 'present' in request ? (request as InventoryRequest) : undefined;
    // The consent goes with the MNO's profile functions only: ES2 to the SM-DP, ES4 to the SM-SR, which both
    // check it (docs/owner-registry.md "Fail closed"); the reads, an EUM's ES1 call and the inventory never see the token.
    const consentChecked = (request.interface === 'es2' || request.interface === 'es4') && !inventory && !READS.has(request.functionName);
    const ownerConsent = consentChecked ? (globals.consent ?? io.env.RSP_OWNER_CONSENT) : undefined;
    const apiKey = globals.apiKey ?? io.env.RSP_API_KEY;
    // --watch: the progress stream is opened beside the call and closed once the answer is in.
    const stopWatching = new AbortController();
    const callId = (request.body as { header?: { functionCallIdentifier?: string } } | undefined)?.header?.functionCallIdentifier;
    // ES2 at the SM-DP (with each ES3 call's card scripts from the SM-SR), ES4 at the SM-SR; ES1 has no log.
    const followed = request.interface === 'es2' ? ({ name: 'SM-DP', url: baseUrl } as const) : request.interface === 'es4' ? ({ name: 'SM-SR', url: baseUrl } as const) : undefined;
    const watching =
      globals.watch && followed && callId && !inventory
        ? watchTransaction({
            service: followed,
            ...(request.interface === 'es2' ? { smsrUrl: globals.smsrUrl } : {}),
            apiKey,
            callId,
            progress: (text) => io.stderr(`${text}\n`),
            signal: stopWatching.signal,
            ...(io.fetch ? { fetch: io.fetch } : {}),
          })
        : undefined;
    let answer;
    try {
      answer = await postFunction(endpointUrl(baseUrl, request.path), request.body, {
        apiKey,
        ...(inventory ? { method: inventory.method } : {}),
        ...(ownerConsent ? { ownerConsent } : {}),
        timeoutMs: timeoutMs(globals),
        ...(io.fetch ? { fetch: io.fetch } : {}),
      });
    } catch (error) {
      inventory?.abandon?.();
      throw error;
    } finally {
      // Let the stream print its last step (it ends by itself at "done"), then stop it.
      if (watching) await Promise.race([watching, new Promise((resolve) => setTimeout(resolve, 500))]);
      stopWatching.abort();
      await watching;
    }
    const shown = inventory ? inventory.present(answer) : { body: answer.body };
    if (globals.json) line(JSON.stringify(shown.body, null, 2));
    else {
      (shown.lines ?? formatResponse(request.functionName, answer.status, answer.body)).forEach(line);
      for (const hint of hintsFor(request.functionName, answer.status, { consentSent: ownerConsent !== undefined })) io.stderr(`hint: ${hint}\n`);
    }
    exitCode = exitCodeFor(answer.status);
  }, async (user, options) => {
    const password = options.password ?? io.env.RSP_OWNER_PASSWORD;
    if (password === undefined) throw new CliUsageError('pass --password (or RSP_OWNER_PASSWORD); the dev users alice and bob have their name as password');
    const token = await ownerLogin({ issuer: options.idp, user, password, ...(io.fetch ? { fetch: io.fetch } : {}) });
    const file = resolve(options.out ?? join('data', `owner-token-${user.replace(/[^A-Za-z0-9_.-]/g, '_')}`));
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    chmodSync(file, 0o600); // an existing file keeps its mode on write
    io.stderr(`signed in as ${user} at ${options.idp}; ID token in ${file} (send it as Authorization: Bearer to the owner registry)\n`);
    if (options.print) line(token);
  }, async (path, options) => {
    exitCode = await runScenarioCommand(path, options, io.stdout);
  }, async (options, globals) => {
    const apiKey = globals.apiKey ?? io.env.RSP_API_KEY;
    const call = { smdpUrl: globals.smdpUrl, requester: globals.requester, timeoutMs: timeoutMs(globals), json: globals.json === true };
    exitCode = await runDownloadProfiles({ ...options, ...call, ...(apiKey ? { apiKey } : {}), ...(globals.validity !== undefined ? { validity: globals.validity } : {}) }, io);
  });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    // Commander already printed its message (usage error) or the help (exit code 0).
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE_OR_TRANSPORT;
    io.stderr(`rsp: ${describeError(error)}\n`);
    return EXIT.USAGE_OR_TRANSPORT;
  }
}

/** One line, never a stack trace. */
function describeError(error: unknown): string {
  if (error instanceof ContractFailure) return `${error.message} (${error.subjectCode}/${error.reasonCode}; nothing sent)`;
  if (error instanceof CliTransportError || error instanceof CliUsageError || error instanceof LoginError || error instanceof InventoryUsageError || error instanceof BulkUsageError) {
    return error.message;
  }
  if (isRspError(error)) return `${error.code}: ${error.message}`;
  return `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runRsp(process.argv.slice(2));
}
