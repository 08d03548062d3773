/**
 * The SGP.02 common function frame (§5.1 "Common aspects") of every off-card interface this project serves:
 * ES1 and ES4 (SM-SR, HTTP), ES2 (SM-DP, HTTP) and ES3 (SM-SR, MQTT service requests). An interface is a
 * table of rows ({@link FunctionRow}: name, validator, handler, spec clause, owner-policy guard); the
 * transports only turn their request into a {@link FrameCall} (with the requester they proved) and write the
 * {@link FrameAnswer} back. Pure: the idempotency store and the clock are ports.
 *
 * | # | step | refused with | spec |
 * |---|---|---|---|
 * | 1 | credential: what the transport proved (API key, the ES3 topic's caller level) | none sent: 1.1 / 1.1 (HTTP 401); unknown: 1.1 / 1.1 | §5.1 |
 * | 2 | function: the name (any case) is a row of the interface | 1.6 / 3.1 | §5.1 |
 * | 3 | validate: the row's @rsp/contracts validator | 1.6 / 2.x, the parameter path | §5.1 |
 * | 4 | requester: header.functionRequesterIdentifier = the proven requester | 1.1 / 1.2 | §5.1 |
 * | 5 | deadline: validityPeriod (s) from receipt → an epoch-ms deadline the handler honours | Expired 1.6 / 5.3 | §5.1 |
 * | 6 | guard: the row's owner policy (consent, suspension); a refusal is answered, never stored | its status | docs/owner-registry.md |
 * | 7 | idempotency: claim (requester, functionCallIdentifier) with the request fingerprint; a repeat replays the stored answer; another request under the identifier is refused | 1.6 / 3.3 | §5.1 |
 * | 8 | in progress: a repeat of a running call waits for its answer (below) | 1.2 / 4.4, or Expired 1.6 / 5.3 | §5.1 [U] |
 * | 9 | execute: the row's handler; any error → its functionExecutionStatus, never a stack trace | the interface's mapping | §5.1 |
 *
 * **In progress, one rule everywhere** (step 8): SGP.02 §5.1 makes functionCallIdentifier the identity of
 * a call, so a repeat gets the first call's outcome and never runs it again. A repeat arriving while the
 * first call still runs therefore waits for that outcome, polling the store, so it also sees an answer
 * another process stored (a download flow resumed after a crash, docs/services.md "Crash recovery"). The
 * wait ends at the earliest of: `replayWaitMs` (default 120 s) → Failed 1.2 / 4.4 "function provider busy"
 * (SPEC-NOTES code table; [U]: SGP.02 names the code but not this use); the repeat's own validityPeriod →
 * Expired 1.6 / 5.3; the transport's deadline (ES3 envelope), a little before it so the answer still
 * arrives → busy. Any later repeat gets the final answer.
 */
import { isRspError } from '@rsp/errors';
import { statusCodeFor, toExecutionStatus } from './error-mapping';
import { ContractFailure, StatusError } from './errors';
import type { LogFields, RspLogger } from './logger';
import type { RequestHeader } from './messages/common';
import { parse, type Check } from './schema';
import { REASON, STATUS_CODE, SUBJECT, executedSuccess, expired, failed, type FunctionExecutionStatus, type StatusCodeData } from './status';

export type FrameInterface = 'ES1' | 'ES2' | 'ES3' | 'ES4';

/** A processed call's answer body: the header with the execution status, plus the function's output. */
export type FunctionResult = { header: { functionExecutionStatus: FunctionExecutionStatus } } & Record<string, unknown>;

/** What a transport writes back. MQTT sends `response` only; HTTP also uses `httpStatus`. */
export interface FrameAnswer {
  readonly response: FunctionResult;
  /** The HTTP binding (docs/services.md): 401 when no credential at all was sent, else 200 for every answered call. */
  readonly httpStatus: 200 | 401;
}

