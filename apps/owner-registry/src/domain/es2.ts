/**
 * ES2 calls the registry makes to an MNO's SM-DP on the owner's behalf (resale 'leave', porting):
 * through that MNO's configured connector, with `X-API-Key: es2ApiKey`,
 * `header.functionRequesterIdentifier = mnoId` (docs/services.md "HTTP binding") and
 * `X-Owner-Consent` = a consent the registry mints for that MNO, the function and the device's
 * CURRENT epoch (the SM-DP checks `epoch` = current: a consent of an older epoch would be refused as
 * soon as the new status arrives). The transport (HTTP) is an adapter.
 */
import { randomUUID } from 'node:crypto';
import type { ConsentOperation } from '@rsp/identity';
import { DeviceRecord } from '../adapters/entities/device.entity';
import type { MnoConfig, RegistryDeps } from './context';
import { mintConsent } from './consents';
import { OwnerError } from './errors';

export type Es2FunctionName = 'downloadProfile' | 'enableProfile' | 'disableProfile' | 'deleteProfile';

const OPERATION: Record<Es2FunctionName, ConsentOperation> = {
  downloadProfile: 'DownloadProfile',
  enableProfile: 'EnableProfile',
  disableProfile: 'DisableProfile',
  deleteProfile: 'DeleteProfile',
};

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
  call(connector: Required<Pick<MnoConfig, 'mnoId' | 'es2Url' | 'es2ApiKey'>>, fn: Es2FunctionName, body: unknown, consent: string): Promise<Es2Answer>;
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
    const minted = await this.deps.dataSource.transaction(async (tx) => {
      const device = await tx.findOneByOrFail(DeviceRecord, { eid });
      return mintConsent(this.deps, tx, { device, mnoId, operations: [OPERATION[fn], ...extraOps], expiresInSeconds: ON_BEHALF_CONSENT_SECONDS, givenBy: null });
    });
    const body = {
      header: { functionRequesterIdentifier: mnoId, functionCallIdentifier: randomUUID() },
      eid,
      smsrId: connector.smsrId,
      ...parameters,
    };
    return this.transport.call(connector, fn, body, minted.consent);
  }
}
