/**
 * Who may do what on a device (docs/owner-registry.md "Resources"): the strongest of the caller's
 * direct grant on the device and the grants on the groups the device belongs to. A group's `owner`
 * and `admin` act as device `admin`, its `user` as device `user`: the device `owner` is only ever
 * the direct owner grant, which moves by a transfer only.
 */
import { In, IsNull, type EntityManager } from 'typeorm';
import { DeviceRecord } from '../adapters/entities/device.entity';
import { GrantRecord, type Role } from '../adapters/entities/grant.entity';
import { GroupDeviceRecord } from '../adapters/entities/group.entity';
import type { Subject } from './context';
import { OwnerError } from './errors';

const RANK: Record<Role, number> = { user: 1, admin: 2, owner: 3 };

export const atLeast = (role: Role | undefined, needed: Role): boolean => role !== undefined && RANK[role] >= RANK[needed];

function strongest(roles: Role[]): Role | undefined {
  return roles.reduce<Role | undefined>((best, role) => (best === undefined || RANK[role] > RANK[best] ? role : best), undefined);
}

/** The caller's effective role on `eid`, or undefined when it holds none. */
export async function roleOnDevice(tx: EntityManager, eid: string, who: Subject): Promise<Role | undefined> {
  const direct = await tx.findBy(GrantRecord, { scope: 'device', eid, subjectIss: who.iss, subjectSub: who.sub, revokedAt: IsNull() });
  const links = await tx.findBy(GroupDeviceRecord, { eid, removedAt: IsNull() });
  const viaGroups = links.length
    ? await tx.findBy(GrantRecord, { scope: 'group', groupId: In(links.map((link) => link.groupId)), subjectIss: who.iss, subjectSub: who.sub, revokedAt: IsNull() })
    : [];
  return strongest([...direct.map((grant) => grant.role), ...viaGroups.map((grant) => (grant.role === 'user' ? 'user' : 'admin') as Role)]);
}

/** The caller's role on a group, or undefined. */
export async function roleOnGroup(tx: EntityManager, groupId: string, who: Subject): Promise<Role | undefined> {
  const grants = await tx.findBy(GrantRecord, { scope: 'group', groupId, subjectIss: who.iss, subjectSub: who.sub, revokedAt: IsNull() });
  return strongest(grants.map((grant) => grant.role));
}

/**
 * The device, if the caller holds at least `needed` on it. A caller with no role at all gets
 * NotFound (the device's existence is not disclosed); a weaker role gets Forbidden.
 */
export async function deviceFor(tx: EntityManager, eid: string, who: Subject, needed: Role): Promise<{ device: DeviceRecord; role: Role }> {
  const device = await tx.findOneBy(DeviceRecord, { eid });
  const role = device ? await roleOnDevice(tx, eid, who) : undefined;
  if (!device || role === undefined) throw new OwnerError.NotFound('no such device');
  if (!atLeast(role, needed)) throw new OwnerError.Forbidden(`this needs the ${needed} role on the device`);
  return { device, role };
}

/** The device's active owner grant, if claimed. */
export function ownerGrantOf(tx: EntityManager, eid: string): Promise<GrantRecord | null> {
  return tx.findOneBy(GrantRecord, { scope: 'device', eid, role: 'owner', revokedAt: IsNull() });
}
