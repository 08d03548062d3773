/**
 * Porting (docs/owner-registry.md "Porting"): the donor MNO issues a PAC for `(eid, iccid)`; the owner
 * redeems it naming the recipient.
 *
 * | # | step                 | effect                                                                 |
 * |---|----------------------|------------------------------------------------------------------------|
 * | 1 | rate-limit           | 5 wrong codes / 10 min per caller                                     |
 * | 2 | validate             | `{ pac, recipientMnoId, profileType }`, owner of an Active device     |
 * | 3 | verify-pac           | a PAC of this device, not used, not expired; donor ≠ recipient        |
 * | 4 | recipient-download   | consent (Download+Enable) → recipient ES2 DownloadProfile, enable     |
 * | 5 | mark-used            | only after Executed-Success                                           |
 * | 6 | donor-delete         | consent (Delete) → donor ES2 DeleteProfile of the old ICCID; on failure queued in the outbox |
 *
 * If the download / enable is not Executed-Success, the old profile stays (no delete), the PAC stays
 * usable, and the ES2 status is returned. Grants are untouched.
 */
import { randomUUID } from 'node:crypto';
import { ID_PATTERN } from '@rsp/contracts';
import { deviceFor } from './access';
import type { AuditLog } from './audit';
import { codeMatches, generatePac, hashCode } from './codes';
import { subjectOf, type ClientCaller, type OwnerCaller, type RegistryDeps } from './context';
import { DESTINATION } from './device-status';
import { isSuccess, type Es2Job, type FunctionExecutionStatus, type OnBehalfEs2 } from './es2';
import { OwnerError } from './errors';
import type { PortingCode } from './records';
import { runSteps, type Step } from './steps';
import { CODE, EID, ICCID, bodyOf, text, type Body } from './validate';

export const PAC_TTL_MS = 30 * 24 * 3600 * 1000;

export interface PortResult {
  functionExecutionStatus: FunctionExecutionStatus;
  /** The recipient's new profile, on success. */
  iccid?: string;
  /** Whether the donor already deleted the old profile ('pending': queued for retry). */
  donorDeletion?: 'Executed-Success' | 'pending';
}

interface PortContext {
  owner: OwnerCaller;
  eid: string;
  body: Body;
  pac?: string;
  recipientMnoId?: string;
  profileType?: string;
  code?: PortingCode;
  epoch?: number;
  result?: PortResult;
}

export class Porting {
  constructor(
    private readonly deps: RegistryDeps,
    private readonly audit: AuditLog,
    private readonly es2: OnBehalfEs2,
  ) {}

  /** POST /mno/porting-codes `{ eid, iccid }` (the donor MNO) → `{ pac, expiresAt }`. */
  issuePac(donor: ClientCaller, input: unknown) {
    return this.audit.run(donor, 'porting.pac.issue', {}, async (scope) => {
      const body = bodyOf(input);
      const eid = text(body, 'eid', EID, '32 digits');
      const iccid = text(body, 'iccid', ICCID, 'an ICCID');
      scope.eid = eid;
      if (!(await this.deps.store.devices.exists(eid))) throw new OwnerError.NotFound('no such device');
      const pac = generatePac();
      const now = this.deps.now();
      const expiresAt = new Date(now.getTime() + PAC_TTL_MS);
      const id = randomUUID();
      await this.deps.store.portingCodes.insert({ id, pacHash: hashCode(pac), eid, iccid, donorMnoId: donor.clientId, expiresAt, usedAt: null, createdAt: now });
      scope.target = `pac:${id}`;
      return { pac, expiresAt: expiresAt.toISOString() };
    });
  }