/** What the transport proved about who calls. */
export type ProvenRequester =
  /** An API key (HTTP) or the caller level of the ES3 request topic, which only that SM-DP may publish to. */
  | { readonly kind: 'proven'; readonly id: string }
  /** No credential sent: 1.1 / 1.1, HTTP 401. */
  | { readonly kind: 'missing' }
  /** A credential that names nobody: 1.1 / 1.1. */
  | { readonly kind: 'unknown' }
  /**
   * No credential, and the function proves the requester itself (a row with `authenticatesRequester`: ES1
   * RegisterEIS verifies the EUM's signature over the EIS), accepted for the header's requester only when
   * `allowed` says so (an EUM configured with an API key must send it); otherwise as `missing`.
   */
  | { readonly kind: 'by-function'; readonly allowed: (claimed: string) => boolean }
  /** A caller inside the service process (tests, the service's own wiring): the header names the requester. */
  | { readonly kind: 'in-process' };

/** One call as a transport hands it over. */
export interface FrameCall {
  readonly iface: FrameInterface;
  /** As received (`enableProfile`, `EnableProfile`); matched without regard to case. */
  readonly functionName: string;
  /** The parsed body as received; the row's validator decides. Signatures are verified over this. */
  readonly body: unknown;
  readonly requester: ProvenRequester;
  /** Epoch ms after which the caller no longer waits (the ES3 envelope deadline). */
  readonly transportDeadline?: number;
  /** The owner's consent (`X-Owner-Consent`, a JWS), for the row's guard. */
  readonly ownerConsent?: string;
}

/** What a row's handler and guard receive besides the validated request. */
export interface CallContext {
  readonly iface: FrameInterface;
  /** The SGP.02 name of the row. */
  readonly functionName: string;
  readonly requester: string;
  readonly functionCallIdentifier: string;
  /** Epoch ms from validityPeriod, if any: the handler ends `Expired` past it. */
  readonly deadline?: number;
  /** The idempotency fingerprint of the request (the SM-DP's download flow keeps it to answer repeats after a crash). */
  readonly fingerprint: string;
  /** The body as received (signatures are checked over it, not over a re-encoding). */
  readonly body: unknown;
  readonly ownerConsent?: string;
}

/** One function of an interface. */
export interface FunctionRow<Request extends { header: RequestHeader } = { header: RequestHeader }> {
  /** SGP.02 name, e.g. `DownloadProfile`. */
  readonly name: string;
  /** The clause that defines it, e.g. `SGP.02 §5.3.2 [U numbering]`. */
  readonly spec: string;
  readonly validator: Check<Request>;
  /**
   * The function's output, answered Executed-Success; or a whole FunctionResult when the function decides
   * its outcome itself (a persisted flow that ended Failed / Expired with output, e.g. ES2 DownloadProfile).
   */
  readonly handler: (request: Request, call: CallContext) => Promise<Record<string, unknown>>;
  /** Owner policy: runs after validation, before the claim; a thrown error or a returned status refuses the call. */
  readonly guard?: (request: Request, call: CallContext) => Promise<FunctionExecutionStatus | void>;
  /** The function proves its requester itself (see ProvenRequester `by-function`). */
  readonly authenticatesRequester?: boolean;
}

/** Builds a row (the request type is checked here and erased in the table). */
export function functionRow<Request extends { header: RequestHeader }>(row: FunctionRow<Request>): FunctionRow {
  return row as unknown as FunctionRow;
}

/** Outcome of a claim, as @rsp/persistence's idempotency stores return it. */
export type ClaimOutcome<T> =
  | { readonly status: 'succeeded'; readonly response: T; readonly replayed: boolean }
  | { readonly status: 'failed'; readonly errorCode: string; readonly errorMessage: string; readonly replayed: boolean }
  | { readonly status: 'in-progress' }
  | { readonly status: 'conflict' };

/** Port: at-most-once execution per (requester key, functionCallIdentifier) with a request fingerprint (IdempotencyStore, MemoryIdempotencyStore). */
export interface IdempotencyClaims {
  claimOrReplay<T>(requester: string, callId: string, compute: () => Promise<T>, fingerprint?: string): Promise<ClaimOutcome<T>>;
}

/** Port: time. */
export interface FrameClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export type FrameLogger = Pick<RspLogger, 'warn' | 'error'>;

/** Maps a handler's or guard's error to the status answered (the default: {@link toExecutionStatus}). */
export type ErrorStatusMapper = (error: unknown, context: { now: number; deadline?: number; subjectIdentifier?: string }) => FunctionExecutionStatus;

