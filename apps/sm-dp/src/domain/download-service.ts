/**
 * Runs ES2.DownloadProfile through the persisted flow and turns its end into the ES2 response
 * (SGP.02 §3.1, §5.3): Executed-Success with the ICCID, Failed with the step's SGP.02 codes, or Expired
 * when the validityPeriod elapsed (1.6 / 5.3). Compensation: ISD-P deleted, subscription released.
 *
 * Crash recovery (docs/services.md "Crash recovery"): everything a flow's end needs is in its row (the
 * failure status and compensation hint in `context.failure`, the ES2 call id in `context.replay`), so
 * {@link DownloadService.resumeInterrupted} can finish, compensate and answer flows a killed process left
 * running, and compensate failed ones whose compensation the crash cut short.
 */
import { randomUUID } from 'node:crypto';
import { executedSuccess, expired, toExecutionStatus, type es2, type LogFields, type RspLogger } from '@rsp/contracts';
import { isRspError, RspError } from '@rsp/errors';
import type { FlowContext, FlowDefinition, StateMachine, StateMachineOptions, StepInfo, TransactionRecord } from '@rsp/persistence';
import { DOWNLOAD_FLOW, downloadFlow, isIccidUnknown, stepIndex, type DownloadContext, type DownloadDependencies } from './download-flow';
import type { Es3Gateway } from './es3-gateway';
import type { Inventory } from './inventory';

/** The shared logger port (a message plus correlation ids). */
export type Logger = RspLogger;

/** The correlation ids of a download's log line: its transaction, the EID, the MNO's call id and the ICCID once reserved. */
function downloadFields(transactionId: string, context: Readonly<DownloadContext> | undefined, code?: string): LogFields {
  return {
    transactionId,
    ...(context?.eid ? { eid: context.eid } : {}),
    ...(context?.replay ? { functionCallIdentifier: context.replay.callId } : {}),
    ...(context?.iccid ? { iccid: context.iccid } : {}),
    ...(code !== undefined ? { code } : {}),
  };
}

/** Timeout of the compensating DeleteISDP (runs after the deadline too). */
const COMPENSATION_TIMEOUT_MS = 30_000;
/** At start-up, failed / expired flows this recent without a recorded compensation are compensated. */
const UNCOMPENSATED_LOOKBACK_MS = 24 * 60 * 60 * 1000;

/**
 * Port: runs a compensation again later when its DeleteISDP failed (adapters: the SM-DP's outbox, whose
 * backoff paces the retries and which dead-letters after its last attempt).
 */
export interface CompensationRetryQueue {
  retryLater(transactionId: string): Promise<void>;
}

/** An 'isdp-kept' compensation that failed again: the ISD-P may still be on the card, the ICCID stays reserved. */
export class CompensationPending extends RspError {
  static override readonly code = 'ERR_SMDP_COMPENSATION_PENDING';
}

export interface DownloadServiceOptions {
  /** Where a compensation that could not delete the ISD-P goes to be run again; absent, it is only logged. */
  compensationRetry?: CompensationRetryQueue;
  /**
   * Test hook (RSP_TEST_PAUSE_AT_STEP, test/e2e/crash-recovery.spec.ts): a first run of this step waits
   * forever, so a test can `kill -9` the process there. Unset in production: no effect.
   */
  pauseAtStep?: string;
}

/** The persisted state machine (@rsp/persistence StateMachine over the database) as this service drives it. */
export type FlowEngine = Pick<StateMachine, 'start' | 'resume' | 'get' | 'findRunning' | 'findEnded' | 'annotate'>;

/** Opens the flow engine for these flows (app.ts: a StateMachine on the SM-DP's DataSource). */
export type FlowEngineFactory = (flows: ReadonlyArray<FlowDefinition<FlowContext>>, options: StateMachineOptions) => FlowEngine;

/** Stores the ES2 response of a resumed flow for repeats of its call (Es2Service.settleReplay). */
export type ReplaySettler = (mnoId: string, replay: NonNullable<DownloadContext['replay']>, response: es2.DownloadProfileResponse) => Promise<void>;

export class DownloadService {
  readonly flow: FlowDefinition<DownloadContext>;
  private readonly machine: FlowEngine;
  private readonly deadlines = new Map<string, Date>();
  private readonly inventory: Inventory;
  private readonly es3: Es3Gateway;

