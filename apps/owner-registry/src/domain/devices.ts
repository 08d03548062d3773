/**
 * Devices (docs/owner-registry.md "Resources"): makers register them, owners claim them with the
 * claim code, read them, keep their settings document, and apply a settings snapshot kept from a
 * device they sold to another of the same model.
 */
import { randomUUID } from 'node:crypto';
import { isValidEid } from '@rsp/pki';
import { deviceFor, roleOnDevice } from './access';
import type { AuditLog } from './audit';
import { codeMatches, hashCode } from './codes';
import { subjectOf, type ClientCaller, type OwnerCaller, type RegistryDeps } from './context';
import { touchAndPublish } from './device-status';
import { OwnerError } from './errors';
import type { Device, Grant, Role } from './records';
import { runSteps } from './steps';
import type { RegistryUnit } from './store';
import { CODE, DEVICE_ID, EID, MODEL, UUID, bodyOf, text, type Body } from './validate';

/** Largest settings document (bytes of JSON) [U: a policy choice]. */
export const MAX_SETTINGS_BYTES = 64 * 1024;

export interface DeviceView {
  eid: string;
  deviceUrl: string;
  makerId: string;
  deviceId: string;
  model: string;
  status: string;
  consentEpoch: number;
  recentlyTransferredAt: string | null;
  role: Role;
}

export function viewOf(device: Device, role: Role): DeviceView {
  return {
    eid: device.eid,
    deviceUrl: device.deviceUrl,
    makerId: device.makerId,
    deviceId: device.deviceId,
    model: device.model,
    status: device.status,
    consentEpoch: device.consentEpoch,
    recentlyTransferredAt: device.recentlyTransferredAt?.toISOString() ?? null,
    role,
  };
}

export function grantView(grant: Grant) {
  return { id: grant.id, scope: grant.scope, eid: grant.eid, groupId: grant.groupId, role: grant.role, iss: grant.subjectIss, sub: grant.subjectSub, createdAt: grant.createdAt.toISOString() };
}

interface ClaimContext {
  owner: OwnerCaller;
  body: Body;
  deviceUrl?: string;
  claimCode?: string;
  device?: Device;
  scope: { eid?: string; target?: string };
}

export class Devices {
  constructor(
    private readonly deps: RegistryDeps,
    private readonly audit: AuditLog,
  ) {}

  /** POST /makers/devices: `{ eid, deviceId, model, claimCode }` → `{ deviceUrl }`; the claim code only hashed. */
  register(maker: ClientCaller, input: unknown): Promise<{ eid: string; deviceUrl: string }> {
    return this.audit.run(maker, 'device.register', {}, async (scope) => {
      const body = bodyOf(input);
      const eid = text(body, 'eid', EID, '32 digits');
      if (!isValidEid(eid)) throw new OwnerError.BadRequest('eid: a valid EID (check digits)');
      scope.eid = eid;
      const deviceId = text(body, 'deviceId', DEVICE_ID, 'letters, digits, . _ - (1..64)');
      const model = text(body, 'model', MODEL, 'printable text (1..64)');
      const claimCode = text(body, 'claimCode', CODE, 'printable text (4..128)');
      const config = this.deps.config.makers.get(maker.clientId);
      if (!config) throw new OwnerError.Forbidden('not a maker');
      const deviceUrl = `${this.deps.config.registryUrl}/${config.makerDomain}/${deviceId}`;
      const now = this.deps.now();
      await this.deps.store
        .transaction(async (tx) => {
          await tx.devices.insert({
            eid, makerId: config.makerId, deviceId, model, deviceUrl, claimCodeHash: hashCode(claimCode),
            status: 'Active', consentEpoch: 0, statusVersion: 0, recentlyTransferredAt: null, settings: {}, createdAt: now, updatedAt: now,
          });
          await touchAndPublish(tx, eid, now);
        })
        .catch((error: unknown) => {
          throw this.deps.store.isDuplicate(error) ? new OwnerError.DeviceExists('this EID or device id is already registered') : error;
        });
      this.deps.kickOutbox();
      return { eid, deviceUrl };
    });
  }

