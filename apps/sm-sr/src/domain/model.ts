/**
 * What the SM-SR's use cases work on, and the ports they need (transport- and database-free):
 * the EIS registry (SGP.02 §5.5 / Annex E: the SM-SR keeps one EIS per eUICC it serves), the
 * outbox for notifications, and a clock. Adapters implement the ports (TypeORM, see adapters/).
 */
import type { IsdRKeySet } from '@rsp/offcard';
import { SILENT_LOGGER, type EumSignedInfo, type PolicyRule, type ProfileState, type RspLogger } from '@rsp/contracts';

/** One profile (ISD-P) of a registered eUICC, as the SM-SR records it (EIS ProfileInfo). */
export interface ProfileRecord {
  eid: string;
  iccid: string;
  isdpAid: string;
  mnoId: string;
  smdpId: string;
  state: ProfileState;
  fallback: boolean;
  pol2: PolicyRule[];
  profileType?: string;
  allocatedMemory?: number;
  subscriptionAddress?: { imsi?: string; msisdn?: string };
}

/** One registered eUICC (the SM-SR's EIS record). */
export interface EuiccRecord {
  eid: string;
  eumId: string;
  smsrId: string;
  /** The EumSignedInfo fields exactly as the EUM sent them (the signature covers these). */
  signedInfo: EumSignedInfo;
  /** EUM signature (hex r‖s) as received. */
  eumSignature: string;
  isdRAid: string;
  remainingMemory: number;
  availableMemoryForProfiles: number;
  lastAuditDate?: Date;
  registeredAt: Date;
  profiles: ProfileRecord[];
}

/** A message for the outbox (see adapters/outbox-delivery.ts for the destination forms). */
export interface OutboundMessage {
  /** `svc:{pattern}` (MQTT service request), `mqtt:{topic}` (QoS 1 publish) or an http(s) URL (webhook POST). */
  destination: string;
  payload: unknown;
}

/** Changes applied atomically with the notifications they cause (transactional outbox). */
export interface RegistryTransaction {
  saveProfile(profile: ProfileRecord): Promise<void>;
  deleteProfile(eid: string, iccid: string): Promise<void>;
  updateEuicc(eid: string, changes: { remainingMemory?: number; availableMemoryForProfiles?: number; lastAuditDate?: Date }): Promise<void>;
  enqueue(message: OutboundMessage): Promise<void>;
}

/**
 * The ISD-R key set on file with its handover state (ES5 EstablishISDRKeySet / FinaliseISDRhandover,
 * see isd-r-handover.ts). @secret (keys)
 */
export interface IsdRKeyRecord {
  keys: IsdRKeySet;
  /** True once the SM-SR established this set itself (Scenario#3); false for the EUM's initial set. */
  establishedBySmsr: boolean;
  /** KVNs still to delete on the card: FinaliseISDRhandover has not been confirmed yet. */
  retireKvns: number[];
  /** Opaque version of the stored value; changes with every write (compare-and-set). */
  revision: string;
}

/** The EIS registry port. */
export interface EisRegistry {
  find(eid: string): Promise<EuiccRecord | undefined>;
  /** The eUICC holding `iccid`, if any (ICCIDs are unique across the registry). */
  findByIccid(iccid: string): Promise<ProfileRecord | undefined>;
  /** Profiles of one MNO, by EID then ICCID, at most `limit` (the operator console's fleet, fleet.ts). */
  profilesOfMno(mnoId: string, limit: number): Promise<ProfileRecord[]>;
  /** Inserts a new eUICC with its profiles and its ISD-R key set (sealed at rest). Throws {@link DuplicateEidError}. */
  register(record: EuiccRecord, isdRKeys: IsdRKeySet): Promise<void>;
  /** The ISD-R key set of `eid` (opened from its sealed form), for ES5. */
  isdRKeys(eid: string): Promise<IsdRKeySet | undefined>;
  /** The ISD-R key set of `eid` with its handover state. */
  isdRKeyRecord(eid: string): Promise<IsdRKeyRecord | undefined>;
  /**
   * Replaces the ISD-R key set (sealed) if the stored one is still at `expectedRevision`; false when
   * another writer changed it first (nothing written).
   */
  replaceIsdRKeys(eid: string, next: Omit<IsdRKeyRecord, 'revision'>, expectedRevision: string): Promise<boolean>;
  transaction<T>(work: (tx: RegistryTransaction) => Promise<T>): Promise<T>;
}

/** The SM-SR's logger: the shared port (a message plus correlation ids); never given secrets. */
export type SmSrLogger = RspLogger;
export { SILENT_LOGGER };
