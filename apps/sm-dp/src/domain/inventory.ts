/**
 * The SM-DP's profile inventory (SGP.02 §3.1.1: the SM-DP holds the MNO's profiles and reserves one per
 * DownloadProfile): MNOs and their API keys, profile types with their SAIP template, and the pool of
 * subscriptions (ICCID, IMSI, Ki, OPc). Ki / OPc are sealed with SecretBox (AAD = field and ICCID) and
 * never logged; generated ones are returned once to the caller, like an HSS provisioning file. The
 * records live behind the InventoryStore port (inventory-store.ts).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { decodePol1, encodePol1, StatusError, type PolicyRule } from '@rsp/contracts';
import { hashApiKey, sameApiKeyHash } from '@rsp/identity';
import { TtlCache, type SecretBox } from '@rsp/persistence';
import { generateIccid } from '@rsp/pki';
import { buildDefaultTemplate, decodeProfilePackage, encodeProfilePackage, type ProfilePackage } from '@rsp/saip';
import type { InventoryStore, Mno, PendingWrite, ProfileType, Subscription, SubscriptionBatch, SubscriptionState } from './inventory-store';
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

/** ICCID → owning MNO entries kept (ownerOf): far more than the downloads and notifications in flight. */
const OWNERS_KEPT = 10_000;