  constructor(
    openFlows: FlowEngineFactory,
    deps: Omit<DownloadDependencies, 'deadlineOf' | 'isRepeat'>,
    private readonly logger: Logger,
    private readonly options: DownloadServiceOptions = {},
  ) {
    const inner = downloadFlow({
      ...deps,
      deadlineOf: (id) => this.deadlines.get(id) ?? null,
      isRepeat: (info) => info.repeat,
    });
    this.flow = {
      ...inner,
      steps: inner.steps.map((step) => ({
        ...step,
        run: async (ctx: Readonly<DownloadContext>, info: StepInfo) => {
          if (this.options.pauseAtStep === step.name && info.attempt === 1) { // a resumed flow runs on
            this.logger.warn(`RSP_TEST_PAUSE_AT_STEP: download ${info.transactionId} paused before ${step.name}`, downloadFields(info.transactionId, ctx));
            await new Promise<never>(() => undefined);
          }
          try {
            return await step.run(ctx, info);
          } catch (error) {
            if (!isRspError(error)) this.logger.error(`download ${info.transactionId} step ${step.name}: ${String((error as Error)?.message ?? error)}`, downloadFields(info.transactionId, ctx));
            else this.logger.warn(`download ${info.transactionId} step ${step.name} failed: ${error.code}`, downloadFields(info.transactionId, ctx, error.code));
            if (isRspError(error)) throw error;
            // A programming fault: end the flow as Failed 1.2 / 4.2 rather than leave it running.
            throw Object.assign(new Error('step failed'), { code: 'ERR_PERSISTENCE_STEP_FAILED' });
          }
        },
      })),
    };
    this.machine = openFlows([this.flow as unknown as FlowDefinition<FlowContext>], { now: deps.now });
    this.inventory = deps.inventory;
    this.es3 = deps.es3;
  }

  /** `replay`: the ES2 call's identity, kept so a resumed flow can store its answer for repeats. */
  async download(mnoId: string, request: es2.DownloadProfileRequest, replay?: DownloadContext['replay']): Promise<es2.DownloadProfileResponse> {
    const id = randomUUID();
    const validityPeriodMs = request.header.validityPeriod === undefined ? undefined : request.header.validityPeriod * 1000;
    if (validityPeriodMs !== undefined) this.deadlines.set(id, new Date(Date.now() + validityPeriodMs));
    const input: DownloadContext = {
      mnoId,
      eid: request.eid,
      smsrId: request.smsrId,
      enableProfile: request.enableProfile,
      ...(request.iccid !== undefined ? { requestedIccid: request.iccid } : {}),
      ...(request.profileType !== undefined ? { requestedProfileType: request.profileType } : {}),
      ...(replay ? { replay } : {}),
    };
    try {
      const record = await this.machine.start(DOWNLOAD_FLOW, input, { id, ...(validityPeriodMs !== undefined ? { validityPeriodMs } : {}) });
      return await this.conclude(record);
    } finally {
      this.deadlines.delete(id);
    }
  }

