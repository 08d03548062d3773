/**
 * The services' MQTT side of the owner registry's signed device statuses: every payload goes to the
 * VerifiedDeviceStatusCache with the EID of its topic. `connect` returns after the retained burst (a
 * speed-up, timed on fake clocks below: on a real broker a loaded host may stretch the burst past its
 * quiet window, so those tests wait for what they check); a forged, empty or replayed message changes
 * nothing, and neither does a broker restart.
 */
import { describe, expect, it, jest } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { exportJWK } from 'jose';
import { connectAsync, type MqttClient } from 'mqtt';
import { DEVICE_STATUS_FILTER, VerifiedDeviceStatusCache, deviceStatusTopic, signDeviceStatus, type VersionedDeviceStatus } from '@rsp/identity';
import { generateEid } from '@rsp/pki';
import { DeviceStatusSubscriber, SETTLE_LIMIT_MS, SETTLE_MS, startEmbeddedBroker } from '../src';

const ISSUER = 'https://registry.test';
const KID = 'consent-1';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const EIDS = [generateEid('89049032123451234512', 7001), generateEid('89049032123451234512', 7002)] as [string, string];
const status = (eid: string, version: number, over: Partial<VersionedDeviceStatus> = {}): VersionedDeviceStatus => ({
  eid,
  owned: true,
  status: 'Active',
  consentEpoch: version,
  revokedConsents: [],
  updatedAt: new Date().toISOString(),
  version,
  ...over,
});
const signed = (document: VersionedDeviceStatus) => signDeviceStatus(document, { issuer: ISSUER, key: { privateKey, kid: KID } });
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));
/** Retries `check` every 25 ms for up to 5 s: what the broker delivers arrives when the host lets it. */
async function eventually(check: () => void): Promise<void> {
  for (let waited = 0; ; waited += 25) {
    try {
      return check();
    } catch (error) {
      if (waited >= 5000) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('DeviceStatusSubscriber', () => {
  it('hands every payload to the verified cache: the retained ones, then changes; forgeries change nothing', async () => {
    const broker = await startEmbeddedBroker({ port: 0, insecure: true });
    const registry = await connectAsync(broker.url);
    const warnings: string[] = [];
    const cache = new VerifiedDeviceStatusCache({ issuer: ISSUER, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: KID, alg: 'ES256' }] }, logger: { warn: (m) => void warnings.push(m) } });
    try {
      for (const eid of EIDS) await registry.publishAsync(deviceStatusTopic(eid), await signed(status(eid, 1)), { qos: 1, retain: true });
      const subscriber = await DeviceStatusSubscriber.connect({ url: broker.url, allowAnonymous: true, protocolVersion: 4, statuses: cache });
      try {
        await eventually(() => expect(EIDS.map((eid) => cache.get(eid)?.version)).toEqual([1, 1]));
        await registry.publishAsync(deviceStatusTopic(EIDS[0]), await signed(status(EIDS[0], 2, { status: 'Suspended' })), { qos: 1, retain: true });
        // The forger: plain JSON, an empty retained message (which clears the broker's copy), an older version.
        await registry.publishAsync(deviceStatusTopic(EIDS[1]), JSON.stringify({ ...status(EIDS[1], 9, { owned: false }), updatedAt: '2099-01-01T00:00:00Z' }), { qos: 1, retain: true });
        await registry.publishAsync(deviceStatusTopic(EIDS[1]), '', { qos: 1, retain: true });
        await registry.publishAsync(deviceStatusTopic(EIDS[0]), await signed(status(EIDS[0], 1, { owned: false })), { qos: 1 });
        await eventually(() => expect(warnings).toHaveLength(3));
        expect(cache.get(EIDS[0])).toMatchObject({ status: 'Suspended', version: 2, owned: true });
        expect(cache.get(EIDS[1])).toMatchObject({ version: 1, owned: true });
        expect(warnings.map((line) => line.split(': ')[1])).toEqual(['ERR_DEVICE_STATUS_UNSIGNED', 'ERR_DEVICE_STATUS_EMPTY', 'ERR_DEVICE_STATUS_STALE']);
      } finally {
        await subscriber.close();
      }
    } finally {
      await registry.endAsync();
      await broker.close();
    }
  });

  it('a broker restart that forgets the retained statuses leaves the verified ones in place', async () => {
    const first = await startEmbeddedBroker({ port: 0, insecure: true });
    const port = Number(new URL(first.url).port);
    const cache = new VerifiedDeviceStatusCache({ issuer: ISSUER, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: KID, alg: 'ES256' }] } });
    const registry = await connectAsync(first.url);
    await registry.publishAsync(deviceStatusTopic(EIDS[0]), await signed(status(EIDS[0], 4)), { qos: 1, retain: true });
    await registry.endAsync();
    const subscriber = await DeviceStatusSubscriber.connect({ url: first.url, allowAnonymous: true, protocolVersion: 4, statuses: cache });
    try {
      await eventually(() => expect(cache.get(EIDS[0])?.version).toBe(4));
      await first.close();
      const second = await startEmbeddedBroker({ port, insecure: true });
      try {
        await new Promise((resolve) => setTimeout(resolve, 1500)); // mqtt.js reconnects and re-subscribes: nothing retained now
        expect(cache.get(EIDS[0])).toMatchObject({ version: 4, owned: true });
        // Reconnected: the registry's next change arrives, an empty retained message still does nothing.
        const again = await connectAsync(second.url);
        await again.publishAsync(deviceStatusTopic(EIDS[0]), await signed(status(EIDS[0], 5, { status: 'Revoked' })), { qos: 1, retain: true });
        await again.publishAsync(deviceStatusTopic(EIDS[0]), '', { qos: 1, retain: true });
        await again.endAsync();
        await eventually(() => expect(cache.get(EIDS[0])).toMatchObject({ version: 5, status: 'Revoked' }));
      } finally {
        await subscriber.close();
        await second.close();
      }
    } finally {
      await subscriber.close().catch(() => undefined);
    }
  });

  it('attach: on a shared connection, only status topics reach the cache, and close leaves the connection open', async () => {
    const broker = await startEmbeddedBroker({ port: 0, insecure: true });
    const shared = await connectAsync(broker.url);
    const fed: string[] = [];
    try {
      await shared.subscribeAsync('other/topic', { qos: 1 });
      const subscriber = await DeviceStatusSubscriber.attach({ client: shared, statuses: { applySigned: async (_payload, eid) => void fed.push(eid) } });
      await shared.publishAsync('other/topic', 'x', { qos: 1 });
      await shared.publishAsync(deviceStatusTopic(EIDS[0]), await signed(status(EIDS[0], 1)), { qos: 1 });
      await eventually(() => expect(fed).toEqual([EIDS[0]]));
      await subscriber.close();
      expect(shared.connected).toBe(true);
      await shared.publishAsync(deviceStatusTopic(EIDS[1]), await signed(status(EIDS[1], 1)), { qos: 1 });
      await settle();
      expect(fed).toEqual([EIDS[0]]);
    } finally {
      await shared.endAsync();
      await broker.close();
    }
  });

  it('connect waits for the retained burst: while messages come less than SETTLE_MS apart, while one is being verified, and no longer than SETTLE_LIMIT_MS', async () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const client = Object.assign(new EventEmitter(), { subscribeAsync: async () => [{ topic: DEVICE_STATUS_FILTER, qos: 1 }] }) as unknown as MqttClient;
      const deliver = (eid: string, text: string) => client.emit('message', deviceStatusTopic(eid), Buffer.from(text), { cmd: 'publish', retain: true } as never);
      const verifying: Array<() => void> = [];
      const statuses = { applySigned: () => new Promise<void>((resolve) => verifying.push(resolve)) };
      let attached = false;
      void DeviceStatusSubscriber.attach({ client, statuses }).then(() => (attached = true));
      await jest.advanceTimersByTimeAsync(0);
      deliver(EIDS[0], 'first');
      verifying.shift()?.();
      await jest.advanceTimersByTimeAsync(SETTLE_MS - 50);
      expect(attached).toBe(false); // quiet for less than SETTLE_MS
      deliver(EIDS[1], 'second'); // its verification hangs
      await jest.advanceTimersByTimeAsync(3 * SETTLE_MS);
      expect(attached).toBe(false); // quiet long enough, but one still being verified
      verifying.shift()?.();
      await jest.advanceTimersByTimeAsync(50);
      expect(attached).toBe(true);

      let stuck = false;
      void DeviceStatusSubscriber.attach({ client, statuses }).then(() => (stuck = true));
      await jest.advanceTimersByTimeAsync(0);
      deliver(EIDS[0], 'never verified');
      await jest.advanceTimersByTimeAsync(SETTLE_LIMIT_MS - 100);
      expect(stuck).toBe(false);
      await jest.advanceTimersByTimeAsync(200);
      expect(stuck).toBe(true); // a speed-up only: the service starts anyway
    } finally {
      jest.useRealTimers();
    }
  });
});
