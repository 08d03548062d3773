/** The owner registry's use cases, wired once (app.ts hands this to the HTTP adapters). */
import { AuditLog } from './audit';
import { Consents } from './consents';
import type { RegistryDeps } from './context';
import { DeviceStatusDocuments } from './device-status';
import { Devices } from './devices';
import { OnBehalfEs2, type Es2Transport } from './es2';
import { OwnerViews } from './owner-views';
import { Porting } from './porting';
import { Quarantine } from './quarantine';
import { Sharing } from './sharing';
import { Transfers } from './transfers';

export class OwnerRegistry {
  readonly audit: AuditLog;
  readonly devices: Devices;
  readonly sharing: Sharing;
  readonly consents: Consents;
  readonly transfers: Transfers;
  readonly porting: Porting;
  readonly quarantine: Quarantine;
  readonly es2: OnBehalfEs2;
  readonly statuses: DeviceStatusDocuments;
  readonly views: OwnerViews;

  constructor(
    readonly deps: RegistryDeps,
    es2Transport: Es2Transport,
  ) {
    this.audit = new AuditLog(deps);
    this.es2 = new OnBehalfEs2(deps, es2Transport, this.audit);
    this.statuses = new DeviceStatusDocuments(deps);
    this.devices = new Devices(deps, this.audit);
    this.sharing = new Sharing(deps, this.audit);
    this.consents = new Consents(deps, this.audit);
    this.transfers = new Transfers(deps, this.audit);
    this.porting = new Porting(deps, this.audit, this.es2);
    this.quarantine = new Quarantine(deps, this.audit, this.consents);
    this.views = new OwnerViews(deps, this.audit, es2Transport);
  }
}
