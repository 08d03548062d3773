/**
 * The EIS registry on TypeORM (SQLite or Postgres). ISD-R key sets are sealed with SecretBox (AAD = the
 * EID, so a sealed value copied to another row does not open); registry changes and the notifications
 * they cause are committed together (transactional outbox).
 */
import type { DataSource } from 'typeorm';
import type { IsdRKeySet } from '@rsp/offcard';
import {
  driverOf,
  findRowsBy,
  findRowWithChildren,
  isUniqueViolation,
  persistenceEntities,
  persistenceMigrations,
  runStatement,
  runWrites,
  tableOf,
  updateRows,
  updateRowsStatement,
  upsertRowsStatement,
  type Outbox,
  type SecretBox,
  type TransactionalWrite,
  type WriteStatement,
} from '@rsp/persistence';
import { DuplicateEidError } from '../../domain/errors';
import type { EisRegistry, EuiccRecord, IsdRKeyRecord, OutboundMessage, ProfileRecord, RegistryTransaction } from '../../domain/model';
import { SmSrCardLease1767398400000 } from './card-lease-migration';
import { SmsrCardLeaseEntity, SmsrEuiccEntity, SmsrProfileEntity } from './entities';
import { SmSrRegistryInit1767312000000 } from './migration';

export const smSrEntities = [...persistenceEntities, SmsrEuiccEntity, SmsrProfileEntity, SmsrCardLeaseEntity];
export const smSrMigrations = [...persistenceMigrations, SmSrRegistryInit1767312000000, SmSrCardLease1767398400000];

const keyAad = (eid: string) => `smsr_euicc.isd_r_keys:${eid}`;
/** The sealed JSON: the key set, plus the handover state (absent on rows written at registration). */
interface SealedKeys {
  kvn: number;
  enc: string;
  mac: string;
  dek: string;
  smsr?: boolean;
  retire?: number[];
}
/**
 * Revision of a stored key set: its sealed text itself (SecretBox seals with a fresh nonce, so every write
 * gives a new one), so that the compare-and-set is one UPDATE … WHERE sealed = revision. Ciphertext only.
 */
const revisionOf = (sealed: string) => sealed;

export class TypeOrmEisRegistry implements EisRegistry {
  private sealedKeysSql: string | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly secrets: SecretBox,
    private readonly outbox: Outbox,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // find / findByIccid run on every ES3 call (~30 reads per provisioning): findRowsBy skips the query
  // builder (same rows, same column transformers).
  async find(eid: string): Promise<EuiccRecord | undefined> {
    return (await this.findRow(eid))?.record;
  }

  /**
   * {@link find} with the ISD-R key record the same row holds, opened: cached-registry.ts keeps both
   * after one read, so a card's first ES5 exchange does not read the row again for its keys.
   */
  async findWithKeys(eid: string): Promise<{ record: EuiccRecord; keys: IsdRKeyRecord } | undefined> {
    const found = await this.findRow(eid);
    return found && { record: found.record, keys: this.openKeys(eid, found.sealed) };
  }

  /** The eUICC's row and its profiles' in one statement (a LEFT JOIN): a card's first contact reads once. */
  private async findRow(eid: string): Promise<{ record: EuiccRecord; sealed: string } | undefined> {
    const found = await findRowWithChildren(this.dataSource, SmsrEuiccEntity, { eid }, SmsrProfileEntity, { parent: 'eid', child: 'eid' });
    return found && { record: toRecord(found.row, found.children), sealed: found.row.isdRKeysSealed };
  }

  async findByIccid(iccid: string): Promise<ProfileRecord | undefined> {
    const [row] = await findRowsBy(this.dataSource, SmsrProfileEntity, { iccid });
    return row ? toProfile(row) : undefined;
  }

  async profilesOfMno(mnoId: string, limit: number): Promise<ProfileRecord[]> {
    const rows = await this.dataSource.getRepository(SmsrProfileEntity).find({ where: { mnoId }, order: { eid: 'ASC', iccid: 'ASC' }, take: limit });
    return rows.map(toProfile);
  }

  /** Every profile's ICCID and EID (cached-registry.ts builds its complete ICCID index from it at start). */
  async profileLocations(): Promise<Array<{ iccid: string; eid: string }>> {
    return (await this.dataSource.query(`SELECT "iccid", "eid" FROM ${tableOf(this.dataSource, SmsrProfileEntity)}`)) as Array<{ iccid: string; eid: string }>;
  }

