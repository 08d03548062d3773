/** What every use case gets: the store (records and outbox, domain/store.ts), the clock, the configuration and the callers. */
import type { KeyObject, webcrypto } from 'node:crypto';
import type { RspLogger } from '@rsp/contracts';
import type { OwnerIdentity } from '@rsp/identity';
import type { RegistryStore } from './store';

/** The shared logger port (a message plus correlation ids). */
export type Logger = RspLogger;

export interface MakerConfig {
  makerId: string;
  /** The middle part of device URLs: `{registryUrl}/{makerDomain}/{deviceId}`. */
  makerDomain: string;
  /** @secret */
  apiKey: string;
}

/**
 * An MNO: its API key to call the registry, and the connector the registry uses to call that MNO's
 * SM-DP ES2 on the owner's behalf (resale 'leave', porting).
 */
export interface MnoConfig {
  mnoId: string;
  /** @secret */
  apiKey: string;
  /** HTTP base URL of the MNO's SM-DP: calls go to `{es2Url}/gsma/es2/{function}` (docs/services.md). */
  es2Url?: string;
  /** The `X-API-Key` the SM-DP knows this MNO by. @secret */
  es2ApiKey?: string;
  /** The SM-SR of the MNO's eUICCs (ES2 `smsrId`). */
  smsrId?: string;
  /** The MNO lets a subscription pass to a device's next owner (resale 'pass'). */
  acceptsTransfers?: boolean;
}

export interface ConsentSigningKey {
  /** @secret */
  privateKey: KeyObject | webcrypto.CryptoKey;
  kid: string;
}

/** An authenticated owner: the identity `(iss, sub)` and its token's auth context. */
export interface OwnerCaller {
  kind: 'owner';
  identity: OwnerIdentity;
}

/** An authenticated maker or MNO (X-API-Key). */
export interface ClientCaller {
  kind: 'maker' | 'mno';
  clientId: string;
}

export type Caller = OwnerCaller | ClientCaller;

/** An owner as stored: the pair `(iss, sub)`, never an email. */
export interface Subject {
  iss: string;
  sub: string;
}

export const subjectOf = (owner: OwnerCaller): Subject => ({ iss: owner.identity.iss, sub: owner.identity.sub });
export const sameSubject = (a: Subject, b: Subject): boolean => a.iss === b.iss && a.sub === b.sub;

export interface RegistryConfig {
  registryUrl: string;
  makers: ReadonlyMap<string, MakerConfig>;
  mnos: ReadonlyMap<string, MnoConfig>;
  consentKey: ConsentSigningKey;
}

export interface RegistryDeps {
  store: RegistryStore;
  config: RegistryConfig;
  now: () => Date;
  logger: Logger;
  /** Asks the outbox relay to poll now (after a commit that queued something). */
  kickOutbox: () => void;
}