/** One interface: its rows and where its calls are claimed. */
export interface InterfaceTable {
  readonly iface: FrameInterface;
  readonly rows: readonly FunctionRow[];
  readonly idempotency: IdempotencyClaims;
  /** The requester's idempotency key; default `{iface}/{requester}`. */
  readonly claimKey?: (requester: string) => string;
  /** The function name the fingerprint covers; default `{iface}.{name}` (ES4.GetEIS ≠ ES4.DisableProfile). */
  readonly fingerprintName?: (name: string) => string;
  readonly statusOf?: ErrorStatusMapper;
}

export interface FunctionFrameOptions {
  readonly tables: readonly InterfaceTable[];
  /** The request fingerprint (@rsp/persistence requestFingerprint: SHA-256 of the canonical `{ fn, request }`). */
  readonly fingerprint: (functionName: string, request: unknown) => string;
  /** Longest wait of a repeat for a running first call (step 8). Default 120 000 ms. */
  readonly replayWaitMs?: number;
  readonly clock?: FrameClock;
  readonly logger?: FrameLogger;
}

/** SGP.02 §5.1: the identifier names ONE request of its requester [U: SGP.02 names no dedicated pair; 1.6 / 3.3 "already in use"]. */
export const CALL_ID_REUSED = {
  subjectCode: SUBJECT.FUNCTION,
  reasonCode: REASON.ALREADY_IN_USE,
  message: 'functionCallIdentifier already used for another request',
} as const satisfies StatusCodeData;

/** A name that is no row of the interface (1.6 / 3.1 unsupported). */
export const FUNCTION_UNSUPPORTED = { subjectCode: SUBJECT.FUNCTION, reasonCode: REASON.UNSUPPORTED, message: 'Function not supported' } as const satisfies StatusCodeData;

export const DEFAULT_REPLAY_WAIT_MS = 120_000;
const CALL_ID_REUSED_CODE = `${CALL_ID_REUSED.subjectCode}/${CALL_ID_REUSED.reasonCode}`;
/** The wait for a running call ends this long before the transport deadline, so the answer still arrives. */
const TRANSPORT_MARGIN_MS = 250;
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 500;

