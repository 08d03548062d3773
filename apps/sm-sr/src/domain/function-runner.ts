/**
 * The common frame of every SM-SR function (SGP.02 §5.1 "Common aspects"):
 *
 * | # | step | spec |
 * |---|---|---|
 * | 1 | validate: the request against its @rsp/contracts validator (1.6 / 2.x on failure) | §5.1 |
 * | 2 | requester: header.functionRequesterIdentifier = the authenticated peer (else 1.1 / 1.2) | §5.1 |
 * | 2b | guard: owner checks (device suspended, owner consent; domain/owner-policy.ts), never stored | docs/owner-registry.md |
 * | 3 | deadline: validityPeriod (s) → an epoch-ms deadline handed to ES5 | §5.1 |
 * | 4 | idempotency: a repeated functionCallIdentifier of the same requester returns the stored response if the request is the same, else Failed 1.6 / 3.3 (nothing runs) | §5.1 functionCallIdentifier |
 * | 5 | execute: the use case; any failure becomes a Failed / Expired status, never a stack trace | §5.1 |
 */
import { executedSuccess, failed, parse, REASON, STATUS_CODE, SUBJECT, toExecutionStatus, type Check, type FunctionExecutionStatus, type RequestHeader } from '@rsp/contracts';
import { requestFingerprint, type IdempotencyPort } from '@rsp/persistence';
import { executionStatusOf, SMSR_STATUS } from './errors';
import type { SmSrLogger } from './model';

export type SmSrInterface = 'ES1' | 'ES3' | 'ES4';

/** What a use case receives besides its request. */
export interface CallContext {
  requester: string;
  /** Epoch ms from validityPeriod, if any. */
  deadline?: number;
  functionCallIdentifier: string;
}

/** A processed call's response: the header plus the function's output. */
export type FunctionResult = { header: { functionExecutionStatus: FunctionExecutionStatus } } & Record<string, unknown>;

export interface FunctionCall<Request extends { header: RequestHeader }> {
  iface: SmSrInterface;
  name: string;
  check: Check<Request>;
  body: unknown;
  /**
   * The requester the transport proved: the MNO by its API key (ES4), the SM-DP by the caller level of its
   * ES3 request topic, which only it may publish to (broker-acl.ts), the EUM by its API key (ES1). Undefined
   * only for an ES1 EUM without an API key, which its signature over the EIS authenticates instead.
   */
  authenticated?: string;
  handler: (request: Request, context: CallContext) => Promise<Record<string, unknown>>;
  /** Runs before the idempotency claim; a throw is answered (subject: the EID) and not stored. */
  guard?: (request: Request, requester: string) => Promise<void>;
}

/**
 * SGP.02 §5.1 functionCallIdentifier: the identifier names ONE request of its requester; reused with
 * another request it is refused. The same pair as the SM-DP's ES2 (SMDP_STATUS.CALL_ID_REUSED): subject
 * 1.6 function, reason 3.3 "already in use (uniqueness)" [U: SGP.02 names no dedicated pair].
 */
export const CALL_ID_REUSED = { subjectCode: SUBJECT.FUNCTION, reasonCode: REASON.ALREADY_IN_USE, message: 'functionCallIdentifier already used for another request' } as const;

export function failedResult(status: FunctionExecutionStatus): FunctionResult {
  return { header: { functionExecutionStatus: status } };
}

export class FunctionRunner {
  constructor(
    /** Per interface: ES3 repeats can be kept in memory on a single instance (sm-sr-service.ts). */
    private readonly idempotency: Readonly<Record<SmSrInterface, IdempotencyPort>>,
    private readonly logger: SmSrLogger,
    private readonly now: () => number = Date.now,
  ) {}

  async run<Request extends { header: RequestHeader }>(call: FunctionCall<Request>): Promise<FunctionResult> {
    let request: Request;
    try {
      request = parse(call.check, call.body); // 1
    } catch (error) {
      return failedResult(toExecutionStatus(error));
    }
    const { functionRequesterIdentifier: requester, functionCallIdentifier, validityPeriod } = request.header;
    if (call.authenticated !== undefined && call.authenticated !== requester) {
      return failedResult(failed(SMSR_STATUS.REQUESTER_NOT_ALLOWED, requester)); // 2
    }
    if (call.guard) {
      try {
        await call.guard(request, requester); // 2b
      } catch (error) {
        const eid = (request as { eid?: unknown }).eid;
        return failedResult(executionStatusOf(error, { now: this.now(), ...(typeof eid === 'string' ? { subjectIdentifier: eid } : {}) }));
      }
    }
    const deadline = validityPeriod === undefined ? undefined : this.now() + validityPeriod * 1000; // 3
    const subject = subjectOf(request);
    const context: CallContext = { requester, functionCallIdentifier, ...(deadline !== undefined ? { deadline } : {}) };
    const compute = async (): Promise<FunctionResult> => {
      try {
        const output = await call.handler(request, context); // 5
        return { header: { functionExecutionStatus: executedSuccess() }, ...output };
      } catch (error) {
        const status = executionStatusOf(error, { now: this.now(), ...(deadline !== undefined ? { deadline } : {}), ...(subject ? { subjectIdentifier: subject } : {}) });
        if (status.statusCodeData?.reasonCode === '4.2') this.logger.warn(`${call.iface}.${call.name} failed: ${describe(error)}`);
        return failedResult(status);
      }
    };
    // 4: the fingerprint of the validated request, the function included (ES4.GetEIS ≠ ES4.DisableProfile).
    const fingerprint = requestFingerprint(`${call.iface}.${call.name}`, request);
    try {
      const outcome = await this.idempotency[call.iface].claimOrReplay(`${call.iface}/${requester}`, functionCallIdentifier, compute, fingerprint); // 4
      if (outcome.status === 'succeeded') return outcome.response;
      if (outcome.status === 'conflict') {
        // A replay attempt or a client bug: worth a line (names only; the request stays out of the log).
        this.logger.warn(`${call.iface}.${call.name} from ${requester}: functionCallIdentifier reused with another request, refused`);
        return failedResult(failed(CALL_ID_REUSED, 'header.functionCallIdentifier'));
      }
      if (outcome.status === 'in-progress') return failedResult(failed(STATUS_CODE.PROVIDER_BUSY));
      return failedResult(failed(STATUS_CODE.EXECUTION_ERROR));
    } catch (error) {
      this.logger.error(`${call.iface}.${call.name}: ${describe(error)}`);
      return failedResult(failed(STATUS_CODE.EXECUTION_ERROR));
    }
  }
}

function subjectOf(request: object): string | undefined {
  const fields = request as { iccid?: unknown; eid?: unknown };
  if (typeof fields.iccid === 'string') return fields.iccid;
  return typeof fields.eid === 'string' ? fields.eid : undefined;
}

/** Code and message of an error for the service log (no stack, no request data). */
export function describe(error: unknown): string {
  if (error instanceof Error) return `${(error as { code?: unknown }).code ?? error.name}: ${error.message}`;
  return String(error);
}
