/**
 * The EIS registry of a single SM-SR instance (`instances: 'single'`, app.ts), with what only it writes
 * kept in memory: the EIS records (read by nearly every ES3 / ES4 call) and the opened ISD-R key sets
 * (read before every ES5 exchange; opening one is an AES-GCM decryption). Write-through: every change
 * goes to the database first, and the cache follows only once the transaction has committed; a failed
 * write drops the EID from the cache, so the next read sees the database again.
 *
 * Correct only while no other process writes these tables, which is what `single` declares; with several
 * instances (`shared`) the plain TypeORM registry is used.
 *
 * Callers get copies: a use case editing a record it read cannot change the cache behind the database.
 * Every editable level is copied (copyRecord); the EUM-signed part is frozen in the cache and shared, as
 * nothing may edit what the EUM signed (structuredClone of the whole record was ~2 % of the services' CPU).
 * A read that overlaps a write of the same EID is not cached (a per-EID write count, `epochs`): it may
 * have read the database before the write committed.
 */
import type { IsdRKeySet } from '@rsp/offcard';
import type { EisRegistry, EuiccRecord, IsdRKeyRecord, OutboundMessage, ProfileRecord, RegistryTransaction } from '../../domain/model';
import { storedProfile, type TypeOrmEisRegistry } from './typeorm-registry';

/** One change of a committed transaction, replayed on the cached record. */
type Change =
  | { kind: 'save'; profile: ProfileRecord }
  | { kind: 'delete'; eid: string; iccid: string }
  | { kind: 'euicc'; eid: string; changes: { remainingMemory?: number; availableMemoryForProfiles?: number; lastAuditDate?: Date } };

export interface CachedEisRegistryOptions {
  /** Most eUICCs kept (least recently used dropped first). Default 50 000. */
  maxRecords?: number;
}

export class CachedEisRegistry implements EisRegistry {
  /** Insertion order = recency order (Map iteration order), for a cheap LRU. */
  private readonly records = new Map<string, EuiccRecord>();
  /**
   * Every profile's EID by ICCID, complete from {@link load} on (this instance writes them all): an
   * unknown ICCID (CreateISDP's uniqueness check) is answered without SQL.
   */
  private readonly eidOfIccid = new Map<string, string>();
  private complete = false;
  /** @secret opened ISD-R key sets, as long as their EIS record may stay. */
  private readonly keys = new Map<string, IsdRKeyRecord>();
  /** Writes begun per EID; a read is cached only if none began while it ran. */
  private readonly epochs = new Map<string, number>();
  private readonly maxRecords: number;

  constructor(
    private readonly inner: TypeOrmEisRegistry,
    options: CachedEisRegistryOptions = {},
  ) {
    this.maxRecords = options.maxRecords ?? 50_000;
  }

  /** Reads the ICCID index once, at start. */
  async load(): Promise<this> {
    for (const { iccid, eid } of await this.inner.profileLocations()) this.eidOfIccid.set(iccid, eid);
    this.complete = true;
    return this;
  }

  async find(eid: string): Promise<EuiccRecord | undefined> {
    const cached = this.records.get(eid);
    if (cached) {
      this.touch(this.records, eid, cached);
      return copyRecord(cached);
    }
    const epoch = this.epochOf(eid);
    const found = await this.inner.findWithKeys(eid); // the keys come in the same row: no second read for them
    if (found && this.epochOf(eid) === epoch) {
      this.remember(found.record);
      if (!this.keys.has(eid)) this.rememberKeys(eid, found.keys);
    }
    return found?.record;
  }

  /** Not cached: a console read, straight from the database every write goes through. */
  profilesOfMno(mnoId: string, limit: number): Promise<ProfileRecord[]> {
    return this.inner.profilesOfMno(mnoId, limit);
  }

  async findByIccid(iccid: string): Promise<ProfileRecord | undefined> {
    const eid = this.eidOfIccid.get(iccid);
    if (eid === undefined && this.complete) return undefined;
    const profile = eid === undefined ? undefined : (await this.find(eid))?.profiles.find((candidate) => candidate.iccid === iccid);
    return profile ?? this.inner.findByIccid(iccid);
  }

  async register(record: EuiccRecord, isdRKeys: IsdRKeySet): Promise<void> {
    await this.inner.register(record, isdRKeys); // the record itself is read back (and cached) on first use
    for (const profile of record.profiles) this.eidOfIccid.set(profile.iccid, record.eid);
  }

  async isdRKeys(eid: string): Promise<IsdRKeySet | undefined> {
    return (await this.isdRKeyRecord(eid))?.keys;
  }

  async isdRKeyRecord(eid: string): Promise<IsdRKeyRecord | undefined> {
    const cached = this.keys.get(eid);
    if (cached) return cached;
    const epoch = this.epochOf(eid);
    const record = await this.inner.isdRKeyRecord(eid);
    if (record && this.epochOf(eid) === epoch) this.rememberKeys(eid, record);
    return record;
  }