  /** POST /devices/claim: `{ deviceUrl, claimCode }` → the owner grant; never twice. */
  claim(owner: OwnerCaller, input: unknown): Promise<DeviceView> {
    return this.audit.run(owner, 'device.claim', {}, async (scope) => {
      const context: ClaimContext = { owner, body: bodyOf(input), scope };
      await runSteps<ClaimContext>(
        [
          { name: 'rate-limit', run: () => this.audit.checkGuessRate(owner) },
          { name: 'validate', run: (c) => void ((c.deviceUrl = text(c.body, 'deviceUrl', /^https?:\/\/\S{1,500}$/, 'a device URL')), (c.claimCode = text(c.body, 'claimCode', CODE, 'the claim code'))) },
          { name: 'verify-claim-code', run: (c) => this.verifyClaimCode(c) },
          { name: 'grant-owner', run: (c) => this.grantOwner(c) },
        ],
        context,
      );
      this.deps.kickOutbox();
      return viewOf(context.device!, 'owner');
    });
  }

  private async verifyClaimCode(c: ClaimContext): Promise<void> {
    const device = await this.deps.store.devices.byUrl(c.deviceUrl!);
    // Unknown URL and wrong code look the same; the hash is computed either way (no timing oracle).
    const matches = codeMatches(c.claimCode!, device?.claimCodeHash ?? hashCode('unknown-device'));
    if (!device || !matches) throw new OwnerError.ClaimCodeInvalid('wrong claim code or device URL');
    c.device = device;
    c.scope.eid = device.eid;
  }

  private async grantOwner(c: ClaimContext): Promise<void> {
    const who = subjectOf(c.owner);
    const now = this.deps.now();
    await this.deps.store
      .transaction(async (tx) => {
        if (await tx.grants.ownerOf(c.device!.eid)) throw new OwnerError.AlreadyClaimed('this device already has an owner');
        await tx.owners.remember(who, now);
        await tx.grants.insert({
          id: randomUUID(), scope: 'device', eid: c.device!.eid, groupId: null, role: 'owner',
          subjectIss: who.iss, subjectSub: who.sub, createdByIss: who.iss, createdBySub: who.sub, createdAt: now, revokedAt: null,
        });
        await touchAndPublish(tx, c.device!.eid, now);
      })
      .catch((error: unknown) => {
        // The partial unique index lost a race with a concurrent claim.
        throw this.deps.store.isDuplicate(error) ? new OwnerError.AlreadyClaimed('this device already has an owner') : error;
      });
  }

  /** GET /devices/{eid}: any grant holder. */
  get(owner: OwnerCaller, eid: string) {
    return this.audit.run(owner, 'device.read', { eid }, () =>
      this.deps.store.transaction(async (tx) => {
        const { device, role } = await deviceFor(tx, eid, subjectOf(owner), 'user');
        const direct = await tx.grants.onDevice(eid);
        const groups = await tx.groups.linksOfDevice(eid);
        return { ...viewOf(device, role), settings: device.settings, grants: direct.map(grantView), groups: groups.map((link) => link.groupId) };
      }),
    );
  }

  /** GET /me/devices: every device the caller holds a grant on (direct or via a group). */
  async listMine(owner: OwnerCaller): Promise<DeviceView[]> {
    const who = subjectOf(owner);
    const store = this.deps.store;
    const grants = await store.grants.of(who);
    const eids = new Set(grants.filter((grant) => grant.scope === 'device').map((grant) => grant.eid as string));
    for (const grant of grants.filter((g) => g.scope === 'group')) {
      for (const link of await store.groups.linksOfGroup(grant.groupId as string)) eids.add(link.eid);
    }
    const views: DeviceView[] = [];
    for (const eid of [...eids].sort()) {
      const device = await store.devices.byEid(eid);
      const role = await roleOnDevice(store, eid, who);
      if (device && role) views.push(viewOf(device, role));
    }
    return views;
  }

