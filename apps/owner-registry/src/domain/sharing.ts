/**
 * Delegation (docs/owner-registry.md "Resources"): device grants (`admin`, `user`) given by the
 * owner or an admin, and groups (households) whose members' roles apply to the group's devices.
 * Exactly one `owner` per device: it is never given, changed or removed here, only moved by a transfer.
 */
import { randomUUID } from 'node:crypto';
import { atLeast, deviceFor, roleOnGroup } from './access';
import type { AuditLog } from './audit';
import { subjectOf, type OwnerCaller, type RegistryDeps, type Subject } from './context';
import { grantView } from './devices';
import { OwnerError } from './errors';
import type { Grant, Group, Role } from './records';
import type { RegistryUnit } from './store';
import { EID, UUID, bodyOf, oneOf, text, type Body } from './validate';

const DELEGATED_ROLES = ['admin', 'user'] as const;
const ISS = /^https?:\/\/\S{1,500}$/;
const SUB = /^[\x21-\x7E]{1,255}$/;

function delegate(body: Body): { who: Subject; role: Role } {
  return { who: { iss: text(body, 'iss', ISS, 'the issuer URL'), sub: text(body, 'sub', SUB, 'the subject') }, role: oneOf(body, 'role', DELEGATED_ROLES) };
}

export class Sharing {
  constructor(
    private readonly deps: RegistryDeps,
    private readonly audit: AuditLog,
  ) {}

  /** POST /devices/{eid}/grants `{ iss, sub, role: admin | user }` (owner, admin). */
  grant(owner: OwnerCaller, eid: string, input: unknown) {
    return this.audit.run(owner, 'grant.create', { eid }, (scope) =>
      this.deps.store.transaction(async (tx) => {
        const { who, role } = delegate(bodyOf(input));
        await deviceFor(tx, eid, subjectOf(owner), 'admin');
        const grant = await this.upsertGrant(tx, owner, { scope: 'device', eid, groupId: null }, who, role);
        scope.target = `grant:${grant.id}`;
        return grantView(grant);
      }),
    );
  }

  /** PATCH /grants/{id} `{ role: admin | user }` (owner or admin of the device / group). */
  changeRole(owner: OwnerCaller, grantId: string, input: unknown) {
    return this.audit.run(owner, 'grant.update', { target: `grant:${grantId}` }, (scope) =>
      this.deps.store.transaction(async (tx) => {
        const role = oneOf(bodyOf(input), 'role', DELEGATED_ROLES);
        const grant = await this.manageableGrant(tx, owner, grantId, scope);
        await tx.grants.setRole(grant.id, role);
        return grantView({ ...grant, role });
      }),
    );
  }

  /** DELETE /grants/{id} (owner or admin of the device / group; never the owner grant). */
  revoke(owner: OwnerCaller, grantId: string) {
    return this.audit.run(owner, 'grant.revoke', { target: `grant:${grantId}` }, (scope) =>
      this.deps.store.transaction(async (tx) => {
        const grant = await this.manageableGrant(tx, owner, grantId, scope);
        await tx.grants.revoke(grant.id, this.deps.now());
        return { id: grant.id, revoked: true };
      }),
    );
  }

  /** POST /groups `{ name }`: the caller becomes the group's owner. */
  createGroup(owner: OwnerCaller, input: unknown) {
    return this.audit.run(owner, 'group.create', {}, (scope) =>
      this.deps.store.transaction(async (tx) => {
        const name = text(bodyOf(input), 'name', /^[\x20-\x7E\u00A0-\uFFFF]{1,128}$/u, 'a name (1..128)');
        const who = subjectOf(owner);
        const now = this.deps.now();
        const id = randomUUID();
        await tx.owners.remember(who, now);
        await tx.groups.insert({ id, name, createdByIss: who.iss, createdBySub: who.sub, createdAt: now });
        await this.insertGrant(tx, owner, { scope: 'group', eid: null, groupId: id }, who, 'owner');
        scope.target = `group:${id}`;
        return { id, name, role: 'owner' as Role };
      }),
    );
  }

