/**
 * ES2 calls the registry makes to an MNO's SM-DP on the owner's behalf (resale 'leave', porting):
 * through that MNO's configured connector, with `X-API-Key: es2ApiKey`,
 * `header.functionRequesterIdentifier = mnoId` (docs/services.md "HTTP binding") and
 * `X-Owner-Consent` = a consent the registry mints for that MNO, the function and the device's
 * CURRENT epoch (the SM-DP checks `epoch` = current: a consent of an older epoch would be refused as
 * soon as the new status arrives). The transport (HTTP) is an adapter.
 *
 * Queued calls (outbox `es2:{mnoId}`, {@link Es2Job}) are run by {@link OnBehalfEs2.runJob} when the
 * outbox delivers them: each attempt audited, void once the device's epoch moved on.
 */
import { randomUUID } from 'node:crypto';
import { OWNER_OPERATIONS, type ConsentOperation } from '@rsp/identity';
import type { AuditLog } from './audit';
import type { MnoConfig, RegistryDeps } from './context';
import { mintConsent } from './consents';
import { OwnerError } from './errors';

/** ES2 functions as the HTTP binding names them (`/gsma/es2/{fn}`, docs/services.md). */
export type Es2FunctionName = 'downloadProfile' | 'enableProfile' | 'disableProfile' | 'deleteProfile';
/** ES2 reads (SGP.02 §5.3 GetEIS): no owner consent needed ("reads stay allowed"). */
export type Es2ReadFunctionName = 'getEIS';

/** The consent operation of `fn`: its SGP.02 name in the owner-operation table of @rsp/identity. */
function consentOperationOf(fn: Es2FunctionName): ConsentOperation {
  return OWNER_OPERATIONS.ES2[`${fn.charAt(0).toUpperCase()}${fn.slice(1)}` as Capitalize<Es2FunctionName>];
}

export interface FunctionExecutionStatus {
  status: string;
  statusCodeData?: { subjectCode?: string; reasonCode?: string; subjectIdentifier?: string; message?: string };
}

export interface Es2Answer {
  functionExecutionStatus: FunctionExecutionStatus;
  body: Record<string, unknown>;
}

/** The HTTP side: POST `{es2Url}/gsma/es2/{fn}`; throws Es2Unreachable on transport trouble. */
export interface Es2Transport {
  /** `consent` null: a read, sent without `X-Owner-Consent`. */
  call(connector: Required<Pick<MnoConfig, 'mnoId' | 'es2Url' | 'es2ApiKey'>>, fn: Es2FunctionName | Es2ReadFunctionName, body: unknown, consent: string | null): Promise<Es2Answer>;
}

/** A queued ES2 call (outbox `es2:{mnoId}`), retried with backoff; void when the device's epoch moved on. */
export interface Es2Job {
  kind: 'resale-leave' | 'port-donor-delete';
  mnoId: string;
  eid: string;
  iccid: string;
  /** The epoch the job was queued at; another transfer since then cancels it. */
  epoch: number;
  functions: Es2FunctionName[];
}

export const isSuccess = (answer: Es2Answer): boolean => answer.functionExecutionStatus.status === 'Executed-Success';

/** Registry-minted consents live 10 minutes: one call. */
const ON_BEHALF_CONSENT_SECONDS = 600;

export class OnBehalfEs2 {
  constructor(
    private readonly deps: RegistryDeps,
    private readonly transport: Es2Transport,
    private readonly audit: AuditLog,
  ) {}

  /** The MNO's connector, or MnoUnavailable. */
  connector(mnoId: string): MnoConfig & Required<Pick<MnoConfig, 'es2Url' | 'es2ApiKey' | 'smsrId'>> {
    const mno = this.deps.config.mnos.get(mnoId);
    if (!mno || !mno.es2Url || !mno.es2ApiKey || !mno.smsrId) throw new OwnerError.MnoUnavailable(`MNO ${mnoId} has no ES2 connector (es2Url, es2ApiKey, smsrId)`);
    return mno as MnoConfig & Required<Pick<MnoConfig, 'es2Url' | 'es2ApiKey' | 'smsrId'>>;
  }

  /** Mints a consent for `fn` (plus `extraOps`) at the current epoch, then calls the MNO's SM-DP. */
  async call(mnoId: string, eid: string, fn: Es2FunctionName, parameters: Record<string, unknown>, extraOps: ConsentOperation[] = []): Promise<Es2Answer> {
    const connector = this.connector(mnoId);
    const minted = await this.deps.store.transaction(async (tx) => {
      const device = await tx.devices.require(eid);
      return mintConsent(this.deps, tx, { device, mnoId, operations: [consentOperationOf(fn), ...extraOps], expiresInSeconds: ON_BEHALF_CONSENT_SECONDS, givenBy: null });
    });
    const body = {
      header: { functionRequesterIdentifier: mnoId, functionCallIdentifier: randomUUID() },
      eid,
      smsrId: connector.smsrId,
      ...parameters,
    };
    return this.transport.call(connector, fn, body, minted.consent);
  }

  /** Runs a queued job (the outbox delivering `es2:{mnoId}`); throws to have the outbox retry it. */
  async runJob(job: Es2Job): Promise<void> {
    const action = `es2.${job.kind}`;
    const device = await this.deps.store.devices.byEid(job.eid);
    if (!device || device.consentEpoch !== job.epoch) {
      await this.audit.recordRegistry(action, job.eid, `mno:${job.mnoId}`, 'ERR_OWNER_EPOCH_MOVED_ON');
      return; // another sale since: the new owner decides now
    }
    for (const fn of job.functions) {
      let outcome = 'ok';
      try {
        const answer = await this.call(job.mnoId, job.eid, fn, { iccid: job.iccid });
        if (!isSuccess(answer)) outcome = `ES2_${answer.functionExecutionStatus.status}`;
      } catch (error) {
        outcome = (error as { code?: string }).code ?? 'ERR_OWNER_ES2_FAILED';
      }
      await this.audit.recordRegistry(`${action}.${fn}`, job.eid, `mno:${job.mnoId}`, outcome.slice(0, 64));
      // Disable may fail when the profile is already disabled; the delete decides.
      if (outcome !== 'ok' && fn === job.functions[job.functions.length - 1]) throw new Error(`ES2 ${fn}: ${outcome}`);
    }
  }
}
