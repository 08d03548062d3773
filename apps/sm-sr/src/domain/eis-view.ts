/**
 * The EIS as the SM-SR returns it (SGP.02 Annex E; ES3/ES4 GetEIS, AuditEIS): the EUM-signed part
 * exactly as registered (so the EUM signature still verifies) plus the SM-SR-managed fields.
 */
import type { Eis, EisProfile } from '@rsp/contracts';
import type { EuiccRecord, ProfileRecord } from './model';

export function toEisProfile(profile: ProfileRecord): EisProfile {
  const out: EisProfile = {
    iccid: profile.iccid,
    isdpAid: profile.isdpAid,
    mnoId: profile.mnoId,
    smdpId: profile.smdpId,
    state: profile.state,
    fallbackAttribute: profile.fallback,
    pol2: profile.pol2,
  };
  if (profile.profileType !== undefined) out.profileType = profile.profileType;
  if (profile.allocatedMemory !== undefined) out.allocatedMemory = profile.allocatedMemory;
  if (profile.subscriptionAddress !== undefined) out.subscriptionAddress = profile.subscriptionAddress;
  return out;
}

/** The EIS of `record`, with only the profiles `visible` accepts (ES4: the MNO's own; SGP.02 §5.6 [U]). */
export function toEis(record: EuiccRecord, visible: (profile: ProfileRecord) => boolean = () => true): Eis {
  const eis: Eis = {
    ...record.signedInfo,
    remainingMemory: record.remainingMemory,
    availableMemoryForProfiles: record.availableMemoryForProfiles,
    smsrId: record.smsrId,
    isdR: { aid: record.isdRAid },
    profiles: record.profiles
      .filter(visible)
      .sort((a, b) => a.isdpAid.localeCompare(b.isdpAid))
      .map(toEisProfile),
    eumSignature: record.eumSignature,
  };
  if (record.lastAuditDate !== undefined) eis.lastAuditDate = record.lastAuditDate.toISOString();
  return eis;
}