  async register(record: EuiccRecord, isdRKeys: IsdRKeySet): Promise<void> {
    const sealed = this.sealKeys(record.eid, { keys: isdRKeys, establishedBySmsr: false, retireKvns: [] });
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.insert(SmsrEuiccEntity, {
          eid: record.eid,
          eumId: record.eumId,
          smsrId: record.smsrId,
          eumSignedInfo: record.signedInfo as never,
          eumSignature: record.eumSignature,
          isdRAid: record.isdRAid,
          isdRKeysSealed: sealed,
          remainingMemory: record.remainingMemory,
          availableMemoryForProfiles: record.availableMemoryForProfiles,
          lastAuditDate: record.lastAuditDate ?? null,
          registeredAt: record.registeredAt,
        });
        for (const profile of record.profiles) await manager.insert(SmsrProfileEntity, this.profileRow(profile) as never);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateEidError(`EID ${record.eid} is already registered`, { cause: error });
      throw error;
    }
  }

  async isdRKeys(eid: string): Promise<IsdRKeySet | undefined> {
    return (await this.isdRKeyRecord(eid))?.keys;
  }

  async isdRKeyRecord(eid: string): Promise<IsdRKeyRecord | undefined> {
    // Read before every ES5 exchange (~15 per provisioning): plain SQL, built once. The query builder's
    // findOne cost ten times the SQLite lookup itself (bench -- provisioning profile).
    this.sealedKeysSql ??= `SELECT isd_r_keys_sealed AS sealed FROM ${tableOf(this.dataSource, SmsrEuiccEntity)} WHERE eid = ${
      driverOf(this.dataSource) === 'postgres' ? '$1' : '?'
    }`;
    const { rows } = await runStatement(this.dataSource, this.sealedKeysSql, [eid]);
    const sealed = rows[0]?.sealed as string | undefined;
    return sealed === undefined ? undefined : this.openKeys(eid, sealed);
  }

  async replaceIsdRKeys(eid: string, next: Omit<IsdRKeyRecord, 'revision'>, expectedRevision: string): Promise<boolean> {
    return (await this.storeIsdRKeys(eid, next, expectedRevision)) !== undefined;
  }

  /** {@link replaceIsdRKeys} returning the stored record with its new revision (cached-registry.ts keeps it). */
  async storeIsdRKeys(eid: string, next: Omit<IsdRKeyRecord, 'revision'>, expectedRevision: string): Promise<IsdRKeyRecord | undefined> {
    // The revision IS the sealed value (below): one conditional UPDATE is the whole compare-and-set, no
    // lost update between instances and no transaction.
    const sealed = this.sealKeys(eid, next);
    const written = await updateRows(this.dataSource, SmsrEuiccEntity, { eid, isdRKeysSealed: expectedRevision }, { isdRKeysSealed: sealed });
    return written === 1 ? { keys: next.keys, establishedBySmsr: next.establishedBySmsr, retireKvns: [...next.retireKvns], revision: revisionOf(sealed) } : undefined;
  }

  private sealKeys(eid: string, value: Omit<IsdRKeyRecord, 'revision'>): string {
    const { keys } = value;
    const plain: SealedKeys = { kvn: keys.kvn, enc: keys.enc.toString('hex'), mac: keys.mac.toString('hex'), dek: keys.dek.toString('hex') };
    if (value.establishedBySmsr) plain.smsr = true;
    if (value.retireKvns.length > 0) plain.retire = [...value.retireKvns];
    return this.secrets.seal(JSON.stringify(plain), keyAad(eid));
  }

  private openKeys(eid: string, sealed: string): IsdRKeyRecord {
    const plain = JSON.parse(this.secrets.openString(sealed, keyAad(eid))) as SealedKeys;
    return {
      keys: { kvn: plain.kvn, enc: Buffer.from(plain.enc, 'hex'), mac: Buffer.from(plain.mac, 'hex'), dek: Buffer.from(plain.dek, 'hex') },
      establishedBySmsr: plain.smsr === true,
      retireKvns: plain.retire ?? [],
      revision: revisionOf(sealed),
    };
  }

  /**
   * The changes `work` asks for are collected, then written in as few statements as they need: the
   * profile saves as one multi-row upsert, the messages as one INSERT, each in the order below. They
   * commit together through runWrites (libs/persistence atomic-writes.ts): one statement alone as it is;
   * on PostgreSQL, writes on distinct tables as ONE statement (no BEGIN / COMMIT round trips); else one
   * transaction. A throw in `work` writes nothing (as a rollback would). After the commit the messages
   * go to the outbox relay at once (Outbox.committed).
   */
  async transaction<T>(work: (tx: RegistryTransaction) => Promise<T>): Promise<T> {
    const saves = new Map<string, SmsrProfileEntity>();
    const writes: Array<WriteStatement | TransactionalWrite> = [];
    const messages: OutboundMessage[] = [];
    const flushSaves = () => {
      if (saves.size === 0) return;
      const rows = [...saves.values()];
      saves.clear();
      writes.push(upsertRowsStatement(this.dataSource, SmsrProfileEntity, rows, ['eid', 'iccid']));
    };
    const result = await work({
      saveProfile: async (profile) => {
        const row = this.profileRow(profile);
        saves.delete(`${row.eid}/${row.iccid}`); // the last save of a profile wins (one row per key per upsert)
        saves.set(`${row.eid}/${row.iccid}`, row);
      },
      deleteProfile: async (eid, iccid) => {
        flushSaves(); // keeps the order of a save and a delete of one profile
        writes.push((manager) => manager.delete(SmsrProfileEntity, { eid, iccid }));
      },
      updateEuicc: async (eid, changes) => {
        const update: Partial<SmsrEuiccEntity> = {};
        if (changes.remainingMemory !== undefined) update.remainingMemory = changes.remainingMemory;
        if (changes.availableMemoryForProfiles !== undefined) update.availableMemoryForProfiles = changes.availableMemoryForProfiles;
        if (changes.lastAuditDate !== undefined) update.lastAuditDate = changes.lastAuditDate;
        if (Object.keys(update).length > 0) writes.push(updateRowsStatement(this.dataSource, SmsrEuiccEntity, { eid }, update));
      },
      enqueue: async (message: OutboundMessage) => {
        messages.push(message);
      },
    });
    flushSaves();
    const outbound = this.outbox.prepare(messages, true);
    if (outbound.length > 0) writes.push(this.outbox.insertStatement(outbound));
    await runWrites(this.dataSource, writes);
    this.outbox.committed(outbound);
    return result;
  }

  private profileRow(profile: ProfileRecord): SmsrProfileEntity {
    return profileRowOf(profile, this.now());
  }
}

