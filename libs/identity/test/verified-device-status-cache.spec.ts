/**
 * The attacker's tests of the services' status cache (docs/owner-registry.md "Device status"): forged,
 * foreign-key, other-EID, replayed and empty documents change nothing; a device with no verified status
 * is asked of the registry and refused while the registry cannot answer (fail closed).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateEid } from '@rsp/pki';
import { HttpDeviceStatusSource, MAX_DEVICE_STATUS_BYTES, VerifiedDeviceStatusCache, authorizeOwnerOperation, type SignedDeviceStatusSource } from '../src';
import { REGISTRY_ISSUER, registryKey, signStatus, statusOf } from './support/registry-keys';

const eid = generateEid('89049032', 401);
const otherEid = generateEid('89049032', 402);
const key = await registryKey('consent-1');
const attacker = await registryKey('consent-1');

function newCache(options: { source?: SignedDeviceStatusSource; retryAfterMs?: number } = {}) {
  const warnings: string[] = [];
  const cache = new VerifiedDeviceStatusCache({ issuer: REGISTRY_ISSUER, jwks: key.jwks, logger: { warn: (line) => void warnings.push(line) }, ...options });
  return { cache, warnings };
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'no error';
}

/** A registry stand-in answering fetchSigned from a map, counting calls; `down` makes it fail. */
/** `answerAfter`: the registry's answer waits for it (a test decides what happens meanwhile); default 10 ms. */
function fakeRegistry(documents: Map<string, string>, answerAfter?: Promise<unknown>) {
  const state = { calls: 0, down: false };
  const source: SignedDeviceStatusSource = {
    fetchSigned: async (wanted) => {
      state.calls += 1;
      await (answerAfter ?? new Promise((resolve) => setTimeout(resolve, 10)));
      if (state.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE' });
      const document = documents.get(wanted);
      if (!document) throw new Error('no document');
      return document;
    },
  };
  return { source, state };
}

describe('VerifiedDeviceStatusCache.applySigned (MQTT payloads)', () => {
  it('keeps a genuine status, then a higher version; the same message again is a silent duplicate', async () => {
    const { cache, warnings } = newCache();
    const v1 = await signStatus(statusOf(eid, 1), key);
    expect(await cache.applySigned(Buffer.from(v1), eid)).toMatchObject({ outcome: 'accepted', status: { version: 1, owned: true } });
    expect(await cache.applySigned(Buffer.from(v1), eid)).toEqual({ outcome: 'duplicate' });
    expect(await cache.applySigned(await signStatus(statusOf(eid, 1), key), eid)).toEqual({ outcome: 'duplicate' }); // re-signed, same version
    expect(await cache.applySigned(await signStatus(statusOf(eid, 2, { status: 'Suspended' }), key), eid)).toMatchObject({ outcome: 'accepted' });
    expect(cache.get(eid)).toMatchObject({ version: 2, status: 'Suspended' });
    expect(warnings).toEqual([]);
  });

  it('ignores the forger: unsigned JSON (owned false, 2099), another key, another EID’s status, an older version, an empty retained message', async () => {
    const { cache, warnings } = newCache();
    const owned = await signStatus(statusOf(eid, 5), key);
    await cache.applySigned(owned, eid);
    const unsignedJson = JSON.stringify({ eid, owned: false, status: 'Active', consentEpoch: 0, revokedConsents: [], updatedAt: '2099-01-01T00:00:00Z' });
    const attempts: Array<[string, string | Buffer, string]> = [
      ['ERR_DEVICE_STATUS_UNSIGNED', unsignedJson, eid],
      ['ERR_DEVICE_STATUS_SIGNATURE_INVALID', await signStatus(statusOf(eid, 99, { owned: false }), attacker), eid],
      ['ERR_DEVICE_STATUS_EID_MISMATCH', await signStatus(statusOf(otherEid, 99, { owned: false }), key), eid],
      ['ERR_DEVICE_STATUS_STALE', await signStatus(statusOf(eid, 4, { owned: false }), key), eid],
      ['ERR_DEVICE_STATUS_EMPTY', Buffer.alloc(0), eid],
    ];
    for (const [code, payload, topicEid] of attempts) {
      expect(await cache.applySigned(payload, topicEid)).toEqual({ outcome: 'ignored', code });
      expect(cache.get(eid)).toMatchObject({ version: 5, owned: true });
    }
    expect(cache.size).toBe(1);
    // Logged by code only: never the payload (nor its signature).
    expect(warnings).toEqual(attempts.map(([code]) => `device status for ${eid} ignored: ${code}`));
    expect(warnings.join('\n')).not.toContain(owned.split('.')[2]);
  });

  it('keeps the highest version whatever the order verifications finish in', async () => {
    const { cache } = newCache();
    const documents = await Promise.all([3, 1, 4, 2].map((version) => signStatus(statusOf(eid, version, { consentEpoch: version }), key)));
    await Promise.all(documents.map((document) => cache.applySigned(document, eid)));
    expect(cache.get(eid)).toMatchObject({ version: 4, consentEpoch: 4 });
  });
});

describe('VerifiedDeviceStatusCache.resolve (cache misses, fail closed)', () => {
  it('no source: a device never seen is refused with ERR_DEVICE_STATUS_UNAVAILABLE', async () => {
    expect(await failure(newCache().cache.resolve(eid))).toBe('ERR_DEVICE_STATUS_UNAVAILABLE');
  });

  it('registry unreachable → refused; once it answers: owned needs consent, unowned (version 0) does not', async () => {
    const documents = new Map([
      [eid, await signStatus(statusOf(eid, 3), key)],
      [otherEid, await signStatus(statusOf(otherEid, 0, { owned: false }), key)],
    ]);
    const registry = fakeRegistry(documents);
    registry.state.down = true;
    const { cache, warnings } = newCache({ source: registry.source, retryAfterMs: 0 });
    const verify = async () => ({}) as never;
    const gate = (target: string, operation: 'EnableProfile' | 'Read' = 'EnableProfile') =>
      failure(authorizeOwnerOperation({ statuses: cache, operation, eid: target, mnoId: 'mno.a', consent: undefined, checkConsent: true, verifier: { verify } }));

    expect(await gate(eid)).toBe('ERR_DEVICE_STATUS_UNAVAILABLE');
    expect(await gate(otherEid)).toBe('ERR_DEVICE_STATUS_UNAVAILABLE');
    expect(await gate(eid, 'Read')).toBe('no error'); // reads stay allowed, without asking
    expect(registry.state.calls).toBe(2);
    expect(warnings).toEqual([`device status of ${eid} could not be fetched: ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE`, `device status of ${otherEid} could not be fetched: ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE`]);

    registry.state.down = false;
    expect(await gate(eid)).toBe('ERR_CONSENT_MISSING');
    expect(await gate(otherEid)).toBe('no error');
    expect(cache.get(otherEid)).toMatchObject({ owned: false, version: 0 });
    expect(await gate(eid)).toBe('ERR_CONSENT_MISSING'); // held now: no new request
    expect(registry.state.calls).toBe(4);
  });

  it('50 calls at once on a device never seen: one request, all refused without consent (the restart window)', async () => {
    const registry = fakeRegistry(new Map([[eid, await signStatus(statusOf(eid, 8), key)]]));
    const { cache } = newCache({ source: registry.source });
    const verify = async () => ({}) as never;
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () => failure(authorizeOwnerOperation({ statuses: cache, operation: 'DownloadProfile', eid, mnoId: 'mno.a', consent: undefined, checkConsent: true, verifier: { verify } }))),
    );
    expect(new Set(outcomes)).toEqual(new Set(['ERR_CONSENT_MISSING']));
    expect(registry.state.calls).toBe(1);
  });

  it('after a failure, the same EID is refused without a new request for retryAfterMs', async () => {
    const registry = fakeRegistry(new Map());
    registry.state.down = true;
    const { cache } = newCache({ source: registry.source, retryAfterMs: 60_000 });
    expect(await failure(cache.resolve(eid))).toBe('ERR_DEVICE_STATUS_UNAVAILABLE');
    registry.state.down = false;
    expect(await failure(cache.resolve(eid))).toBe('ERR_DEVICE_STATUS_UNAVAILABLE');
    expect(registry.state.calls).toBe(1);
  });

  it('a registry answer that does not verify (another key, another EID, unsigned) is refused, not kept', async () => {
    for (const document of [
      await signStatus(statusOf(eid, 1, { owned: false }), attacker),
      await signStatus(statusOf(otherEid, 1, { owned: false }), key),
      JSON.stringify(statusOf(eid, 1, { owned: false })),
    ]) {
      const { cache } = newCache({ source: fakeRegistry(new Map([[eid, document]])).source });
      expect(await failure(cache.resolve(eid))).toBe('ERR_DEVICE_STATUS_UNAVAILABLE');
      expect(cache.get(eid)).toBeUndefined();
    }
  });

  it('an HTTP answer older than what MQTT brought meanwhile loses: the highest version is returned', async () => {
    // The HTTP answer is released only once MQTT's newer status was applied: a fixed delay raced the signing under load.
    let release: () => void = () => undefined;
    const meanwhile = new Promise<void>((resolve) => (release = resolve));
    const registry = fakeRegistry(new Map([[eid, await signStatus(statusOf(eid, 1, { owned: false }), key)]]), meanwhile);
    const { cache } = newCache({ source: registry.source });
    const resolving = cache.resolve(eid);
    await cache.applySigned(await signStatus(statusOf(eid, 2), key), eid);
    release();
    expect(await resolving).toMatchObject({ version: 2, owned: true });
  });

  it('refuses an invalid EID before any request', async () => {
    const registry = fakeRegistry(new Map());
    expect(await failure(newCache({ source: registry.source }).cache.resolve('#'))).toBe('ERR_CONTRACT_INVALID_PARAMETER');
    expect(registry.state.calls).toBe(0);
  });
});

