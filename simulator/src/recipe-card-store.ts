/**
 * The card store of a fleet: idle cards as recipes (SK.ECASD.ECKA scalar + CERT.ECASD.ECKA), expanded
 * into a full CardState on first use, changed states in memory or in a backing store. Stored states
 * are checked against their recipe before they are served (a card file of another card or another PKI
 * is refused with a coded error, never served under this EID).
 */
import type { CardState, CardStore, NotificationState } from '@rsp/card';
import { CardIdentityMismatch, type EcasdCredentialCheck, type FleetRecipeHeader, type FleetRecipeSource } from './fleet-recipes';

/** What a {@link RecipeCardStore} needs from its fleet. */
export interface RecipeCardStoreOptions {
  /** The full state of card `index` from its recipe (the certificate is issued before this is called). */
  expand: (eid: string, index: number, d: Buffer) => CardState;
  issueCertificate: (d: Buffer) => Buffer;
  declaration: (eid: string) => NotificationState;
  /** Checks a stored card's ECASD credential against this fleet's PKI. */
  credentialCheck: EcasdCredentialCheck;
  /** Where changed states persist (default: memory). */
  backing?: CardStore;
}

/**
 * The idle fleet, compactly: every card's private scalar d in one slab (32 bytes per card), its index by
 * EID, and its CERT.ECASD.ECKA once issued. Changed states are kept as JSON (or in `backing`).
 */
export class RecipeCardStore implements CardStore {
  private scalars = Buffer.alloc(0);
  private readonly indexOf = new Map<string, number>();
  private readonly certificates: Array<Buffer | undefined> = [];
  private readonly changed = new Map<string, string>();
  private readonly backing: CardStore | undefined;

  constructor(private readonly options: RecipeCardStoreOptions) {
    this.backing = options.backing;
  }

  /** Reserves room for `count` more cards (one slab, no per-card Buffer objects). */
  reserve(count: number): void {
    const grown = Buffer.alloc(this.scalars.length + count * 32);
    this.scalars.copy(grown);
    this.scalars = grown;
  }

  addRecipe(eid: string, d: Buffer, certificate?: Buffer): number {
    const index = this.indexOf.size;
    if ((index + 1) * 32 > this.scalars.length) this.reserve(Math.max(1024, index));
    d.copy(this.scalars, index * 32);
    this.indexOf.set(eid, index);
    this.certificates[index] = certificate;
    return index;
  }

  /** SK.ECASD.ECKA scalar of card `index` (a view into the slab). @secret */
  private scalar(index: number): Buffer {
    return this.scalars.subarray(index * 32, index * 32 + 32);
  }

  /** CERT.ECASD.ECKA of `eid`, issued by the EUM on first request when the fleet was made lazily. */
  certificate(eid: string): Buffer | undefined {
    const stored = this.storedState(eid);
    if (stored) return Buffer.from(stored.ecasd.certificate, 'hex'); // a state written earlier wins over the recipe
    const index = this.indexOf.get(eid);
    if (index === undefined) return undefined;
    return this.certificates[index] ?? this.issue(eid, index);
  }

  /**
   * Pending notifications without expanding an untouched card: a card never changed still holds only
   * its manufacture-time eUICC declaration (seq 1), so announcing 100k idle cards costs no expansion.
   * (fleet.spec.ts checks this equals the expanded state's list.)
   */
  pendingNotifications(eid: string): readonly NotificationState[] | undefined {
    if (this.changed.has(eid) || this.backing?.load(eid)) return undefined; // let the caller load the state
    const index = this.indexOf.get(eid);
    if (index === undefined) return undefined;
    return [this.options.declaration(eid)];
  }

  /** The recipe's certificate (issued by {@link load} before expansion). */
  recipeCertificate(index: number): Buffer {
    const cert = this.certificates[index];
    if (!cert) throw new RangeError(`no certificate issued for card #${index}`);
    return cert;
  }

  load(eid: string): CardState | undefined {
    const stored = this.storedState(eid);
    if (stored) return stored;
    const index = this.indexOf.get(eid);
    if (index === undefined) return undefined;
    if (!this.certificates[index]) this.issue(eid, index);
    return this.options.expand(eid, index, this.scalar(index));
  }

  save(state: CardState, json?: string): void {
    if (this.backing) this.backing.save(state, json);
    else this.changed.set(state.eid, json ?? JSON.stringify(state));
  }

  get changedCount(): number {
    return this.changed.size;
  }

  /** Makes sure card `eid` is in the backing store (fleets whose store keeps no manufacturing record). */
  persistManufactured(eid: string): void {
    const index = this.indexOf.get(eid);
    if (index === undefined || !this.backing || this.backing.load(eid)) return;
    if (!this.certificates[index]) this.issue(eid, index); // saves the card
    else this.backing.save(this.options.expand(eid, index, this.scalar(index)));
  }

  /** The recipes of cards 0..eids.length-1, for the fleet's manufacturing record. */
  recipeSource(header: FleetRecipeHeader, eids: readonly string[]): FleetRecipeSource {
    return {
      ...header,
      count: eids.length,
      eid: (index) => eids[index] as string,
      scalar: (index) => this.scalar(index),
      certificate: (index) => this.certificates[index],
    };
  }

  private storedState(eid: string): CardState | undefined {
    const text = this.changed.get(eid);
    if (text !== undefined) return JSON.parse(text) as CardState;
    const stored = this.backing?.load(eid);
    if (stored) this.checkIdentity(eid, stored);
    return stored;
  }

  /**
   * A stored state must be the card its recipe describes: same CERT.ECASD.ECKA (or, for a certificate
   * issued lazily and saved only with the state, one that matches the recipe's key; adopted then).
   */
  private checkIdentity(eid: string, stored: CardState): void {
    const index = this.indexOf.get(eid);
    if (index === undefined) return; // another fleet's card sharing the store: not ours to judge
    const recipe = this.certificates[index];
    if (recipe) {
      if (stored.ecasd.certificate !== recipe.toString('hex')) {
        throw new CardIdentityMismatch(`${describeStored(this.backing, eid)} holds another CERT.ECASD.ECKA than the fleet's manufacturing record`);
      }
      return;
    }
    const certificate = Buffer.from(stored.ecasd.certificate, 'hex');
    const problem = this.options.credentialCheck.problem(this.scalar(index), certificate);
    if (problem) throw new CardIdentityMismatch(`${describeStored(this.backing, eid)} is not the card of the fleet's manufacturing record (${problem.why})`);
    this.certificates[index] = certificate;
  }

  /**
   * Issues a lazy fleet's certificate. With a backing store it is saved with its card before anyone sees
   * it (ECDSA signatures are randomised: a restart could not issue the same bytes again).
   */
  private issue(eid: string, index: number): Buffer {
    const certificate = this.options.issueCertificate(this.scalar(index));
    this.certificates[index] = certificate;
    this.backing?.save(this.options.expand(eid, index, this.scalar(index)));
    return certificate;
  }
}

/** A stored card as an error names it: its file when the store has files. */
export function describeStored(store: CardStore | undefined, eid: string): string {
  const path = (store as { path?: (eid: string) => string } | undefined)?.path?.(eid);
  return path ? `stored card ${path}` : `stored card ${eid}`;
}
