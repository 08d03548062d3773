/**
 * What an MNO may see of a shared SM-SR (the operator console): the list holds only the eUICCs with one
 * of its own profiles; on any eUICC it sees only its own profiles, as ES4 GetEIS shows them (SGP.02 §5.6
 * [U]: the MNO sees the profiles it owns). The EID, the platform type (the device type the EUM declared)
 * and the state of the MNO's profiles; nothing about other operators' profiles, keys or the ISD-R. One
 * device read by EID discloses no more than ES4 GetEIS already does to any MNO (that the EID is
 * registered, its platform type), so an MNO can watch a device it is about to download to.
 */
import type { EisRegistry, ProfileRecord } from './model';

/** Most profiles a fleet read looks at, and most devices it returns [U: a console page, not an export]. */
export const FLEET_PROFILE_LIMIT = 5000;
export const FLEET_DEVICE_LIMIT = 200;

export interface FleetProfile {
  iccid: string;
  profileType: string | null;
  state: string;
  fallback: boolean;
}

export interface FleetDevice {
  eid: string;
  platformType: string | null;
  profiles: FleetProfile[];
}

const view = (profile: ProfileRecord): FleetProfile => ({ iccid: profile.iccid, profileType: profile.profileType ?? null, state: profile.state, fallback: profile.fallback });

/** Case-insensitive: EID, ICCID, device type, profile type or state contains `query`. */
function matches(device: FleetDevice, query: string): boolean {
  if (!query) return true;
  const needle = query.toLowerCase();
  const fields = [device.eid, device.platformType ?? '', ...device.profiles.flatMap((profile) => [profile.iccid, profile.profileType ?? '', profile.state])];
  return fields.some((field) => field.toLowerCase().includes(needle));
}

export class FleetView {
  constructor(private readonly registry: EisRegistry) {}

  /** The MNO's devices matching `query`, by EID, at most {@link FLEET_DEVICE_LIMIT}. */
  async list(mnoId: string, query = ''): Promise<{ devices: FleetDevice[]; truncated: boolean }> {
    const profiles = await this.registry.profilesOfMno(mnoId, FLEET_PROFILE_LIMIT);
    const byEid = new Map<string, ProfileRecord[]>();
    for (const profile of profiles) byEid.set(profile.eid, [...(byEid.get(profile.eid) ?? []), profile]);
    const devices: FleetDevice[] = [];
    let truncated = profiles.length >= FLEET_PROFILE_LIMIT;
    for (const eid of byEid.keys()) {
      const device = await this.device(mnoId, eid);
      if (!device || device.profiles.length === 0 || !matches(device, query.trim())) continue;
      if (devices.length === FLEET_DEVICE_LIMIT) {
        truncated = true;
        break;
      }
      devices.push(device);
    }
    return { devices, truncated };
  }

  /** One registered device as the MNO may see it (its own profiles only, maybe none), or undefined. */
  async device(mnoId: string, eid: string): Promise<FleetDevice | undefined> {
    const record = await this.registry.find(eid);
    if (!record) return undefined;
    const own = record.profiles.filter((profile) => profile.mnoId === mnoId);
    return { eid, platformType: record.signedInfo.platformType ?? null, profiles: own.sort((a, b) => a.iccid.localeCompare(b.iccid)).map(view) };
  }
}
