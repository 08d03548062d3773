/**
 * In-memory storage for one dev IdP instance (oidc-provider's adapter interface). Unlike the
 * provider's built-in quick-start adapter, each instance has its own map (tests start several IdPs
 * side by side) and clients can be added at run time ({@link DevIdp.addClient}). Development only.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  /** Epoch milliseconds, or undefined for no expiry. */
  expiresAt?: number;
}

/** All models' records of one provider instance, keyed `{model}:{id}`. */
export class DevIdpStore {
  private readonly records = new Map<string, Entry>();

  /** The adapter class oidc-provider expects in its `adapter` configuration. */
  adapterFactory(): new (model: string) => Adapter {
    return adapterClassFor(this);
  }

  set(key: string, payload: AdapterPayload, expiresIn?: number): void {
    const entry: Entry = { payload };
    if (typeof expiresIn === 'number') entry.expiresAt = Date.now() + expiresIn * 1000;
    this.records.set(key, entry);
  }

  delete(key: string): void {
    this.records.delete(key);
  }

  /** The payload stored under `key` unless it expired (expired records are dropped). */
  live(key: string): AdapterPayload | undefined {
    const entry = this.records.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.records.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  /** First live payload of `model` matching `predicate`. */
  findWhere(model: string, predicate: (payload: AdapterPayload) => boolean): AdapterPayload | undefined {
    for (const key of [...this.records.keys()]) {
      if (!key.startsWith(`${model}:`)) continue;
      const payload = this.live(key);
      if (payload !== undefined && predicate(payload)) return payload;
    }
    return undefined;
  }

  /**
   * Drops the records of `model` issued under `grantId`. oidc-provider calls revokeByGrantId on each
   * model's adapter in turn; deleting across models here also dropped live Session / Interaction
   * records, and a second user's login then failed with "interaction session not found".
   */
  deleteByGrantId(model: string, grantId: string): void {
    for (const [key, entry] of [...this.records]) {
      if (key.startsWith(`${model}:`) && entry.payload.grantId === grantId) this.records.delete(key);
    }
  }
}

function adapterClassFor(store: DevIdpStore): new (model: string) => Adapter {
  return class StoreAdapter implements Adapter {
    constructor(private readonly model: string) {}

    private key(id: string): string {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      store.set(this.key(id), payload, expiresIn);
    }
    async find(id: string): Promise<AdapterPayload | undefined> {
      return store.live(this.key(id));
    }
    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return store.findWhere(this.model, (payload) => payload.userCode === userCode);
    }
    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return store.findWhere(this.model, (payload) => payload.uid === uid);
    }
    async consume(id: string): Promise<void> {
      const payload = store.live(this.key(id));
      if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string): Promise<void> {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      store.deleteByGrantId(this.model, grantId);
    }
  };
}
