/**
 * Runs ES2.DownloadProfile through the persisted flow and turns its end into the ES2 response
 * (SGP.02 §3.1, §5.3): Executed-Success with the ICCID, Failed with the step's SGP.02 codes, or Expired
 * when the validityPeriod elapsed (1.6 / 5.3). Compensation: ISD-P deleted, subscription released.
 */
import { randomUUID } from 'node:crypto';
import { executedSuccess, expired, toExecutionStatus, type FunctionExecutionStatus, type es2 } from '@rsp/contracts';
import { isRspError } from '@rsp/errors';
import { StateMachine, type FlowContext, type FlowDefinition, type TransactionRecord } from '@rsp/persistence';
import type { DataSource } from 'typeorm';
import { DOWNLOAD_FLOW, downloadFlow, isDefiniteRefusal, stepIndex, type DownloadContext, type DownloadDependencies } from './download-flow';
import type { Es3Gateway } from './es3-gateway';
import type { Inventory } from './inventory';
import { SMDP_STATUS } from './status-codes';

export interface Logger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

interface Failure {
  status: FunctionExecutionStatus;
  /** The create-isdp outcome is unknown (timeout, transport): the ISD-P may exist. */
  isdpUncertain: boolean;
}

/** Timeout of the compensating DeleteISDP (runs after the deadline too). */
const COMPENSATION_TIMEOUT_MS = 30_000;

export class DownloadService {
  readonly flow: FlowDefinition<DownloadContext>;
  private readonly machine: StateMachine;
  private readonly failures = new Map<string, Failure>();
  private readonly deadlines = new Map<string, Date>();
  private readonly inventory: Inventory;
  private readonly es3: Es3Gateway;

  constructor(
    dataSource: DataSource,
    deps: Omit<DownloadDependencies, 'deadlineOf'>,
    private readonly logger: Logger,
  ) {
    const inner = downloadFlow({ ...deps, deadlineOf: (id) => this.deadlines.get(id) ?? null });
    // Each step records its failure's SGP.02 status (the persisted row keeps only the error code).
    this.flow = {
      ...inner,
      steps: inner.steps.map((step) => ({
        ...step,
        run: async (ctx: Readonly<DownloadContext>, info: Parameters<typeof step.run>[1]) => {
          try {
            return await step.run(ctx, info);
          } catch (error) {
            const subject = step.name === 'reserve-profile' ? (ctx.requestedIccid ?? ctx.requestedProfileType) : ctx.eid;
            const status = toExecutionStatus(error, subject);
            const isdpUncertain = step.name === 'create-isdp' && !isDefiniteRefusal(error);
            this.failures.set(info.transactionId, { status, isdpUncertain });
            if (!isRspError(error)) this.logger.error(`download ${info.transactionId} step ${step.name}: ${String((error as Error)?.message ?? error)}`);
            else this.logger.warn(`download ${info.transactionId} step ${step.name} failed: ${error.code}`);
            if (isRspError(error)) throw error;
            // A programming fault: end the flow as Failed 1.2 / 4.2 rather than leave it running.
            throw Object.assign(new Error('step failed'), { code: 'ERR_PERSISTENCE_STEP_FAILED' });
          }
        },
      })),
    };
    this.machine = new StateMachine(dataSource, [this.flow as unknown as FlowDefinition<FlowContext>], { now: deps.now });
    this.inventory = deps.inventory;
    this.es3 = deps.es3;
  }

  async download(mnoId: string, request: es2.DownloadProfileRequest): Promise<es2.DownloadProfileResponse> {
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
    };
    try {
      const record = await this.machine.start(DOWNLOAD_FLOW, input, { id, ...(validityPeriodMs !== undefined ? { validityPeriodMs } : {}) });
      const context = record.context as DownloadContext;
      if (record.status === 'succeeded') {
        return {
          header: { functionExecutionStatus: executedSuccess() },
          ...(context.iccid ? { iccid: context.iccid } : {}),
          ...(context.euiccResponseData ? { euiccResponseData: context.euiccResponseData } : {}),
        };
      }
      const failure = this.failures.get(id);
      let status = failure?.status ?? toExecutionStatus(Object.assign(new Error(), { code: record.errorCode ?? '' }));
      if (record.status === 'expired') status = expired(request.eid);
      await this.compensate(record, failure);
      return { header: { functionExecutionStatus: status }, ...(context.iccid ? { iccid: context.iccid } : {}) };
    } finally {
      this.failures.delete(id);
      this.deadlines.delete(id);
    }
  }

  /**
   * SGP.02 §3.1.1 / docs/services.md: a failure after create-isdp deletes the ISD-P (ES3.DeleteISDP, by
   * ICCID) so the eUICC is left as it was; then the subscription goes back to available. If the delete
   * itself fails the reservation is kept (the profile may still be on the card) and logged.
   */
  private async compensate(record: TransactionRecord, failure: Failure | undefined): Promise<void> {
    const context = record.context as DownloadContext;
    const stoppedAt = stepIndex(this.flow, record.stepName);
    const createAt = stepIndex(this.flow, 'create-isdp');
    const isdpMayExist = context.iccid !== undefined && (stoppedAt > createAt || (stoppedAt === createAt && (failure?.isdpUncertain ?? true)));
    if (isdpMayExist && context.iccid !== undefined) {
      try {
        await this.es3.call('DeleteISDP', context.smsrId, { eid: context.eid, iccid: context.iccid }, {
          callId: `${record.id}:compensate`,
          timeoutMs: COMPENSATION_TIMEOUT_MS,
        });
      } catch (error) {
        const code = isRspError(error) ? error.code : 'unknown';
        // An ISD-P that never got created is "unknown" to the SM-SR: nothing left on the card.
        const absent = isRspError(error) && 'statusCodeData' in error && (error as { statusCodeData: { reasonCode: string } }).statusCodeData.reasonCode === SMDP_STATUS.ICCID_UNKNOWN.reasonCode;
        if (!absent) {
          this.logger.error(`download ${record.id}: compensating DeleteISDP failed (${code}); ICCID ${context.iccid} stays reserved`);
          return;
        }
      }
    }
    if (context.iccid !== undefined) await this.inventory.release(context.iccid, record.id);
  }
}
