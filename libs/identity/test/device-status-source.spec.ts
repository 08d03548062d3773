/**
 * HttpDeviceStatusSource against a registry that drops connections: a kept-alive connection the registry
 * closes just as a request goes out on it (its idle timeout crossing our reuse) must not refuse a device,
 * and a registry that hangs up on a new connection must still fail closed. A raw TCP server plays the
 * registry so that exactly which request on which connection is dropped is the test's choice.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { generateEid } from '@rsp/pki';
import { HttpDeviceStatusSource, VerifiedDeviceStatusCache } from '../src';

const eid = generateEid('89049032', 411);
const document = 'header.payload.signature';

/**
 * Answers requests on each connection until the `dropAt`-th of that connection (1-based), which it drops
 * unanswered, or, with `hold`, leaves unanswered on an open connection.
 */
async function registryDroppingRequest(dropAt: number, hold = false): Promise<{ close: () => Promise<unknown>; url: string; connections: () => number; requests: () => number }> {
  let connections = 0;
  let requests = 0;
  const open = new Set<Socket>();
  const server = createServer((socket: Socket) => {
    connections += 1;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    let onThisConnection = 0;
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4); // a GET has no body
        requests += 1;
        onThisConnection += 1;
        if (onThisConnection === dropAt && hold) return;
        if (onThisConnection === dropAt) {
          socket.destroy(); // the registry's idle timeout fired: the connection closes, nothing answered
          return;
        }
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/jwt\r\ncontent-length: ${document.length}\r\nconnection: keep-alive\r\n\r\n${document}`);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = (): Promise<unknown> => {
    open.forEach((socket) => socket.destroy()); // close() alone would wait for the kept-alive connections
    return new Promise((resolve) => server.close(resolve));
  };
  return { close, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, requests: () => requests };
}

const failure = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'no error',
    (error: { code?: string }) => error.code ?? 'unknown',
  );

describe('HttpDeviceStatusSource: connections the registry drops', () => {
  const servers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((close) => close()));
  });

  it('a kept-alive connection closed as the next request goes out on it: the request goes again on a new one', async () => {
    const registry = await registryDroppingRequest(2);
    servers.push(registry.close);
    const source = new HttpDeviceStatusSource({ registryUrl: registry.url });
    // Each connection answers its first request and drops its second: every fetch after the first goes
    // out on the kept connection, is dropped, and goes again on a new one.
    expect(await source.fetchSigned(eid)).toBe(document);
    expect(await source.fetchSigned(eid)).toBe(document);
    expect(await source.fetchSigned(eid)).toBe(document);
    expect({ connections: registry.connections(), requests: registry.requests() }).toEqual({ connections: 3, requests: 5 });
  });

  it('a registry that hangs up on a new connection: refused after one request, never retried (fail closed)', async () => {
    const registry = await registryDroppingRequest(1);
    servers.push(registry.close);
    const source = new HttpDeviceStatusSource({ registryUrl: registry.url });
    expect(await failure(source.fetchSigned(eid))).toBe('ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE');
    expect({ connections: registry.connections(), requests: registry.requests() }).toEqual({ connections: 1, requests: 1 });
  });

  it('a request on a kept-alive connection that is not answered in time: refused at the deadline, not sent again', async () => {
    const registry = await registryDroppingRequest(2, true);
    servers.push(registry.close);
    const source = new HttpDeviceStatusSource({ registryUrl: registry.url, timeoutMs: 100 });
    expect(await source.fetchSigned(eid)).toBe(document);
    expect(await failure(source.fetchSigned(eid))).toBe('ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE');
    await new Promise((resolve) => setTimeout(resolve, 100)); // a retry after the deadline would show here
    expect({ connections: registry.connections(), requests: registry.requests() }).toEqual({ connections: 1, requests: 2 });
  });

  it('the operator reads why in the warning (the socket error code), never an answer', async () => {
    const warnings: string[] = [];
    const cache = new VerifiedDeviceStatusCache({
      issuer: 'https://owners.test',
      jwks: { keys: [] },
      source: new HttpDeviceStatusSource({ registryUrl: 'http://127.0.0.1:9' }),
      logger: { warn: (message: string) => warnings.push(message) },
    });
    expect(await failure(cache.resolve(eid))).toBe('ERR_DEVICE_STATUS_UNAVAILABLE');
    expect(warnings).toEqual([`device status of ${eid} could not be fetched: ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE (owner registry unreachable, ECONNREFUSED)`]);
  });
});
