/**
 * The SM-DP's profile inventory (SGP.02 §3.1.1: the SM-DP holds the MNO's profiles and reserves one per
 * DownloadProfile): MNOs and their API keys, profile types with their SAIP template, and the pool of
 * subscriptions (ICCID, IMSI, Ki, OPc). Ki / OPc are sealed with SecretBox (AAD = field and ICCID) and
 * never logged; generated ones are returned once to the caller, like an HSS provisioning file.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { In, type DataSource, type EntityManager, type EntityTarget, type ObjectLiteral, type QueryDeepPartialEntity } from 'typeorm';
import { StatusError, type PolicyRule } from '@rsp/contracts';
import { claimFirstRow, findRowsBy, isUniqueViolation, TtlCache, type SecretBox } from '@rsp/persistence';
import { generateIccid } from '@rsp/pki';
import { buildDefaultTemplate, decodeProfilePackage, encodeProfilePackage } from '@rsp/saip';
import { MnoRecord } from '../adapters/entities/mno.entity';
import { ProfileTypeRecord } from '../adapters/entities/profile-type.entity';
import { SubscriptionRecord, type SubscriptionState } from '../adapters/entities/subscription.entity';
import { SMDP_STATUS } from './status-codes';

/** A subscriber's network credentials as the HSS needs them (hex Ki / OPc). @secret */
export interface SubscriberRecord {
  iccid: string;
  imsi: string;
  ki: string;
  opc: string;
}

/** A subscription as listed to its MNO: no secrets. */
export interface SubscriptionView {
  iccid: string;
  imsi: string;
  profileType: string;
  state: SubscriptionState;
  eid?: string;
  isdpAid?: string;
}

export interface MnoConfig {
  mnoId: string;
  apiKey: string;
  webhookUrl?: string;
}

/** Hex SHA-256 of an API key: what the database stores. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

/** Default issuer prefix of generated ICCIDs: 89 (telecom), 88 [U], 299 test issuer. */
export const DEFAULT_ICCID_PREFIX = '8988299';
/** Default IMSI prefix: MCC 001 / MNC 01, the ITU-T test network. */
export const DEFAULT_IMSI_PREFIX = '00101';

export interface InventoryOptions {
  /**
   * How long MNO records and profile types are served from memory (ms; default 5000, 0 = never). Their
   * changes through this instance are seen at once; another instance's within this time.
   */
  cacheTtlMs?: number;
}

