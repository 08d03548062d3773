/**
 * What an MNO may see of a shared SM-SR (the operator console): only the eUICCs holding one of its own
 * profiles, and on them only its own profiles, as ES4 GetEIS shows them (SGP.02 §5.6 [U]: the MNO sees
 * the profiles it owns). The EID, the platform type (the device type the EUM declared) and the state of
 * the MNO's profiles; nothing about other operators' profiles, keys or the ISD-R. An EID the MNO has no
 * profile on answers exactly like an unknown one (no existence oracle).
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
    for (const [eid, own] of byEid) {
      const device = await this.device(mnoId, eid, own);
      if (!device || !matches(device, query.trim())) continue;
      if (devices.length === FLEET_DEVICE_LIMIT) {
        truncated = true;
        break;
      }
      devices.push(device);
    }
    return { devices, truncated };
  }

  /** One device as the MNO may see it, or undefined (unknown, or none of its profiles on it). */
  async device(mnoId: string, eid: string, known?: ProfileRecord[]): Promise<FleetDevice | undefined> {
    const record = await this.registry.find(eid);
    const own = (known ? (record?.profiles.filter((profile) => profile.mnoId === mnoId) ?? known) : record?.profiles.filter((profile) => profile.mnoId === mnoId)) ?? [];
    if (!record || own.length === 0) return undefined;
    return { eid, platformType: record.signedInfo.platformType ?? null, profiles: own.sort((a, b) => a.iccid.localeCompare(b.iccid)).map(view) };
  }
}