  /** PUT /devices/{eid}/settings (owner, admin): replaces the settings document. */
  putSettings(owner: OwnerCaller, eid: string, input: unknown): Promise<{ eid: string; settings: Record<string, unknown> }> {
    return this.audit.run(owner, 'device.settings', { eid }, async () => {
      const settings = bodyOf(input);
      if (Buffer.byteLength(JSON.stringify(settings)) > MAX_SETTINGS_BYTES) throw new OwnerError.BadRequest(`settings: at most ${MAX_SETTINGS_BYTES} bytes of JSON`);
      await this.deps.store.transaction(async (tx) => {
        await deviceFor(tx, eid, subjectOf(owner), 'admin');
        await tx.devices.update(eid, { settings, updatedAt: this.deps.now() });
      });
      return { eid, settings };
    });
  }

  /** GET /me/settings-snapshots */
  async snapshots(owner: OwnerCaller) {
    const rows = await this.deps.store.snapshots.ofOwner(subjectOf(owner));
    return rows.map((row) => ({ id: row.id, model: row.model, settings: row.settings, sourceDeviceUrl: row.sourceDeviceUrl, createdAt: row.createdAt.toISOString() }));
  }

  /** POST /devices/{eid}/settings/apply `{ snapshotId }` (owner): same model only [U: compatibility = equal model]. */
  applySnapshot(owner: OwnerCaller, eid: string, input: unknown): Promise<{ eid: string; settings: Record<string, unknown> }> {
    return this.audit.run(owner, 'device.settings.apply', { eid }, async (scope) => {
      const snapshotId = text(bodyOf(input), 'snapshotId', UUID, 'a snapshot id');
      scope.target = `snapshot:${snapshotId}`;
      return this.deps.store.transaction(async (tx) => {
        const { device } = await deviceFor(tx, eid, subjectOf(owner), 'owner');
        const snapshot = await tx.snapshots.find(snapshotId, subjectOf(owner));
        if (!snapshot) throw new OwnerError.NotFound('no such snapshot');
        if (snapshot.model !== device.model) throw new OwnerError.ModelMismatch(`the snapshot is for model ${snapshot.model}`);
        await tx.devices.update(eid, { settings: snapshot.settings, updatedAt: this.deps.now() });
        return { eid, settings: snapshot.settings };
      });
    });
  }

  /** GET /devices/{eid}/audit (owner, admin): the trail since the current owner's tenure began. */
  trail(owner: OwnerCaller, eid: string) {
    return this.audit.run(owner, 'device.audit.read', { eid }, async () => {
      const since = await this.deps.store.transaction(async (tx) => {
        await deviceFor(tx, eid, subjectOf(owner), 'admin');
        return (await tx.grants.ownerOf(eid))?.createdAt ?? new Date(0);
      });
      const rows = await this.audit.forDevice(eid, since);
      return rows.map((row) => ({
        at: row.at.toISOString(),
        actor: row.actorKind === 'owner' ? { kind: 'owner', iss: row.actorIss, sub: row.actorSub } : { kind: row.actorKind, clientId: row.actorClient },
        action: row.action,
        target: row.target,
        outcome: row.outcome,
        authContext: row.authContext,
      }));
    });
  }
}

/** Stores the makers' and MNOs' API keys (SHA-256 only) at start. */
export async function upsertApiClient(tx: RegistryUnit, kind: 'maker' | 'mno', clientId: string, apiKeySha256: string, now: Date): Promise<void> {
  const id = `${kind}:${clientId}`;
  const existing = await tx.apiClients.byId(id);
  if (existing) await tx.apiClients.setKeyHash(id, apiKeySha256);
  else await tx.apiClients.insert({ id, kind, clientId, apiKeySha256, createdAt: now });
}
