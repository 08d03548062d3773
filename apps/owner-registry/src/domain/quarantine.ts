/**
 * Quarantine (docs/owner-registry.md "Resources"): a lost, stolen or compromised device is Suspended
 * by its owner or admin, or by an MNO holding a valid consent for it; only the owner, with a fresh
 * login (step-up), reinstates it. Each change republishes the device status (the SM-DP / SM-SR then
 * refuse every profile operation but delete).
 */
import { requireStepUp, STEP_UP_MAX_AGE_SECONDS } from '@rsp/identity';
import { deviceFor } from './access';
import type { AuditLog } from './audit';
import type { Consents } from './consents';
import { subjectOf, type Caller, type OwnerCaller, type RegistryDeps } from './context';
import { touchAndPublish } from './device-status';
import { OwnerError } from './errors';
import type { DeviceLifecycle } from './records';
import { runSteps } from './steps';
import type { RegistryUnit } from './store';
import { EID, bodyOf, oneOf } from './validate';

export const SUSPEND_REASONS = ['lost', 'stolen', 'compromised'] as const;

export class Quarantine {
  constructor(
    private readonly deps: RegistryDeps,
    private readonly audit: AuditLog,
    private readonly consents: Consents,
  ) {}

  /** POST /devices/{eid}/suspend `{ reason }`: owner, admin, or an MNO with a valid consent for the device. */
  suspend(caller: Caller, eid: string, input: unknown) {
    return this.audit.run(caller, 'device.suspend', { eid }, async (scope) => {
      const reason = oneOf(bodyOf(input), 'reason', SUSPEND_REASONS);
      scope.target = `reason:${reason}`;
      return this.setStatus(eid, 'Suspended', async (tx) => {
        if (caller.kind === 'owner') {
          await deviceFor(tx, eid, subjectOf(caller), 'admin');
        } else if (caller.kind !== 'mno' || !EID.test(eid) || !(await this.consents.validConsentOf(tx, eid, caller))) {
          throw new OwnerError.Forbidden('an MNO needs a valid consent for this device');
        }
      }).then((status) => ({ eid, status, reason }));
    });
  }

  /** POST /devices/{eid}/reinstate (owner + step-up). */
  reinstate(owner: OwnerCaller, eid: string) {
    return this.audit.run(owner, 'device.reinstate', { eid }, async () => {
      await runSteps([{ name: 'step-up', run: () => requireStepUp(owner.identity, { maxAgeSeconds: STEP_UP_MAX_AGE_SECONDS, now: this.deps.now }) }], {});
      const status = await this.setStatus(eid, 'Active', async (tx) => {
        await deviceFor(tx, eid, subjectOf(owner), 'owner');
      });
      return { eid, status };
    });
  }

  private async setStatus(eid: string, status: DeviceLifecycle, authorize: (tx: RegistryUnit) => Promise<void>): Promise<DeviceLifecycle> {
    await this.deps.store.transaction(async (tx) => {
      await authorize(tx);
      const device = await tx.devices.require(eid);
      if (device.status === 'Revoked') throw new OwnerError.DeviceNotActive('a revoked device stays revoked');
      if (device.status === status) return;
      const now = this.deps.now();
      await tx.devices.update(eid, { status });
      await touchAndPublish(tx, eid, now);
    });
    this.deps.kickOutbox();
    return status;
  }
}
