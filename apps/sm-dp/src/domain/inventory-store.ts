/**
 * The SM-DP inventory's records and its persistence port (docs/services.md "Rooms": domain code knows no
 * database). The adapter (../adapters/typeorm-inventory-store.ts) answers each method with the statements
 * named here; the SQL count per provisioning is pinned by tests, so a method never hides an extra read.
 */
import type { PolicyRule, SubscriptionState } from '@rsp/contracts';
import type { StepInfo } from '@rsp/persistence';

export type { SubscriptionState };

/** A store's write, built and not run: a flow step hands it to its checkpoint (StepInfo.commitWithCheckpoint), which commits it. */
export type PendingWrite = Parameters<StepInfo['commitWithCheckpoint']>[0];

/** An MNO allowed to call ES2 (SGP.02 §2.2): only the SHA-256 of its API key is kept. */
export interface Mno {
  mnoId: string;
  apiKeySha256: string;
  /** Where ES2 notifications are POSTed (optional; MQTT delivery always happens). */
  webhookUrl: string | null;
  createdAt: Date;
}

/** A profile type of one MNO (SGP.02 §3.1.1): the SAIP template and the POL2 of its profiles. */
export interface ProfileType {
  mnoId: string;
  name: string;
  /** SAIP profile package template, DER. */
  template: Buffer;
  pol2: PolicyRule[];
  createdAt: Date;
}

/** One subscription of the pool: Ki and OPc only sealed (SecretBox, the ICCID as associated data). */
export interface Subscription {
  iccid: string;
  imsi: string;
  /** @secret */
  kiSealed: string;
  /** @secret */
  opcSealed: string;
  mnoId: string;
  profileType: string;
  state: SubscriptionState;
  /** The eUICC the profile is reserved for / installed on. */
  eid: string | null;
  /** The download transaction holding the reservation. */
  transactionId: string | null;
  isdpAid: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Writes of a batch of new subscriptions, inside one transaction. */
export interface SubscriptionBatch {
  exists(iccid: string): Promise<boolean>;
  /** Fails with an error {@link InventoryStore.isDuplicate} recognises when the ICCID is known. */
  insert(subscription: Subscription): Promise<void>;
}

export interface InventoryStore {
  /** One read. */
  mnoById(mnoId: string): Promise<Mno | null>;
  /** One read. */
  mnoByKeyHash(apiKeySha256: string): Promise<Mno | null>;
  /** Creates the MNO, or replaces its key hash and webhook: a read, then an INSERT or an UPDATE. */
  saveMno(mno: Omit<Mno, 'createdAt'>, now: Date): Promise<void>;

  /** One read. */
  profileType(mnoId: string, name: string): Promise<ProfileType | null>;
  /** The MNO's profile types by name. */
  profileTypesOf(mnoId: string): Promise<ProfileType[]>;
  /** Creates the profile type, or replaces its template and POL2: a read, then an INSERT or an UPDATE. */
  saveProfileType(type: Omit<ProfileType, 'createdAt'>, now: Date): Promise<void>;

  /** One read. */
  subscription(iccid: string): Promise<Subscription | null>;
  /** The subscription `transactionId` holds reserved, if any: one read. */
  reservationOf(transactionId: string): Promise<Subscription | null>;
  /** The MNO's subscriptions by ICCID, at most `limit`. */
  subscriptionsOf(mnoId: string, filter: { state?: SubscriptionState; profileType?: string }, limit: number): Promise<Subscription[]>;
  /**
   * ONE statement: takes the first `available` subscription matching `where` (lowest ICCID) and sets
   * `changes` on it, atomically against concurrent claims (Postgres `FOR UPDATE SKIP LOCKED`); null when none is left.
   */
  claimAvailable(where: { mnoId: string; iccid?: string; profileType?: string }, changes: Partial<Subscription>): Promise<Subscription | null>;
  /** `changes` on the subscription while `transactionId` holds it reserved or installed: one UPDATE. */
  updateHeld(iccid: string, transactionId: string, changes: Partial<Subscription>): Promise<void>;
  /** {@link updateHeld}'s UPDATE, built and not run (no statement until the checkpoint it is handed to). */
  heldUpdate(iccid: string, transactionId: string, changes: Partial<Subscription>): PendingWrite;
  /** One UPDATE. */
  update(iccid: string, changes: Partial<Subscription>): Promise<void>;
  /** Runs `work` in one transaction. */
  addSubscriptions<T>(work: (batch: SubscriptionBatch) => Promise<T>): Promise<T>;
  /** True when `error` is a write refused because the row already exists. */
  isDuplicate(error: unknown): boolean;
}