  /** POST /devices/{eid}/port `{ pac, recipientMnoId, profileType }` (owner). */
  port(owner: OwnerCaller, eid: string, input: unknown): Promise<PortResult> {
    const steps: Array<Step<PortContext>> = [
      { name: 'rate-limit', run: (c) => this.audit.checkGuessRate(c.owner) },
      { name: 'validate', run: (c) => this.validate(c) },
      { name: 'verify-pac', run: (c) => this.verifyPac(c) },
      { name: 'recipient-download', run: (c) => this.recipientDownload(c) },
      { name: 'mark-used', run: (c) => this.markUsed(c) },
      { name: 'donor-delete', run: (c) => this.donorDelete(c) },
    ];
    return this.audit.run(owner, 'porting.port', { eid }, async (scope) => {
      const context = await runSteps(steps, { owner, eid, body: bodyOf(input) });
      scope.target = `mno:${context.recipientMnoId}`;
      return context.result!;
    });
  }

  private async validate(c: PortContext): Promise<void> {
    c.pac = text(c.body, 'pac', CODE, 'the PAC');
    c.recipientMnoId = text(c.body, 'recipientMnoId', ID_PATTERN, 'an MNO id');
    c.profileType = text(c.body, 'profileType', /^[\x20-\x7E]{1,64}$/, 'a profile type');
    this.es2.connector(c.recipientMnoId);
    const { device } = await deviceFor(this.deps.store, c.eid, subjectOf(c.owner), 'owner');
    if (device.status !== 'Active') throw new OwnerError.DeviceNotActive('a suspended device cannot be ported');
  }

  private async verifyPac(c: PortContext): Promise<void> {
    const candidates = await this.deps.store.portingCodes.pending(c.eid, this.deps.now());
    // Check every candidate (constant-time each) so timing does not tell how many there are.
    let found: PortingCode | undefined;
    for (const candidate of candidates) if (codeMatches(c.pac!, candidate.pacHash) && !found) found = candidate;
    if (!found) throw new OwnerError.PacInvalid('wrong, expired or used PAC');
    if (found.donorMnoId === c.recipientMnoId) throw new OwnerError.BadRequest('recipientMnoId: another MNO than the donor');
    this.es2.connector(found.donorMnoId);
    c.code = found;
  }

  private async recipientDownload(c: PortContext): Promise<void> {
    const answer = await this.es2.call(c.recipientMnoId!, c.eid, 'downloadProfile', { profileType: c.profileType, enableProfile: true }, ['EnableProfile']);
    c.result = { functionExecutionStatus: answer.functionExecutionStatus };
    if (isSuccess(answer) && typeof answer.body.iccid === 'string') c.result.iccid = answer.body.iccid;
  }

  private async markUsed(c: PortContext): Promise<void> {
    if (c.result!.functionExecutionStatus.status !== 'Executed-Success') return;
    await this.deps.store.portingCodes.markUsed(c.code!.id, this.deps.now());
  }

  private async donorDelete(c: PortContext): Promise<void> {
    if (c.result!.functionExecutionStatus.status !== 'Executed-Success') return; // the old profile stays
    const donor = c.code!;
    try {
      const answer = await this.es2.call(donor.donorMnoId, c.eid, 'deleteProfile', { iccid: donor.iccid });
      if (!isSuccess(answer)) throw new Error(`donor DeleteProfile ${answer.functionExecutionStatus.status}`);
      c.result!.donorDeletion = 'Executed-Success';
      await this.audit.recordRegistry('porting.donor.delete', c.eid, `mno:${donor.donorMnoId}`, 'ok');
    } catch (error) {
      await this.audit.recordRegistry('porting.donor.delete', c.eid, `mno:${donor.donorMnoId}`, (error as { code?: string }).code ?? 'ERR_OWNER_ES2_FAILED');
      const device = await this.deps.store.devices.require(c.eid);
      const job: Es2Job = { kind: 'port-donor-delete', mnoId: donor.donorMnoId, eid: c.eid, iccid: donor.iccid, epoch: device.consentEpoch, functions: ['deleteProfile'] };
      await this.deps.store.transaction((tx) => tx.outbox.enqueue({ destination: `${DESTINATION.es2}${donor.donorMnoId}`, payload: job, notBefore: new Date(this.deps.now().getTime() + 1000) }));
      c.result!.donorDeletion = 'pending';
    }
  }
}