export class Inventory {
  /** MNOs by `id:{mnoId}` and `key:{sha256}`; profile types by `{mnoId}/{name}` (read on every ES2 call and download). */
  private readonly mnos: TtlCache<Mno>;
  private readonly profileTypes: TtlCache<ProfileType>;
  /** ICCID → owning MNO (ownerOf): immutable facts, so no expiry. */
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly store: InventoryStore,
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
    await this.store.saveMno({ mnoId: config.mnoId, apiKeySha256: hashApiKey(config.apiKey), webhookUrl: config.webhookUrl ?? null }, this.now());
    this.mnos.clear(); // the old key's entry too
  }

  /** The MNO owning `apiKey`, or undefined. */
  async authenticate(apiKey: string): Promise<Mno | undefined> {
    const hash = hashApiKey(apiKey);
    const mno = await this.mnos.get(`key:${hash}`, () => this.store.mnoByKeyHash(hash));
    if (!mno || !sameApiKeyHash(mno.apiKeySha256, hash)) return undefined;
    return mno;
  }

  async mno(mnoId: string): Promise<Mno | null> {
    return (await this.mnos.get(`id:${mnoId}`, () => this.store.mnoById(mnoId))) ?? null;
  }

  /**
   * Adds (or replaces) a profile type; the template defaults to `buildDefaultTemplate()` and must decode.
   * POL1 lives in the profile: given, it is written into the template's ProfileHeader `pol`, so every
   * package of the type carries it to the card (which enforces it); not given, the template's own stays.
   */
  async putProfileType(mnoId: string, input: { name: string; template?: Buffer; pol1?: PolicyRule[]; pol2?: PolicyRule[] }): Promise<void> {
    const given = input.template ?? encodeProfilePackage(buildDefaultTemplate());
    const pkg = decodeProfilePackage(given); // SaipError (→ 8.4 / 4.2) when it is not a profile package
    const template = input.pol1 === undefined ? given : encodeProfilePackage(withPol1(pkg, encodePol1(input.pol1)));
    await this.store.saveProfileType({ mnoId, name: input.name, template, pol2: input.pol2 ?? [] }, this.now());
    this.profileTypes.invalidate(`${mnoId}/${input.name}`);
  }

  async profileType(mnoId: string, name: string): Promise<ProfileType> {
    const type = await this.profileTypes.get(`${mnoId}/${name}`, () => this.store.profileType(mnoId, name));
    if (!type) throw new StatusError(SMDP_STATUS.PROFILE_TYPE_UNKNOWN, 'profileType');
    return type;
  }

  listProfileTypes(mnoId: string): Promise<ProfileType[]> {
    return this.store.profileTypesOf(mnoId);
  }

  /** The POL1 rules a template carries (its ProfileHeader `pol`). */
  pol1Of(type: ProfileType): PolicyRule[] {
    const header = decodeProfilePackage(type.template).elements[0];
    return header?.kind === 'header' && header.pol?.length === 1 ? decodePol1(header.pol[0] as number) : [];
  }

  /** Loads subscriber records into the pool (state available). An ICCID already known → 8.2.1 / 3.3. */
  async addSubscriptions(mnoId: string, profileType: string, records: readonly SubscriberRecord[]): Promise<number> {
    await this.profileType(mnoId, profileType);
    await this.store.addSubscriptions(async (batch) => {
      for (const record of records) await this.insertSubscription(batch, mnoId, profileType, record);
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
    await this.store.addSubscriptions(async (batch) => {
      while (generated.length < count) {
        const record: SubscriberRecord = {
          iccid: generateIccid(iccidPrefix, randomSerial(19 - iccidPrefix.length), 20),
          imsi: imsiPrefix + randomDigits(15 - imsiPrefix.length),
          ki: randomBytes(16).toString('hex'),
          opc: randomBytes(16).toString('hex'),
        };
        if (generated.some((other) => other.iccid === record.iccid)) continue;
        if (await batch.exists(record.iccid)) continue;
        await this.insertSubscription(batch, mnoId, profileType, record);
        generated.push(record);
      }
    });
    return generated;
  }

  async listSubscriptions(mnoId: string, filter: { state?: SubscriptionState; profileType?: string } = {}): Promise<SubscriptionView[]> {
    const rows = await this.store.subscriptionsOf(mnoId, filter, 1000);
    return rows.map(view);
  }

  async findSubscription(iccid: string): Promise<Subscription | null> {
    return this.knowOwner(await this.store.subscription(iccid));
  }

  /**
   * The MNO owning `iccid`, null when no such subscription exists. An owner is set when a subscription is
   * stocked and never changes (no statement updates `mno_id`, and rows are never deleted), so a known one
   * is served from memory: an ES3 notification forwarded to the MNO after a download costs no read.
   */
  async ownerOf(iccid: string): Promise<string | null> {
    return this.owners.get(iccid) ?? (await this.findSubscription(iccid))?.mnoId ?? null;
  }

  /** Notes the owner of a subscription read or claimed (a bounded map: oldest out first). */
  private knowOwner<S extends Subscription | null>(subscription: S): S {
    if (subscription && !this.owners.has(subscription.iccid)) {
      this.owners.set(subscription.iccid, subscription.mnoId);
      if (this.owners.size > OWNERS_KEPT) this.owners.delete(this.owners.keys().next().value as string);
    }
    return subscription;
  }

  /** The subscription `iccid` if `mnoId` owns it: unknown → 8.2.1 / 3.9, another MNO's → 8.2.1 / 1.2. */
  async ownedSubscription(mnoId: string, iccid: string): Promise<Subscription> {
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
   * Each reservation is ONE statement (InventoryStore.claimAvailable: on Postgres `UPDATE … WHERE iccid = (SELECT … FOR
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
  ): Promise<Subscription> {
    if (!options.firstRun) {
      const mine = await this.reservationOf(transactionId);
      if (mine) return mine;
    }
    const reservation: Partial<Subscription> = { state: 'reserved', eid, transactionId, updatedAt: this.now() };
    if (wanted.iccid !== undefined) {
      const reserved = this.knowOwner(await this.store.claimAvailable({ iccid: wanted.iccid, mnoId }, reservation));
      if (!reserved) {
        await this.ownedSubscription(mnoId, wanted.iccid); // why not: unknown → 3.9, another MNO's → 1.2, else in use
        throw new StatusError(SMDP_STATUS.ICCID_IN_USE, wanted.iccid);
      }
      return reserved;
    }
    const profileType = wanted.profileType ?? '';
    await this.profileType(mnoId, profileType);
    const reserved = this.knowOwner(await this.store.claimAvailable({ mnoId, profileType }, reservation));
    if (!reserved) throw new StatusError(SMDP_STATUS.NO_PROFILE_AVAILABLE, profileType);
    return reserved;
  }

  /** The subscription `transactionId` holds reserved, if any (a flow interrupted before it wrote its ICCID). */
  reservationOf(transactionId: string): Promise<Subscription | null> {
    return this.store.reservationOf(transactionId);
  }

  /** Gives a reservation of `transactionId` back to the pool (a failed or expired download). */
  async release(iccid: string, transactionId: string): Promise<void> {
    await this.store.updateHeld(iccid, transactionId, { state: 'available', eid: null, transactionId: null, isdpAid: null, updatedAt: this.now() });
  }

  /**
   * The download put the profile on the card (SGP.02 §3.1.1). With `commitWith` (a flow step's
   * StepInfo.commitWithCheckpoint) the UPDATE commits with the step's checkpoint instead of on its own.
   */
  async markInstalled(iccid: string, transactionId: string, isdpAid: string, commitWith?: (write: PendingWrite) => void): Promise<void> {
    const changes: Partial<Subscription> = { state: 'installed', isdpAid, updatedAt: this.now() };
    if (commitWith) commitWith(this.store.heldUpdate(iccid, transactionId, changes));
    else await this.store.updateHeld(iccid, transactionId, changes);
  }

  /** SGP.02 §3.4 (DeleteProfile / HandleProfileDeletedNotification): the profile left the eUICC. */
  async markDeleted(iccid: string): Promise<void> {
    await this.store.update(iccid, { state: 'deleted', updatedAt: this.now() });
  }

  /** Opens the sealed Ki / OPc of a subscription. @secret */
  openCredentials(subscription: Subscription): { ki: Buffer; opc: Buffer } {
    return {
      ki: this.secrets.open(subscription.kiSealed, `ki:${subscription.iccid}`),
      opc: this.secrets.open(subscription.opcSealed, `opc:${subscription.iccid}`),
    };
  }

  private async insertSubscription(batch: SubscriptionBatch, mnoId: string, profileType: string, record: SubscriberRecord): Promise<void> {
    const now = this.now();
    try {
      await batch.insert({
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
      if (this.store.isDuplicate(error)) throw new StatusError(SMDP_STATUS.ICCID_IN_USE, record.iccid);
      throw error;
    }
  }
}

function view(row: Subscription): SubscriptionView {
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

/** The package with its header's POL1 byte set (no rule: no `pol`). */
function withPol1(pkg: ProfilePackage, pol1: number): ProfilePackage {
  return {
    ...pkg,
    elements: pkg.elements.map((pe) => {
      if (pe.kind !== 'header') return pe;
      const { pol: _previous, ...rest } = pe;
      return pol1 === 0 ? rest : { ...rest, pol: Buffer.of(pol1) };
    }),
  };
}