export class Inventory {
  /** MNOs by `id:{mnoId}` and `key:{sha256}`; profile types by `{mnoId}/{name}` (read on every ES2 call and download). */
  private readonly mnos: TtlCache<MnoRecord>;
  private readonly profileTypes: TtlCache<ProfileTypeRecord>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly secrets: SecretBox,
    private readonly now: () => Date = () => new Date(),
    options: InventoryOptions = {},
  ) {
    const ttlMs = options.cacheTtlMs ?? 5000;
    this.mnos = new TtlCache({ ttlMs });
    this.profileTypes = new TtlCache({ ttlMs });
  }

  /** Creates or updates an MNO from configuration (the key is hashed before it is stored). */
  async upsertMno(config: MnoConfig): Promise<void> {
    const repository = this.dataSource.getRepository(MnoRecord);
    const existing = await repository.findOneBy({ mnoId: config.mnoId });
    const fields = { apiKeySha256: hashApiKey(config.apiKey), webhookUrl: config.webhookUrl ?? null };
    if (existing) await repository.update({ mnoId: config.mnoId }, fields);
    else await repository.insert({ mnoId: config.mnoId, ...fields, createdAt: this.now() });
    this.mnos.clear(); // the old key's entry too
  }

  /** The MNO owning `apiKey`, or undefined. */
  async authenticate(apiKey: string): Promise<MnoRecord | undefined> {
    const hash = hashApiKey(apiKey);
    const mno = await this.mnos.get(`key:${hash}`, () => this.first(MnoRecord, { apiKeySha256: hash }));
    // The lookup is by hash already; the constant-time compare only documents the intent.
    if (!mno || !timingSafeEqual(Buffer.from(mno.apiKeySha256, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
    return mno;
  }

  async mno(mnoId: string): Promise<MnoRecord | null> {
    return (await this.mnos.get(`id:${mnoId}`, () => this.first(MnoRecord, { mnoId }))) ?? null;
  }

  /** Adds (or replaces) a profile type; the template defaults to `buildDefaultTemplate()` and must decode. */
  async putProfileType(mnoId: string, input: { name: string; template?: Buffer; pol2?: PolicyRule[] }): Promise<void> {
    const template = input.template ?? encodeProfilePackage(buildDefaultTemplate());
    decodeProfilePackage(template); // SaipError (→ 8.4 / 4.2) when it is not a profile package
    const repository = this.dataSource.getRepository(ProfileTypeRecord);
    const fields = { template, pol2: input.pol2 ?? [] };
    if (await repository.existsBy({ mnoId, name: input.name })) await repository.update({ mnoId, name: input.name }, values<ProfileTypeRecord>(fields));
    else await repository.insert(values<ProfileTypeRecord>({ mnoId, name: input.name, ...fields, createdAt: this.now() }));
    this.profileTypes.invalidate(`${mnoId}/${input.name}`);
  }

  async profileType(mnoId: string, name: string): Promise<ProfileTypeRecord> {
    const type = await this.profileTypes.get(`${mnoId}/${name}`, () => this.first(ProfileTypeRecord, { mnoId, name }));
    if (!type) throw new StatusError(SMDP_STATUS.PROFILE_TYPE_UNKNOWN, 'profileType');
    return type;
  }

  listProfileTypes(mnoId: string): Promise<ProfileTypeRecord[]> {
    return this.dataSource.getRepository(ProfileTypeRecord).find({ where: { mnoId }, order: { name: 'ASC' } });
  }

  /** Loads subscriber records into the pool (state available). An ICCID already known → 8.2.1 / 3.3. */
  async addSubscriptions(mnoId: string, profileType: string, records: readonly SubscriberRecord[]): Promise<number> {
    await this.profileType(mnoId, profileType);
    await this.dataSource.transaction(async (tx) => {
      for (const record of records) await this.insertSubscription(tx, mnoId, profileType, record);
    });
    return records.length;
  }

  /**
   * Generates `count` subscriptions (random ICCID serials, IMSIs under `imsiPrefix`, random Ki / OPc from
   * node:crypto) and returns their credentials: the only time they leave the SM-DP in clear.
   */
  async generateSubscriptions(
    mnoId: string,
    profileType: string,
    count: number,
    options: { iccidPrefix?: string; imsiPrefix?: string } = {},
  ): Promise<SubscriberRecord[]> {
    await this.profileType(mnoId, profileType);
    const iccidPrefix = options.iccidPrefix ?? DEFAULT_ICCID_PREFIX;
    const imsiPrefix = options.imsiPrefix ?? DEFAULT_IMSI_PREFIX;
    const generated: SubscriberRecord[] = [];
    await this.dataSource.transaction(async (tx) => {
      while (generated.length < count) {
        const record: SubscriberRecord = {
          iccid: generateIccid(iccidPrefix, randomSerial(19 - iccidPrefix.length), 20),
          imsi: imsiPrefix + randomDigits(15 - imsiPrefix.length),
          ki: randomBytes(16).toString('hex'),
          opc: randomBytes(16).toString('hex'),
        };
        if (generated.some((other) => other.iccid === record.iccid)) continue;
        if (await tx.getRepository(SubscriptionRecord).existsBy({ iccid: record.iccid })) continue;
        await this.insertSubscription(tx, mnoId, profileType, record);
        generated.push(record);
      }
    });
    return generated;
  }

  async listSubscriptions(mnoId: string, filter: { state?: SubscriptionState; profileType?: string } = {}): Promise<SubscriptionView[]> {
    const rows = await this.dataSource.getRepository(SubscriptionRecord).find({
      where: { mnoId, ...(filter.state ? { state: filter.state } : {}), ...(filter.profileType ? { profileType: filter.profileType } : {}) },
      order: { iccid: 'ASC' },
      take: 1000,
    });
    return rows.map(view);
  }

  /**
   * `findOneBy` without the query builder (findRowsBy: same rows, same column conversion). These reads
   * run on every ES2 call and download (bench -- provisioning profile).
   */
  private async first<E extends ObjectLiteral>(entity: EntityTarget<E>, where: Partial<Record<keyof E & string, unknown>>): Promise<E | null> {
    const [row] = await findRowsBy(this.dataSource, entity, where);
    return row ?? null;
  }

  findSubscription(iccid: string): Promise<SubscriptionRecord | null> {
    return this.first(SubscriptionRecord, { iccid });
  }

  /** The subscription `iccid` if `mnoId` owns it: unknown → 8.2.1 / 3.9, another MNO's → 8.2.1 / 1.2. */
  async ownedSubscription(mnoId: string, iccid: string): Promise<SubscriptionRecord> {
    const subscription = await this.findSubscription(iccid);
    if (!subscription) throw new StatusError(SMDP_STATUS.ICCID_UNKNOWN, iccid);
    if (subscription.mnoId !== mnoId) throw new StatusError(SMDP_STATUS.ICCID_NOT_OWNED, iccid);
    return subscription;
  }

  /**
   * SGP.02 §3.1.1 "profile reservation": reserves the given ICCID (it must be the MNO's and available) or
   * the first available one of the profile type (lowest ICCID), for `eid` and `transactionId`. Safe to
   * repeat for the same transaction (a resumed flow finds its own reservation).
   *
   * Each reservation is ONE statement (claimFirstRow: on Postgres `UPDATE … WHERE iccid = (SELECT … FOR
   * UPDATE SKIP LOCKED LIMIT 1) RETURNING …`): concurrent downloads get distinct subscriptions and
   * 8.2.1 / 3.7 only when none is left, never because another caller took the one they had read.
   * `firstRun`: the transaction has never run this step, so it holds no reservation to look for.
   */
  async reserve(
    mnoId: string,
    wanted: { iccid?: string; profileType?: string },
    eid: string,
    transactionId: string,
    options: { firstRun?: boolean } = {},
  ): Promise<SubscriptionRecord> {
    if (!options.firstRun) {
      const mine = await this.reservationOf(transactionId);
      if (mine) return mine;
    }
    const reservation: Partial<SubscriptionRecord> = { state: 'reserved', eid, transactionId, updatedAt: this.now() };
    if (wanted.iccid !== undefined) {
      const reserved = await claimFirstRow(this.dataSource, SubscriptionRecord, { iccid: wanted.iccid, mnoId, state: 'available' }, reservation);
      if (!reserved) {
        await this.ownedSubscription(mnoId, wanted.iccid); // why not: unknown → 3.9, another MNO's → 1.2, else in use
        throw new StatusError(SMDP_STATUS.ICCID_IN_USE, wanted.iccid);
      }
      return reserved;
    }
    const profileType = wanted.profileType ?? '';
    await this.profileType(mnoId, profileType);
    const reserved = await claimFirstRow(this.dataSource, SubscriptionRecord, { mnoId, profileType, state: 'available' }, reservation);
    if (!reserved) throw new StatusError(SMDP_STATUS.NO_PROFILE_AVAILABLE, profileType);
    return reserved;
  }

  /** The subscription `transactionId` holds reserved, if any (a flow interrupted before it wrote its ICCID). */
  reservationOf(transactionId: string): Promise<SubscriptionRecord | null> {
    return this.first(SubscriptionRecord, { transactionId, state: 'reserved' });
  }

  /** Gives a reservation of `transactionId` back to the pool (a failed or expired download). */
  async release(iccid: string, transactionId: string): Promise<void> {
    await this.dataSource
      .getRepository(SubscriptionRecord)
      .update({ iccid, transactionId, state: In(['reserved', 'installed']) }, { state: 'available', eid: null, transactionId: null, isdpAid: null, updatedAt: this.now() });
  }

  async markInstalled(iccid: string, transactionId: string, isdpAid: string): Promise<void> {
    await this.dataSource
      .getRepository(SubscriptionRecord)
      .update({ iccid, transactionId, state: In(['reserved', 'installed']) }, { state: 'installed', isdpAid, updatedAt: this.now() });
  }

  /** SGP.02 §3.4 (DeleteProfile / HandleProfileDeletedNotification): the profile left the eUICC. */
  async markDeleted(iccid: string): Promise<void> {
    await this.dataSource.getRepository(SubscriptionRecord).update({ iccid }, { state: 'deleted', updatedAt: this.now() });
  }

  /** Opens the sealed Ki / OPc of a subscription. @secret */
  openCredentials(subscription: SubscriptionRecord): { ki: Buffer; opc: Buffer } {
    return {
      ki: this.secrets.open(subscription.kiSealed, `ki:${subscription.iccid}`),
      opc: this.secrets.open(subscription.opcSealed, `opc:${subscription.iccid}`),
    };
  }

  private async insertSubscription(tx: EntityManager, mnoId: string, profileType: string, record: SubscriberRecord): Promise<void> {
    const now = this.now();
    try {
      await tx.getRepository(SubscriptionRecord).insert({
        iccid: record.iccid,
        imsi: record.imsi,
        kiSealed: this.secrets.seal(Buffer.from(record.ki, 'hex'), `ki:${record.iccid}`),
        opcSealed: this.secrets.seal(Buffer.from(record.opc, 'hex'), `opc:${record.iccid}`),
        mnoId,
        profileType,
        state: 'available',
        eid: null,
        transactionId: null,
        isdpAid: null,
        createdAt: now,
        updatedAt: now,
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new StatusError(SMDP_STATUS.ICCID_IN_USE, record.iccid);
      throw error;
    }
  }
}

/** TypeORM cannot type JSON columns in insert/update values (as @rsp/persistence's own helper). */
function values<E extends ObjectLiteral>(partial: Partial<E>): QueryDeepPartialEntity<E> {
  return partial as QueryDeepPartialEntity<E>;
}

function view(row: SubscriptionRecord): SubscriptionView {
  return {
    iccid: row.iccid,
    imsi: row.imsi,
    profileType: row.profileType,
    state: row.state,
    ...(row.eid ? { eid: row.eid } : {}),
    ...(row.isdpAid ? { isdpAid: row.isdpAid } : {}),
  };
}

function randomDigits(count: number): string {
  let digits = '';
  while (digits.length < count) digits += String(randomInt(0, 10));
  return digits;
}

function randomSerial(width: number): bigint {
  return BigInt(randomDigits(width));
}
