/**
 * Who may do what on a device (docs/owner-registry.md "Resources"): the strongest of the caller's
 * direct grant on the device and the grants on the groups the device belongs to. A group's `owner`
 * and `admin` act as device `admin`, its `user` as device `user`: the device `owner` is only ever
 * the direct owner grant, which moves by a transfer only.
 */
import type { Subject } from './context';
import { OwnerError } from './errors';
import type { Device, Role } from './records';
import type { RegistryUnit } from './store';

const RANK: Record<Role, number> = { user: 1, admin: 2, owner: 3 };

export const atLeast = (role: Role | undefined, needed: Role): boolean => role !== undefined && RANK[role] >= RANK[needed];

function strongest(roles: Role[]): Role | undefined {
  return roles.reduce<Role | undefined>((best, role) => (best === undefined || RANK[role] > RANK[best] ? role : best), undefined);
}

/** The caller's effective role on `eid`, or undefined when it holds none. */
export async function roleOnDevice(tx: RegistryUnit, eid: string, who: Subject): Promise<Role | undefined> {
  const direct = await tx.grants.onDeviceOf(eid, who);
  const links = await tx.groups.linksOfDevice(eid);
  const viaGroups = links.length ? await tx.grants.onGroupsOf(links.map((link) => link.groupId), who) : [];
  return strongest([...direct.map((grant) => grant.role), ...viaGroups.map((grant) => (grant.role === 'user' ? 'user' : 'admin') as Role)]);
}

/** The caller's role on a group, or undefined. */
export async function roleOnGroup(tx: RegistryUnit, groupId: string, who: Subject): Promise<Role | undefined> {
  const grants = await tx.grants.onGroupOf(groupId, who);
  return strongest(grants.map((grant) => grant.role));
}

/**
 * The device, if the caller holds at least `needed` on it. A caller with no role at all gets
 * NotFound (the device's existence is not disclosed); a weaker role gets Forbidden.
 */
export async function deviceFor(tx: RegistryUnit, eid: string, who: Subject, needed: Role): Promise<{ device: Device; role: Role }> {
  const device = await tx.devices.byEid(eid);
  const role = device ? await roleOnDevice(tx, eid, who) : undefined;
  if (!device || role === undefined) throw new OwnerError.NotFound('no such device');
  if (!atLeast(role, needed)) throw new OwnerError.Forbidden(`this needs the ${needed} role on the device`);
  return { device, role };
}