  /**
   * Start-up recovery (one SM-DP instance per database): resumes every running download flow in the
   * background, `concurrency` at a time, and compensates failed / expired ones whose compensation a
   * crash interrupted. Each resumed flow's ES2 answer goes to `settle` (the MNO's repeat of the call).
   * Resolves when all are done; never rejects.
   */
  async resumeInterrupted(settle: ReplaySettler, concurrency = 4): Promise<number> {
    const running = await this.machine.findRunning(DOWNLOAD_FLOW);
    const since = new Date(Date.now() - UNCOMPENSATED_LOOKBACK_MS);
    const ended = await this.machine.findEnded(DOWNLOAD_FLOW, ['failed', 'expired'], since);
    const pending = [...running, ...ended.filter((record) => (record.context as DownloadContext).compensation === undefined)];
    let next = 0;
    const worker = async () => {
      for (let record = pending[next++]; record; record = pending[next++]) await this.resumeOne(record, settle);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, pending.length)) }, worker));
    return pending.length;
  }

  private async resumeOne(stale: TransactionRecord, settle: ReplaySettler): Promise<void> {
    const id = stale.id;
    try {
      if (stale.deadline) this.deadlines.set(id, stale.deadline);
      this.logger.log(`download ${id}: ${stale.status === 'running' ? `resuming at step ${stale.stepName ?? '(end)'}` : `compensating (${stale.status})`}`, downloadFields(id, stale.context as DownloadContext));
      const record = await this.machine.resume(id); // a finished one comes back as is
      if (record.status === 'running') return; // another worker holds it
      const context = record.context as DownloadContext;
      const response = await this.conclude(record);
      if (context.replay) await settle(context.mnoId, context.replay, response);
      this.logger.log(`download ${id}: resumed flow ended ${record.status}`, downloadFields(id, context));
    } catch (error) {
      this.logger.error(`download ${id}: resume failed (${isRspError(error) ? error.code : String((error as Error)?.message ?? error)})`, downloadFields(id, stale.context as DownloadContext));
    } finally {
      this.deadlines.delete(id);
    }
  }

  /** The ES2 response of a finished flow; a failed / expired one is compensated first. */
  private async conclude(record: TransactionRecord): Promise<es2.DownloadProfileResponse> {
    const context = record.context as DownloadContext;
    if (record.status === 'succeeded') {
      return {
        header: { functionExecutionStatus: executedSuccess() },
        ...(context.iccid ? { iccid: context.iccid } : {}),
        ...(context.euiccResponseData ? { euiccResponseData: context.euiccResponseData } : {}),
      };
    }
    let status = context.failure?.status ?? toExecutionStatus(Object.assign(new Error(), { code: record.errorCode ?? '' }));
    if (record.status === 'expired') status = expired(context.eid);
    if (context.compensation === undefined) await this.compensate(record);
    return { header: { functionExecutionStatus: status }, ...(context.iccid ? { iccid: context.iccid } : {}) };
  }

  /**
   * The outbox's retry of a compensation whose DeleteISDP failed ('isdp-kept'): runs it again with a call
   * id of its own. Throws CompensationPending while the ISD-P may still be on the card, so that the outbox
   * tries again after its backoff (and dead-letters after its last attempt, the ICCID still reserved). A
   * flow compensated meanwhile (a restart's recovery, an earlier copy of the message) is left as it is.
   */
  async retryCompensation(transactionId: string): Promise<void> {
    const record = await this.machine.get(transactionId);
    const context = record.context as DownloadContext;
    if (record.status === 'running' || context.compensation !== 'isdp-kept') return;
    const retry = (context.compensationRetries ?? 0) + 1;
    await this.compensate(record, retry); // throws CompensationPending while the ISD-P may still be there
    this.logger.log(`download ${transactionId}: compensated on retry ${retry}, ICCID ${context.iccid ?? '?'} released`, downloadFields(transactionId, context));
  }

  /**
   * SGP.02 §3.1.1 / docs/services.md: a failure after create-isdp deletes the ISD-P (ES3.DeleteISDP, by
   * ICCID) so the eUICC is left as it was; then the subscription goes back to available. If the delete
   * itself fails the reservation is kept (the profile may still be on the card), logged, and the
   * compensation queued to run again (`retry` counts those runs; a retry that fails again throws
   * CompensationPending). The result is persisted in `context.compensation`.
   */
  private async compensate(record: TransactionRecord, retry = 0): Promise<void> {
    // reserve-profile writes its ICCID with create-isdp's output: a flow that ended before has it only in the inventory.
    const reserved = (record.context as DownloadContext).iccid === undefined ? await this.inventory.reservationOf(record.id) : null;
    const context = { ...(record.context as DownloadContext), ...(reserved ? { iccid: reserved.iccid } : {}) };
    // A failed row names the step that failed. An expired one (deadline seen at a resume) names the stored
    // step, and the steps riding on a later write (checkpoint: false) may have run past it before the crash.
    let stoppedAt = stepIndex(this.flow, record.stepName);
    if (record.status !== 'failed') while (this.flow.steps[stoppedAt]?.checkpoint === false) stoppedAt += 1;
    const createAt = stepIndex(this.flow, 'create-isdp');
    // Only while this transaction still holds the ICCID: once released (a crash after the release, before
    // the result was recorded) it may belong to another download, whose ISD-P must not be deleted.
    const held = context.iccid !== undefined && (await this.inventory.findSubscription(context.iccid))?.transactionId === record.id;
    const isdpMayExist = held && (stoppedAt > createAt || (stoppedAt === createAt && (context.failure?.isdpUncertain ?? true)));
    let failedCode: string | undefined;
    if (isdpMayExist && context.iccid !== undefined) {
      try {
        await this.es3.call('DeleteISDP', context.smsrId, { eid: context.eid, iccid: context.iccid }, {
          // A retry is a new ES3 call: the SM-SR answers a repeated call id from its first outcome.
          callId: `${record.id}:compensate:${record.attempts}${retry > 0 ? `:retry-${retry}` : ''}`,
          timeoutMs: COMPENSATION_TIMEOUT_MS,
        });
      } catch (error) {
        // An ISD-P that never got created is "unknown" to the SM-SR: nothing left on the card.
        if (!isIccidUnknown(error)) failedCode = isRspError(error) ? error.code : 'unknown';
      }
    }
    if (failedCode === undefined && held && context.iccid !== undefined) await this.inventory.release(context.iccid, record.id);
    const queue = this.options.compensationRetry;
    if (failedCode !== undefined && retry === 0) {
      // Queued before the row says 'isdp-kept': a crash in between leaves the row uncompensated, which
      // start-up recovery compensates, and the queued retry then finds nothing to do.
      if (queue) await queue.retryLater(record.id);
      const line = `download ${record.id}: compensating DeleteISDP failed (${failedCode}); ICCID ${context.iccid} stays reserved${queue ? ' until a retry deletes the ISD-P' : ''}`;
      // Queued, it is a warning; the outbox's dead letter, or no retry at all, is the error.
      if (queue) this.logger.warn(line, downloadFields(record.id, context, failedCode));
      else this.logger.error(line, downloadFields(record.id, context, failedCode));
    }
    await this.machine.annotate(record.id, { compensation: failedCode === undefined ? 'done' : 'isdp-kept', ...(retry > 0 ? { compensationRetries: retry } : {}) });
    // A retry that failed again says so to the outbox, which logs it and tries later (or dead-letters).
    if (failedCode !== undefined && retry > 0) {
      throw new CompensationPending(`download ${record.id}: compensating DeleteISDP failed again (${failedCode}, retry ${retry}); ICCID ${context.iccid} stays reserved`);
    }
  }
}