  /** POST /groups/{id}/members `{ iss, sub, role: admin | user }` (group owner, admin). */
  addMember(owner: OwnerCaller, groupId: string, input: unknown) {
    return this.audit.run(owner, 'group.member.add', { target: `group:${groupId}` }, () =>
      this.deps.store.transaction(async (tx) => {
        const { who, role } = delegate(bodyOf(input));
        await this.groupFor(tx, owner, groupId);
        return grantView(await this.upsertGrant(tx, owner, { scope: 'group', eid: null, groupId }, who, role));
      }),
    );
  }

  /** POST /groups/{id}/devices `{ eid }`: the device's owner who is also the group's owner or admin. */
  addDevice(owner: OwnerCaller, groupId: string, input: unknown) {
    return this.audit.run(owner, 'group.device.add', { target: `group:${groupId}` }, (scope) =>
      this.deps.store.transaction(async (tx) => {
        const eid = text(bodyOf(input), 'eid', EID, '32 digits');
        scope.eid = eid;
        await this.groupFor(tx, owner, groupId);
        await deviceFor(tx, eid, subjectOf(owner), 'owner');
        const who = subjectOf(owner);
        if (!(await tx.groups.link(groupId, eid))) {
          await tx.groups.insertLink({ id: randomUUID(), groupId, eid, addedByIss: who.iss, addedBySub: who.sub, addedAt: this.deps.now(), removedAt: null });
        }
        return { groupId, eid };
      }),
    );
  }

  private async groupFor(tx: RegistryUnit, owner: OwnerCaller, groupId: string): Promise<Group> {
    if (!UUID.test(groupId)) throw new OwnerError.NotFound('no such group');
    const group = await tx.groups.byId(groupId);
    const role = group ? await roleOnGroup(tx, groupId, subjectOf(owner)) : undefined;
    if (!group || !role) throw new OwnerError.NotFound('no such group');
    if (!atLeast(role, 'admin')) throw new OwnerError.Forbidden('this needs the admin role on the group');
    return group;
  }

  /** An active, non-owner grant the caller may manage (admin or better on its device / group). */
  private async manageableGrant(tx: RegistryUnit, owner: OwnerCaller, grantId: string, scope: { eid?: string }): Promise<Grant> {
    const grant = UUID.test(grantId) ? await tx.grants.byId(grantId) : null;
    if (!grant) throw new OwnerError.NotFound('no such grant');
    if (grant.scope === 'device') {
      scope.eid = grant.eid as string;
      await deviceFor(tx, grant.eid as string, subjectOf(owner), 'admin');
    } else {
      await this.groupFor(tx, owner, grant.groupId as string);
    }
    if (grant.role === 'owner') throw new OwnerError.OwnerGrantImmutable('the owner grant moves only by a transfer');
    return grant;
  }

  /** Gives `who` the role (replacing its previous grant on the same scope); never over an owner grant. */
  private async upsertGrant(tx: RegistryUnit, by: OwnerCaller, target: Pick<Grant, 'scope' | 'eid' | 'groupId'>, who: Subject, role: Role): Promise<Grant> {
    const existing = target.scope === 'device' ? await tx.grants.onDeviceOf(target.eid as string, who) : await tx.grants.onGroupOf(target.groupId as string, who);
    if (existing.some((grant) => grant.role === 'owner')) throw new OwnerError.OwnerGrantImmutable('the owner keeps the owner role');
    for (const grant of existing) await tx.grants.revoke(grant.id, this.deps.now());
    return this.insertGrant(tx, by, target, who, role);
  }

  private async insertGrant(tx: RegistryUnit, by: OwnerCaller, target: Pick<Grant, 'scope' | 'eid' | 'groupId'>, who: Subject, role: Role): Promise<Grant> {
    const grant: Grant = {
      id: randomUUID(), ...target, role, subjectIss: who.iss, subjectSub: who.sub,
      createdByIss: by.identity.iss, createdBySub: by.identity.sub, createdAt: this.deps.now(), revokedAt: null,
    };
    await tx.grants.insert(grant);
    return grant;
  }
}