describe('HttpDeviceStatusSource', () => {
  let server: Server;
  let url: string;
  const requests: Array<{ url: string; accept: string | undefined; authorization: string | undefined }> = [];
  let connections = 0;
  /** `chunks`: the body written in that many pieces, without a Content-Length (chunked encoding). */
  let answer: (eid: string) => { status: number; body: string; delayMs?: number; headers?: Record<string, string>; chunks?: number };

  beforeAll(async () => {
    server = createServer((request, response) => {
      requests.push({ url: request.url ?? '', accept: request.headers.accept, authorization: request.headers.authorization });
      const { status, body, delayMs, headers, chunks } = answer((request.url ?? '').split('/').pop() ?? '');
      setTimeout(() => {
        response.writeHead(status, { 'content-type': 'application/jwt', ...headers });
        if (!chunks) return response.end(body);
        const size = Math.ceil(body.length / chunks);
        for (let at = 0; at < body.length; at += size) response.write(body.slice(at, at + size));
        return response.end();
      }, delayMs ?? 0);
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('GETs {registry}/device-status/{eid} without credentials and feeds the cache', async () => {
    const document = await signStatus(statusOf(eid, 0, { owned: false }), key);
    answer = () => ({ status: 200, body: document });
    const { cache } = newCache({ source: new HttpDeviceStatusSource({ registryUrl: `${url}/` }) });
    expect(await cache.resolve(eid)).toMatchObject({ owned: false, version: 0 });
    expect(requests.at(-1)).toEqual({ url: `/device-status/${eid}`, accept: 'application/jwt', authorization: undefined });
  });

  it('HTTP 500, a timeout, an address not known yet, a closed port → ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE', async () => {
    answer = () => ({ status: 500, body: '{}' });
    expect(await failure(new HttpDeviceStatusSource({ registryUrl: url }).fetchSigned(eid))).toBe('ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE');
    answer = () => ({ status: 200, body: 'late', delayMs: 1000 });
    const started = Date.now();
    expect(await failure(new HttpDeviceStatusSource({ registryUrl: url, timeoutMs: 100 }).fetchSigned(eid))).toBe('ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE');
    expect(Date.now() - started).toBeLessThan(900);
    expect(await failure(new HttpDeviceStatusSource({ registryUrl: () => undefined }).fetchSigned(eid))).toBe('ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE');
    expect(await failure(new HttpDeviceStatusSource({ registryUrl: 'http://127.0.0.1:9' }).fetchSigned(eid))).toBe('ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE');
    expect(await failure(new HttpDeviceStatusSource({ registryUrl: url }).fetchSigned('../jwks'))).toBe('ERR_CONTRACT_INVALID_PARAMETER');
  });

  it('follows no redirect, and refuses an answer over 4 MiB whether its length is declared or only streamed', async () => {
    const source = new HttpDeviceStatusSource({ registryUrl: url });
    answer = () => ({ status: 302, body: '', headers: { location: `${url}/device-status/${eid}?elsewhere` } });
    const before = requests.length;
    expect(await failure(source.fetchSigned(eid))).toBe('ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE');
    expect(requests.length).toBe(before + 1);
    const huge = 'a'.repeat(MAX_DEVICE_STATUS_BYTES + 1);
    answer = () => ({ status: 200, body: huge });
    expect(await failure(source.fetchSigned(eid))).toBe('ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE');
    answer = () => ({ status: 200, body: huge, chunks: 64 });
    expect(await failure(source.fetchSigned(eid))).toBe('ERR_DEVICE_STATUS_REGISTRY_UNREACHABLE');
    answer = () => ({ status: 200, body: 'a.b.c', chunks: 3 });
    expect(await source.fetchSigned(eid)).toBe('a.b.c');
  });

  it('keeps its connection to the registry between requests (one TCP connection for sequential misses)', async () => {
    const document = await signStatus(statusOf(eid, 0, { owned: false }), key);
    answer = () => ({ status: 200, body: document });
    const source = new HttpDeviceStatusSource({ registryUrl: url });
    const before = connections;
    for (let i = 0; i < 3; i += 1) expect(await source.fetchSigned(eid)).toBe(document);
    expect(connections - before).toBe(1);
  });
});
