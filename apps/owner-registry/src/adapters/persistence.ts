/** The owner registry's tables: the generic ones of @rsp/persistence (outbox) plus its own. */
import { persistenceEntities, persistenceMigrations } from '@rsp/persistence';
import { ApiClientRecord, OwnerAccountRecord } from './entities/api-client.entity';
import { AuditRecord } from './entities/audit.entity';
import { ConsentRecord } from './entities/consent.entity';
import { DeviceRecord } from './entities/device.entity';
import { GrantRecord } from './entities/grant.entity';
import { GroupDeviceRecord, GroupRecord } from './entities/group.entity';
import { PortingCodeRecord } from './entities/porting-code.entity';
import { SettingsSnapshotRecord } from './entities/settings-snapshot.entity';
import { TransferRecord } from './entities/transfer.entity';
import { OwnerRegistryInit1767398400000 } from './migrations/1767398400000-owner-registry-init';
import { OwnerDeviceStatusVersion1767571200000 } from './migrations/1767571200000-owner-device-status-version';

export const ownerRegistryEntities = [
  ...persistenceEntities,
  ApiClientRecord,
  OwnerAccountRecord,
  DeviceRecord,
  GrantRecord,
  GroupRecord,
  GroupDeviceRecord,
  ConsentRecord,
  TransferRecord,
  PortingCodeRecord,
  SettingsSnapshotRecord,
  AuditRecord,
];
export const ownerRegistryMigrations = [...persistenceMigrations, OwnerRegistryInit1767398400000, OwnerDeviceStatusVersion1767571200000];
