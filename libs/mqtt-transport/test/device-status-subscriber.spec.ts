/**
 * The services' view of the owner registry's retained device statuses: `connect` returns only after the
 * retained burst arrived, so the first ES2 call after start-up already sees who owns the device.
 */
import { describe, expect, it } from '@jest/globals';
import { connectAsync } from 'mqtt';
import { deviceStatusTopic, type DeviceStatus } from '@rsp/identity';
import { generateEid } from '@rsp/pki';
import { DeviceStatusSubscriber, startEmbeddedBroker } from '../src';

const EIDS = [generateEid('89049032123451234512', 7001), generateEid('89049032123451234512', 7002)];
const status = (eid: string, epoch: number): DeviceStatus => ({
  eid,
  owned: true,
  status: 'Active',
  consentEpoch: epoch,
  revokedConsents: [],
  updatedAt: new Date().toISOString(),
});

describe('DeviceStatusSubscriber', () => {
  it('holds every retained status when connect resolves, then follows changes and drops bad messages', async () => {
    const broker = await startEmbeddedBroker({ port: 0 });
    const registry = await connectAsync(broker.url);
    const warnings: string[] = [];
    try {
      for (const eid of EIDS) await registry.publishAsync(deviceStatusTopic(eid), JSON.stringify(status(eid, 1)), { qos: 1, retain: true });
      const subscriber = await DeviceStatusSubscriber.connect({ url: broker.url, protocolVersion: 4, clientIdPrefix: 'test', logger: { warn: (m) => void warnings.push(m) } });
      try {
        expect(EIDS.map((eid) => subscriber.cache.get(eid)?.consentEpoch)).toEqual([1, 1]);
        await registry.publishAsync(deviceStatusTopic(EIDS[0] as string), JSON.stringify({ ...status(EIDS[0] as string, 2), status: 'Suspended' }), { qos: 1, retain: true });
        await registry.publishAsync(deviceStatusTopic(EIDS[1] as string), '{"eid":"nope"}', { qos: 1 });
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(subscriber.cache.get(EIDS[0] as string)).toMatchObject({ status: 'Suspended', consentEpoch: 2 });
        expect(subscriber.cache.get(EIDS[1] as string)?.consentEpoch).toBe(1);
        expect(warnings).toHaveLength(1);
      } finally {
        await subscriber.close();
      }
    } finally {
      await registry.endAsync();
      await broker.close();
    }
  });
});