const SYSTEM_CLOCK: FrameClock = { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
const SILENT: FrameLogger = { warn: () => undefined, error: () => undefined };

/** A FunctionResult carrying only a status. */
export function statusOnly(status: FunctionExecutionStatus): FunctionResult {
  return { header: { functionExecutionStatus: status } };
}

const answer = (status: FunctionExecutionStatus, httpStatus: 200 | 401 = 200): FrameAnswer => ({ response: statusOnly(status), httpStatus });

export class FunctionFrame {
  private readonly tables = new Map<FrameInterface, InterfaceTable>();
  private readonly replayWaitMs: number;
  private readonly clock: FrameClock;
  private readonly logger: FrameLogger;

  constructor(private readonly options: FunctionFrameOptions) {
    for (const table of options.tables) this.tables.set(table.iface, table);
    this.replayWaitMs = options.replayWaitMs ?? DEFAULT_REPLAY_WAIT_MS;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.logger = options.logger ?? SILENT;
  }

  /** SGP.02 names of an interface's functions. */
  functionNames(iface: FrameInterface): string[] {
    return (this.tables.get(iface)?.rows ?? []).map((row) => row.name);
  }

  /** Runs one call through steps 1–9. Always resolves: every refusal and failure is an answer. */
  async call(call: FrameCall): Promise<FrameAnswer> {
    if (call.requester.kind === 'missing') return answer(failed(STATUS_CODE.REQUESTER_UNKNOWN), 401); // 1
    if (call.requester.kind === 'unknown') return answer(failed(STATUS_CODE.REQUESTER_UNKNOWN));
    const found = this.rowOf(call.iface, call.functionName);
    if (!found) return answer(failed(FUNCTION_UNSUPPORTED, call.functionName.slice(0, 64))); // 2
    const { table, row } = found;
    let request: { header: RequestHeader };
    try {
      request = parse(row.validator, call.body); // 3
    } catch (error) {
      return answer(toExecutionStatus(error));
    }
    const { functionRequesterIdentifier: requester, functionCallIdentifier, validityPeriod } = request.header;
    const refusal = this.refuseRequester(call.requester, row, requester); // 4
    if (refusal) return refusal;

    const received = this.clock.now();
    const deadline = validityPeriod === undefined ? undefined : received + validityPeriod * 1000; // 5
    const fingerprint = this.fingerprintOf(table, row, request);
    const context: CallContext = {
      iface: table.iface,
      functionName: row.name,
      requester,
      functionCallIdentifier,
      fingerprint,
      body: call.body,
      ...(deadline !== undefined ? { deadline } : {}),
      ...(call.ownerConsent !== undefined ? { ownerConsent: call.ownerConsent } : {}),
    };
    const subject = subjectOf(request);
    if (row.guard) {
      try {
        const refused = await row.guard(request, context); // 6
        if (refused) return answer(refused);
      } catch (error) {
        return answer(this.statusOf(table, error, deadline, eidOf(request)));
      }
    }
    const compute = () => this.execute(table, row, request, context, subject); // 9
    return { response: await this.claim(table, context, compute, this.waitLimit(deadline, call.transportDeadline, subject)), httpStatus: 200 }; // 7, 8
  }

  /**
   * Where a call of `body` is claimed: the store, the requester key, the identifier and the fingerprint
   * (for tests and tools that hold or inspect a claim, e.g. a call in progress). Throws a ContractFailure
   * for a body the row's validator refuses.
   */
  claimOf(iface: FrameInterface, functionName: string, body: unknown): { idempotency: IdempotencyClaims; key: string; callId: string; fingerprint: string } {
    const found = this.rowOf(iface, functionName);
    if (!found) throw new StatusError(FUNCTION_UNSUPPORTED, functionName.slice(0, 64));
    const request = parse(found.row.validator, body);
    return {
      idempotency: found.table.idempotency,
      key: this.claimKey(found.table, request.header.functionRequesterIdentifier),
      callId: request.header.functionCallIdentifier,
      fingerprint: this.fingerprintOf(found.table, found.row, request),
    };
  }

  private rowOf(iface: FrameInterface, functionName: string): { table: InterfaceTable; row: FunctionRow } | undefined {
    const table = this.tables.get(iface);
    const row = table?.rows.find((candidate) => candidate.name.toLowerCase() === functionName.toLowerCase());
    return table && row ? { table, row } : undefined;
  }

  private fingerprintOf(table: InterfaceTable, row: FunctionRow, request: { header: RequestHeader }): string {
    return this.options.fingerprint(table.fingerprintName?.(row.name) ?? `${table.iface}.${row.name}`, request);
  }

  private refuseRequester(proven: ProvenRequester, row: FunctionRow, claimed: string): FrameAnswer | undefined {
    switch (proven.kind) {
      case 'proven':
        return proven.id === claimed ? undefined : answer(failed(STATUS_CODE.REQUESTER_NOT_ALLOWED, claimed));
      case 'by-function':
        return row.authenticatesRequester && proven.allowed(claimed) ? undefined : answer(failed(STATUS_CODE.REQUESTER_UNKNOWN), 401);
      case 'in-process':
        return undefined;
      default:
        return answer(failed(STATUS_CODE.REQUESTER_UNKNOWN), 401);
    }
  }

  /** Step 8's bound: the earliest of the replay wait, the validityPeriod and the transport deadline, with the answer it gives. */
  private waitLimit(deadline: number | undefined, transportDeadline: number | undefined, subject: string | undefined): { at: number; status: FunctionExecutionStatus } {
    const busy = failed(STATUS_CODE.PROVIDER_BUSY);
    let limit = { at: this.clock.now() + this.replayWaitMs, status: busy };
    if (deadline !== undefined && deadline < limit.at) limit = { at: deadline, status: expired(subject) };
    if (transportDeadline !== undefined && transportDeadline - TRANSPORT_MARGIN_MS < limit.at) limit = { at: transportDeadline - TRANSPORT_MARGIN_MS, status: busy };
    return limit;
  }

  /** Steps 7 and 8: claim, replay, refuse a conflict, or wait for the running first call. */
  private async claim(table: InterfaceTable, context: CallContext, compute: () => Promise<FunctionResult>, limit: { at: number; status: FunctionExecutionStatus }): Promise<FunctionResult> {
    const what = `${table.iface}.${context.functionName}`;
    const key = this.claimKey(table, context.requester);
    let pause = FIRST_POLL_MS;
    try {
      for (;;) {
        const outcome = await table.idempotency.claimOrReplay(key, context.functionCallIdentifier, compute, context.fingerprint);
        if (outcome.status === 'succeeded') return outcome.response;
        if (outcome.status === 'conflict') {
          // A replay attempt or a client bug: worth a line (names only; the request stays out of the log).
          this.logger.warn(`${what} from ${context.requester}: functionCallIdentifier reused with another request, refused`, this.fieldsOf(context, CALL_ID_REUSED_CODE));
          return statusOnly(failed(CALL_ID_REUSED, 'header.functionCallIdentifier'));
        }
        if (outcome.status === 'failed') return statusOnly(failed(statusCodeFor(outcome.errorCode) ?? STATUS_CODE.EXECUTION_ERROR));
        const left = limit.at - this.clock.now();
        if (left <= 0) return statusOnly(limit.status);
        await this.clock.sleep(Math.min(pause, left));
        pause = Math.min(pause * 2, MAX_POLL_MS);
      }
    } catch (error) {
      this.logger.error(`${what}: idempotency store failed: ${describeError(error)}`, this.fieldsOf(context));
      return statusOnly(failed(STATUS_CODE.EXECUTION_ERROR));
    }
  }

  private async execute(table: InterfaceTable, row: FunctionRow, request: { header: RequestHeader }, context: CallContext, subject: string | undefined): Promise<FunctionResult> {
    try {
      const output = await row.handler(request, context);
      if (isFunctionResult(output)) return output;
      return { header: { functionExecutionStatus: executedSuccess() }, ...output };
    } catch (error) {
      // A refusal the function decided (StatusError, ContractFailure) is no news; anything else is worth a line.
      if (!(error instanceof StatusError) && !(error instanceof ContractFailure)) {
        this.logger.warn(`${table.iface}.${row.name} from ${context.requester} failed: ${describeError(error)}`, this.fieldsOf(context, isRspError(error) ? error.code : undefined));
      }
      return statusOnly(this.statusOf(table, error, context.deadline, subject));
    }
  }

  /** The correlation ids of a call's log line (issue 10 item 6). */
  private fieldsOf(context: CallContext, code?: string): LogFields {
    const eid = (context.body as { eid?: unknown } | undefined)?.eid;
    return {
      functionCallIdentifier: context.functionCallIdentifier,
      requester: context.requester,
      ...(typeof eid === 'string' ? { eid } : {}),
      ...(code !== undefined ? { code } : {}),
    };
  }

  private statusOf(table: InterfaceTable, error: unknown, deadline: number | undefined, subjectIdentifier: string | undefined): FunctionExecutionStatus {
    const mapper = table.statusOf;
    if (!mapper) return toExecutionStatus(error, subjectIdentifier);
    return mapper(error, { now: this.clock.now(), ...(deadline !== undefined ? { deadline } : {}), ...(subjectIdentifier !== undefined ? { subjectIdentifier } : {}) });
  }

  private claimKey(table: InterfaceTable, requester: string): string {
    return table.claimKey?.(requester) ?? `${table.iface}/${requester}`;
  }
}

function isFunctionResult(output: Record<string, unknown>): output is FunctionResult {
  const header = output.header as { functionExecutionStatus?: { status?: unknown } } | undefined;
  return typeof header?.functionExecutionStatus?.status === 'string';
}

/** The subject a failure names: the ICCID when the function has one, else the EID. */
function subjectOf(request: object): string | undefined {
  const fields = request as { iccid?: unknown; eid?: unknown };
  return typeof fields.iccid === 'string' ? fields.iccid : eidOf(request);
}

function eidOf(request: object): string | undefined {
  const eid = (request as { eid?: unknown }).eid;
  return typeof eid === 'string' ? eid : undefined;
}

/** Code and message of an error for a service log (no stack, no request data). */
export function describeError(error: unknown): string {
  if (isRspError(error)) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return `${(error as { code?: unknown }).code ?? error.name}: ${error.message}`;
  return String(error);
}
