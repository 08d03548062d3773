/**
 * The services' view of device statuses (docs/owner-registry.md "Device status"): only documents signed
 * by the registry's consent key, about the EID they arrive for, of a version above the one held.
 *
 * | source | path | on refusal |
 * |---|---|---|
 * | MQTT retained / live message | {@link VerifiedDeviceStatusCache.applySigned} (payload, topic EID) | ignored, logged by code |
 * | registry HTTP `GET /device-status/{eid}` | {@link VerifiedDeviceStatusCache.resolve} on a miss | DeviceStatusUnavailable |
 *
 * Nothing ever removes or lowers a held status: an empty retained message, a forged or an older signed
 * document (replay) changes nothing, and a broker that forgot its retained messages leaves the cache as
 * it was. A device never seen is asked of the registry when an operation needs it (fail closed).
 */
import { ContractError } from '@rsp/contracts';
import { isRspError } from '@rsp/errors';
import { isValidEid } from '@rsp/pki';
import { DeviceStatusUnavailable, type DeviceStatusLookup } from './device-status';
import { DeviceStatusRegistryUnreachable } from './device-status-source';
import { DeviceStatusVerifier, type DeviceStatusVerifierOptions, type VersionedDeviceStatus } from './signed-device-status';

/** Port: where a cache miss is answered (the registry's `GET /device-status/{eid}`; see HttpDeviceStatusSource). */
export interface SignedDeviceStatusSource {
  /** The registry's current signed document for `eid`; throws when it cannot be had. */
  fetchSigned(eid: string): Promise<string>;
}

export interface DeviceStatusCacheLogger {
  warn(message: string): void;
}

export interface VerifiedDeviceStatusCacheOptions extends DeviceStatusVerifierOptions {
  /** Answers misses; absent, a device never seen on MQTT is refused. */
  source?: SignedDeviceStatusSource;
  logger?: DeviceStatusCacheLogger;
  /** After a failed fetch for an EID, its misses are refused without a new request for this long (default 1000 ms). */
  retryAfterMs?: number;
}

/** Replaced nothing: an older version than the one held (a replay, or a late HTTP answer). */
export const STALE_DEVICE_STATUS = 'ERR_DEVICE_STATUS_STALE';

export type ApplySignedOutcome =
  | { outcome: 'accepted'; status: VersionedDeviceStatus }
  /** The version held already (a retained message again after a reconnect): nothing to log. */
  | { outcome: 'duplicate' }
  | { outcome: 'ignored'; code: string };

interface Held {
  status: VersionedDeviceStatus;
  token: string;
}

export class VerifiedDeviceStatusCache implements DeviceStatusLookup {
  private readonly held = new Map<string, Held>();
  private readonly inFlight = new Map<string, Promise<VersionedDeviceStatus>>();
  private readonly failedAt = new Map<string, number>();
  private readonly verifier: DeviceStatusVerifier;
  private readonly retryAfterMs: number;

  constructor(private readonly options: VerifiedDeviceStatusCacheOptions) {
    this.verifier = new DeviceStatusVerifier({ issuer: options.issuer, jwks: options.jwks });
    this.retryAfterMs = options.retryAfterMs ?? 1000;
  }

  /** The verified status held for `eid` (never fetches). */
  get(eid: string): VersionedDeviceStatus | undefined {
    return this.held.get(eid)?.status;
  }

  get size(): number {
    return this.held.size;
  }

  /**
   * A payload received for `topicEid` (the MQTT subscriber hands every message over). Never throws:
   * a refused payload is logged by its error code only, never its content.
   */
  async applySigned(payload: string | Uint8Array, topicEid: string): Promise<ApplySignedOutcome> {
    const token = typeof payload === 'string' ? payload : Buffer.from(payload).toString('latin1');
    if (token.length > 0 && this.held.get(topicEid)?.token === token) return { outcome: 'duplicate' };
    let status: VersionedDeviceStatus;
    try {
      status = await this.verifier.verify(token, topicEid);
    } catch (error) {
      return this.ignored(topicEid, codeOf(error));
    }
    const kept = this.keep(status, token);
    if (kept === 'stale') return this.ignored(topicEid, STALE_DEVICE_STATUS);
    return kept === 'duplicate' ? { outcome: 'duplicate' } : { outcome: 'accepted', status };
  }

  /**
   * The verified status of `eid`: the one held, else the registry's answer (one request per EID at a
   * time; after a failure none for `retryAfterMs`). Throws DeviceStatusUnavailable when there is none.
   */
  async resolve(eid: string): Promise<VersionedDeviceStatus> {
    const held = this.get(eid);
    if (held) return held;
    if (!isValidEid(eid)) throw new ContractError.InvalidParameter('eid', 'a valid EID');
    const running = this.inFlight.get(eid);
    if (running) return running;
    const source = this.options.source;
    if (!source) throw new DeviceStatusUnavailable('no verified device status, and no registry to ask');
    const failedAt = this.failedAt.get(eid);
    if (failedAt !== undefined && Date.now() - failedAt < this.retryAfterMs) throw new DeviceStatusUnavailable('no verified device status (registry failed just now)');
    const fetching = this.fetch(source, eid).finally(() => this.inFlight.delete(eid));
    this.inFlight.set(eid, fetching);
    return fetching;
  }

  private async fetch(source: SignedDeviceStatusSource, eid: string): Promise<VersionedDeviceStatus> {
    try {
      const token = await source.fetchSigned(eid);
      const status = await this.verifier.verify(token, eid);
      this.keep(status, token);
      this.failedAt.delete(eid);
    } catch (error) {
      const code = codeOf(error);
      this.failedAt.set(eid, Date.now());
      this.options.logger?.warn(`device status of ${eid} could not be fetched: ${code}${reasonOf(error)}`);
      throw new DeviceStatusUnavailable(`no verified device status (${code})`, { cause: error });
    }
    // An MQTT message may have brought a newer version meanwhile: the highest wins.
    return this.get(eid) as VersionedDeviceStatus;
  }

  /** Keeps `status` when its version is above the held one. */
  private keep(status: VersionedDeviceStatus, token: string): 'kept' | 'duplicate' | 'stale' {
    const held = this.held.get(status.eid);
    if (held && held.status.version > status.version) return 'stale';
    if (held && held.status.version === status.version) return 'duplicate';
    this.held.set(status.eid, { status, token });
    return 'kept';
  }

  private ignored(eid: string, code: string): ApplySignedOutcome {
    this.options.logger?.warn(`device status for ${eid} ignored: ${code}`);
    return { outcome: 'ignored', code };
  }
}

const codeOf = (error: unknown): string => (isRspError(error) ? error.code : 'unexpected error');

/**
 * Why the registry could not be reached, for the operator: the source's own message and the socket's
 * error code (ECONNRESET, ECONNREFUSED…). Neither carries an answer's content; a refused answer (one
 * that does not verify) is still logged by its code alone.
 */
const reasonOf = (error: unknown): string => {
  if (!(error instanceof DeviceStatusRegistryUnreachable)) return '';
  const causeCode = (error.cause as { code?: unknown } | undefined)?.code;
  return ` (${error.message}${typeof causeCode === 'string' ? `, ${causeCode}` : ''})`;
};
