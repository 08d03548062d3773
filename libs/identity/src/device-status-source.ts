/**
 * Adapter of the SignedDeviceStatusSource port: `GET {registry}/device-status/{eid}` on the owner
 * registry (docs/owner-registry.md "Device status"), global fetch, a short timeout, no credentials (the
 * answer is signed; the cache verifies it like an MQTT message). Answers the services' cache misses.
 */
import { ContractError } from '@rsp/contracts';
import { RspError } from '@rsp/errors';
import { isValidEid } from '@rsp/pki';
import { DEVICE_STATUS_MEDIA_TYPE, MAX_DEVICE_STATUS_BYTES } from './signed-device-status';
import type { SignedDeviceStatusSource } from './verified-device-status-cache';

/** The registry did not answer in time, refused the connection, or answered other than 200. */
export class DeviceStatusRegistryUnreachable extends RspError {
  static override readonly code = 'ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE';
}

export interface HttpDeviceStatusSourceOptions {
  /**
   * The registry's HTTP base URL. A function is read at each request (a stack may start the registry
   * after the services); undefined then means "not reachable yet".
   */
  registryUrl: string | (() => string | undefined);
  /** Default 2000 ms: the caller's ES2 / ES4 request waits for it. */
  timeoutMs?: number;
  /** Default the global fetch (tests). */
  fetch?: typeof fetch;
}

export class HttpDeviceStatusSource implements SignedDeviceStatusSource {
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HttpDeviceStatusSourceOptions) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  async fetchSigned(eid: string): Promise<string> {
    // 32 digits only: nothing else can reach the URL path.
    if (!isValidEid(eid)) throw new ContractError.InvalidParameter('eid', 'a valid EID');
    const base = typeof this.options.registryUrl === 'function' ? this.options.registryUrl() : this.options.registryUrl;
    if (!base) throw new DeviceStatusRegistryUnreachable('owner registry address not known yet');
    let response: Response;
    try {
      response = await this.fetchImpl(`${base.replace(/\/+$/, '')}/device-status/${eid}`, {
        headers: { accept: DEVICE_STATUS_MEDIA_TYPE },
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new DeviceStatusRegistryUnreachable('owner registry unreachable', { cause: error });
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new DeviceStatusRegistryUnreachable(`owner registry answered HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > MAX_DEVICE_STATUS_BYTES) {
      await response.body?.cancel().catch(() => undefined);
      throw new DeviceStatusRegistryUnreachable('owner registry answer too large');
    }
    try {
      return await response.text();
    } catch (error) {
      throw new DeviceStatusRegistryUnreachable('owner registry answer cut short', { cause: error });
    }
  }
}
