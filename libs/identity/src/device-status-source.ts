/**
 * Adapter of the SignedDeviceStatusSource port: `GET {registry}/device-status/{eid}` on the owner
 * registry (docs/owner-registry.md "Device status"), a short timeout, no credentials (the answer is
 * signed; the cache verifies it like an MQTT message). Answers the services' cache misses.
 *
 * node:http(s) with a keep-alive agent rather than the global fetch: every device a service meets for the
 * first time costs one of these requests on the services' thread, and undici's fetch took 230–320 µs of CPU
 * per request where this takes 70–110 (docs/performance.md, round sixteen). No redirect is followed: any
 * answer but 200 is refused.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ContractError } from '@rsp/contracts';
import { RspError } from '@rsp/errors';
import { isValidEid } from '@rsp/pki';
import { DEVICE_STATUS_MEDIA_TYPE, MAX_DEVICE_STATUS_BYTES } from './signed-device-status';
import type { SignedDeviceStatusSource } from './verified-device-status-cache';

/** The registry did not answer in time, refused the connection, or answered other than 200. */
export class DeviceStatusRegistryUnreachable extends RspError {
  static override readonly code = 'ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE';
}

const IDLE_CONNECTION_MS = 4000;

export interface HttpDeviceStatusSourceOptions {
  /**
   * The registry's HTTP base URL. A function is read at each request (a stack may start the registry
   * after the services); undefined then means "not reachable yet".
   */
  registryUrl: string | (() => string | undefined);
  /** Default 2000 ms, for the whole exchange: the caller's ES2 / ES4 request waits for it. */
  timeoutMs?: number;
}

export class HttpDeviceStatusSource implements SignedDeviceStatusSource {
  private readonly timeoutMs: number;
  // Connections reused across requests, as fetch's pool did; Node unrefs the idle ones (no hang at exit).
  // An idle one is closed after 4 s, before a Node server's default keep-alive timeout of 5 s; Node 20's
  // agent heeds a server's shorter `Keep-Alive: timeout=` hint only when it has a timeout of its own.
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16, timeout: IDLE_CONNECTION_MS });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16, timeout: IDLE_CONNECTION_MS });

  constructor(private readonly options: HttpDeviceStatusSourceOptions) {
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  async fetchSigned(eid: string): Promise<string> {
    // 32 digits only: nothing else can reach the URL path.
    if (!isValidEid(eid)) throw new ContractError.InvalidParameter('eid', 'a valid EID');
    const base = typeof this.options.registryUrl === 'function' ? this.options.registryUrl() : this.options.registryUrl;
    if (!base) throw new DeviceStatusRegistryUnreachable('owner registry address not known yet');
    let url: URL;
    try {
      url = new URL(`${base.replace(/\/+$/, '')}/device-status/${eid}`);
    } catch (cause) {
      throw new DeviceStatusRegistryUnreachable('owner registry address is not a URL', { cause });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DeviceStatusRegistryUnreachable('owner registry address is not http(s)');
    return this.get(url);
  }

  private get(url: URL): Promise<string> {
    return new Promise((resolve, reject) => {
      let request: ClientRequest;
      let settled = false;
      const fail = (message: string, cause?: unknown): void => {
        settled = true;
        clearTimeout(timer);
        request.destroy();
        reject(new DeviceStatusRegistryUnreachable(message, cause === undefined ? undefined : { cause }));
      };
      const https = url.protocol === 'https:';
      const send = (): void => {
        let answered = false;
        request = (https ? httpsRequest : httpRequest)(url, { agent: https ? this.httpsAgent : this.httpAgent, headers: { accept: DEVICE_STATUS_MEDIA_TYPE } }, (response) => {
          answered = true;
          this.read(response, fail, (body) => {
            settled = true;
            clearTimeout(timer);
            resolve(body);
          });
        });
        request.on('error', (error: NodeJS.ErrnoException) => {
          // A kept-alive connection the registry closed as this request went out on it (its idle timeout
          // and our reuse crossing): nothing was answered and a GET repeats safely, so it goes again on
          // another connection (Node's http docs, request.reusedSocket). Each retry spends one pooled
          // connection, and the deadline below still bounds the whole exchange; a new connection that
          // fails, fails closed.
          if (settled) return; // our own destroy() after the deadline: the exchange is over
          if (!answered && request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) send();
          else fail('owner registry unreachable', error);
        });
        request.end();
      };
      const timer = setTimeout(() => fail(`owner registry did not answer within ${this.timeoutMs} ms`), this.timeoutMs);
      send();
    });
  }

  private read(response: IncomingMessage, fail: (message: string, cause?: unknown) => void, done: (body: string) => void): void {
    if (response.statusCode !== 200) {
      fail(`owner registry answered HTTP ${response.statusCode}`); // its connection closed with it: rare, not worth draining
      return;
    }
    if (Number(response.headers['content-length'] ?? '0') > MAX_DEVICE_STATUS_BYTES) {
      fail('owner registry answer too large');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DEVICE_STATUS_BYTES) fail('owner registry answer too large');
      else chunks.push(chunk);
    });
    response.on('end', () => done(Buffer.concat(chunks, size).toString('utf8')));
    response.on('aborted', () => fail('owner registry answer cut short'));
    response.on('error', (error) => fail('owner registry answer cut short', error));
  }
}