  async replaceIsdRKeys(eid: string, next: Omit<IsdRKeyRecord, 'revision'>, expectedRevision: string): Promise<boolean> {
    this.written(eid); // reads running now will not be cached
    let stored: IsdRKeyRecord | undefined;
    try {
      stored = await this.inner.storeIsdRKeys(eid, next, expectedRevision);
    } finally {
      this.written(eid);
    }
    if (stored) this.rememberKeys(eid, stored); // what the database now holds, revision included
    return stored !== undefined;
  }

  async transaction<T>(work: (tx: RegistryTransaction) => Promise<T>): Promise<T> {
    const changes: Change[] = [];
    let result: T;
    try {
      result = await this.inner.transaction((tx) =>
        work({
          saveProfile: async (profile: ProfileRecord) => {
            this.bump(profile.eid);
            await tx.saveProfile(profile);
            changes.push({ kind: 'save', profile: copyProfile(profile) });
          },
          deleteProfile: async (eid: string, iccid: string) => {
            this.bump(eid);
            await tx.deleteProfile(eid, iccid);
            changes.push({ kind: 'delete', eid, iccid });
          },
          updateEuicc: async (eid, update) => {
            this.bump(eid);
            await tx.updateEuicc(eid, update);
            changes.push({ kind: 'euicc', eid, changes: { ...update } });
          },
          enqueue: (message: OutboundMessage) => tx.enqueue(message),
        }),
      );
    } catch (error) {
      for (const change of changes) this.forget(change.kind === 'save' ? change.profile.eid : change.eid);
      // Written or not is unknown (a commit can fail after the fact): the ICCID index is read again.
      if (changes.length > 0 && this.complete) {
        this.complete = false;
        this.load().catch(() => undefined); // until it succeeds, unknown ICCIDs are looked up in the database
      }
      throw error;
    }
    for (const change of changes) this.apply(change);
    return result;
  }

  /** Replays a committed change on the cached record, the way the database stored it (typeorm-registry.ts). */
  private apply(change: Change): void {
    const eid = change.kind === 'save' ? change.profile.eid : change.eid;
    this.bump(eid);
    if (change.kind === 'save') this.eidOfIccid.set(change.profile.iccid, eid);
    if (change.kind === 'delete') this.eidOfIccid.delete(change.iccid);
    const record = this.records.get(eid);
    if (!record) return;
    if (change.kind === 'save') {
      const stored = storedProfile(change.profile);
      record.profiles = [...record.profiles.filter((profile) => profile.iccid !== stored.iccid), stored].sort(byIccid);
    } else if (change.kind === 'delete') {
      record.profiles = record.profiles.filter((profile) => profile.iccid !== change.iccid);
    } else {
      const { remainingMemory, availableMemoryForProfiles, lastAuditDate } = change.changes;
      if (remainingMemory !== undefined) record.remainingMemory = remainingMemory;
      if (availableMemoryForProfiles !== undefined) record.availableMemoryForProfiles = availableMemoryForProfiles;
      if (lastAuditDate !== undefined) record.lastAuditDate = lastAuditDate;
    }
  }

  private remember(record: EuiccRecord): void {
    const copy = { ...copyRecord(record), signedInfo: deepFreeze(structuredClone(record.signedInfo)) };
    copy.profiles.sort(byIccid);
    this.records.set(record.eid, copy);
    for (const profile of copy.profiles) this.eidOfIccid.set(profile.iccid, record.eid);
    this.trim(this.records);
  }

  private rememberKeys(eid: string, record: IsdRKeyRecord): void {
    this.keys.set(eid, record);
    this.trim(this.keys);
  }

  private epochOf(eid: string): number {
    return this.epochs.get(eid) ?? 0;
  }

  private bump(eid: string): void {
    const next = this.epochOf(eid) + 1;
    this.epochs.delete(eid);
    this.epochs.set(eid, next);
    this.trim(this.epochs);
  }

  /** A key write of `eid` begins or ends: its opened keys are dropped, and reads running now will not be cached. */
  private written(eid: string): void {
    this.bump(eid);
    this.keys.delete(eid);
  }

  private forget(eid: string): void {
    this.bump(eid);
    this.records.delete(eid);
    this.keys.delete(eid);
  }

  private touch<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
  }

  private trim(map: Map<string, unknown>): void {
    for (const key of map.keys()) {
      if (map.size <= this.maxRecords) return;
      if (map === this.records) this.forget(key);
      else map.delete(key);
    }
  }
}

const byIccid = (a: ProfileRecord, b: ProfileRecord) => (a.iccid < b.iccid ? -1 : a.iccid > b.iccid ? 1 : 0);

/** A profile record a caller may edit without touching the original (every object level copied). */
function copyProfile(profile: ProfileRecord): ProfileRecord {
  const copy: ProfileRecord = { ...profile, pol2: profile.pol2.map((rule) => ({ ...rule })) };
  if (profile.subscriptionAddress) copy.subscriptionAddress = { ...profile.subscriptionAddress };
  return copy;
}

/** An EIS record a caller may edit, sharing only the frozen EUM-signed part. */
function copyRecord(record: EuiccRecord): EuiccRecord {
  const copy: EuiccRecord = { ...record, registeredAt: new Date(record.registeredAt), profiles: record.profiles.map(copyProfile) };
  if (record.lastAuditDate) copy.lastAuditDate = new Date(record.lastAuditDate);
  return copy;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