function profileRowOf(profile: ProfileRecord, updatedAt: Date): SmsrProfileEntity {
  return {
    eid: profile.eid,
    iccid: profile.iccid,
    isdpAid: profile.isdpAid.toUpperCase(),
    mnoId: profile.mnoId,
    smdpId: profile.smdpId,
    state: profile.state,
    fallback: profile.fallback,
    pol2: profile.pol2,
    profileType: profile.profileType ?? null,
    allocatedMemory: profile.allocatedMemory ?? null,
    subscriptionAddress: profile.subscriptionAddress ?? null,
    updatedAt,
  };
}

/** A profile as the database gives it back after a save (ISD-P AID upper case, absent optional fields left out). */
export function storedProfile(profile: ProfileRecord): ProfileRecord {
  return structuredClone(toProfile(profileRowOf(profile, new Date(0))));
}

function toProfile(row: SmsrProfileEntity): ProfileRecord {
  const profile: ProfileRecord = {
    eid: row.eid,
    iccid: row.iccid,
    isdpAid: row.isdpAid,
    mnoId: row.mnoId,
    smdpId: row.smdpId,
    state: row.state,
    fallback: Boolean(row.fallback),
    pol2: row.pol2 ?? [],
  };
  if (row.profileType !== null) profile.profileType = row.profileType;
  if (row.allocatedMemory !== null) profile.allocatedMemory = row.allocatedMemory;
  if (row.subscriptionAddress !== null) profile.subscriptionAddress = row.subscriptionAddress;
  return profile;
}

function toRecord(row: SmsrEuiccEntity, profiles: SmsrProfileEntity[]): EuiccRecord {
  const record: EuiccRecord = {
    eid: row.eid,
    eumId: row.eumId,
    smsrId: row.smsrId,
    signedInfo: row.eumSignedInfo,
    eumSignature: row.eumSignature,
    isdRAid: row.isdRAid,
    remainingMemory: row.remainingMemory,
    availableMemoryForProfiles: row.availableMemoryForProfiles,
    registeredAt: row.registeredAt,
    profiles: profiles.map(toProfile),
  };
  if (row.lastAuditDate !== null) record.lastAuditDate = row.lastAuditDate;
  return record;
}
