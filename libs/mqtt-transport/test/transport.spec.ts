/**
 * End-to-end: a Nest microservice on RspMqttServer and the clients, on the embedded aedes broker
 * (MQTT 3.1.1) and on real Mosquitto (MQTT 5, shared-subscription group with two instances).
 * Every run uses its own topic prefix so parallel runs on a shared Mosquitto never collide.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectAsync } from 'mqtt';
import { lastValueFrom } from 'rxjs';
import { isRspError } from '@rsp/errors';
import { realService } from '../../../test/support/real-services';
import {
  RspMqttClient,
  RspRequester,
  TransportError,
  decodeReply,
  encodeRequest,
  startEmbeddedBroker,
  type EmbeddedBroker,
} from '../src/index';
import { startApp, waitFor, type RunningApp } from './support';

interface Setup {
  url: string;
  protocolVersion: 4 | 5;
  /** Server instances sharing the load through `$share/{group}` (MQTT 5 only). */
  instances: number;
}

const CONCURRENT = 500;

function transportSuite(label: string, getSetup: () => Promise<Setup & { teardown?: () => Promise<void> }>): void {
  describe(label, () => {
    const prefix = `rsp-test/${randomUUID()}`;
    let setup: Setup & { teardown?: () => Promise<void> };
    let apps: RunningApp[] = [];
    let client: RspMqttClient;

    beforeAll(async () => {
      setup = await getSetup();
      const group = setup.instances > 1 ? `g-${randomUUID()}` : undefined;
      for (let i = 0; i < setup.instances; i += 1) {
        apps.push(await startApp({ url: setup.url, topicPrefix: prefix, protocolVersion: setup.protocolVersion, group }));
      }
      client = new RspMqttClient({ caller: 'test-caller', allowAnonymous: true, url: setup.url, topicPrefix: prefix, protocolVersion: setup.protocolVersion });
      await client.connect();
    });

    afterAll(async () => {
      await client?.close();
      for (const { app } of apps) await app.close();
      apps = [];
      await setup?.teardown?.();
    });

    it(`(a) ${CONCURRENT} concurrent requests: every reply arrives and matches its request`, async () => {
      const tag = randomUUID();
      const before = apps.map((a) => a.server.handlerExecutions);
      const started = performance.now();
      const replies = await Promise.all(
        Array.from({ length: CONCURRENT }, (_, n) => lastValueFrom(client.send('test/echo', { n, tag }))),
      );
      const ms = performance.now() - started;
      replies.forEach((reply, n) => expect(reply).toEqual({ n, tag, by: 'echo-service' })); // DI worked, no cross-talk
      expect(client.requester.pendingCount).toBe(0);
      const shares = apps.map((a, i) => a.server.handlerExecutions - (before[i] ?? 0));
      expect(shares.reduce((x, y) => x + y, 0)).toBe(CONCURRENT);
      if (apps.length > 1) for (const share of shares) expect(share).toBeGreaterThan(0);
      console.log(`${label}: ${CONCURRENT} concurrent requests in ${ms.toFixed(0)} ms (${Math.round((CONCURRENT * 1000) / ms)} req/s), shares ${shares.join('/')}`);
    });

    it('a stream answers with its last value; RspRequester works without Nest', async () => {
      await expect(lastValueFrom(client.send('test/stream', {}))).resolves.toBe(3);
      const requester = new RspRequester({ caller: 'test-caller', allowAnonymous: true, url: setup.url, topicPrefix: prefix, protocolVersion: setup.protocolVersion });
      try {
        await expect(requester.request('test/echo', { n: 7, tag: 'plain' })).resolves.toEqual({ n: 7, tag: 'plain', by: 'echo-service' });
      } finally {
        await requester.close();
      }
    });

    it('(b) a handler RspError arrives typed at the client, without a stack', async () => {
      const error = await lastValueFrom(client.send('test/fail', {})).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError.Remote);
      expect(isRspError(error, 'ERR_TEST_DOMAIN')).toBe(true);
      expect((error as Error).message).toBe('the card refused the profile');
      const crash = await lastValueFrom(client.send('test/crash', {})).catch((e: unknown) => e);
      expect(crash).toBeInstanceOf(TransportError.HandlerFailed);
      expect(JSON.stringify({ m: (crash as Error).message })).not.toMatch(/secret|ENOENT|\s+at\s/);
    });

    it('(c) no server for the pattern: ERR_TRANSPORT_TIMEOUT and the routing entry is removed', async () => {
      const requester = new RspRequester({ caller: 'test-caller', allowAnonymous: true, url: setup.url, topicPrefix: prefix, protocolVersion: setup.protocolVersion, timeoutMs: 300 });
      try {
        const error = await requester.request('test/nobody-listens', {}).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TransportError.Timeout);
        expect(isRspError(error, 'ERR_TRANSPORT_TIMEOUT')).toBe(true);
        expect(requester.pendingCount).toBe(0);
      } finally {
        await requester.close();
      }
    });

    it('(e) an expired deadline is answered ERR_TRANSPORT_EXPIRED without running the handler', async () => {
      const runs = apps.map((a) => a.service.runs);
      const error = await client.requester.request('test/count', {}, { deadline: Date.now() - 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError.Expired);
      expect(apps.map((a) => a.service.runs)).toEqual(runs);
    });

    it('emit: an event reaches its @EventPattern handler', async () => {
      const marker = randomUUID();
      await lastValueFrom(client.emit('test/event', { marker }), { defaultValue: undefined });
      await waitFor(() => apps.some((a) => a.service.events.some((e) => (e as { marker?: string }).marker === marker)));
    });

    it('a dropped connection: the requester reconnects and replies still reach the stable reply topic', async () => {
      const requester = new RspRequester({ caller: 'test-caller', allowAnonymous: true, url: setup.url, topicPrefix: prefix, protocolVersion: setup.protocolVersion });
      try {
        await requester.connect();
        const mqtt = requester.unwrap();
        const reconnected = new Promise<void>((resolve) => mqtt.once('connect', () => resolve()));
        mqtt.stream.destroy(); // the network drops; mqtt.js reconnects with the same client id (clean: false)
        const pending = requester.request('test/echo', { n: 1, tag: 'after-drop' }); // queued while offline
        await reconnected;
        await expect(pending).resolves.toEqual({ n: 1, tag: 'after-drop', by: 'echo-service' });
        await expect(requester.request('test/echo', { n: 2, tag: 'again' })).resolves.toMatchObject({ n: 2 });
      } finally {
        await requester.close();
      }
    });

    it.each([
      ['outside {prefix}/reply/', (p: string) => `${p}/elsewhere/${randomUUID()}`],
      ['in another caller\u2019s reply tree', (p: string) => `${p}/reply/victim/${randomUUID()}`],
    ])('a request whose replyTo lies %s is dropped unanswered', async (_label, replyToOf) => {
      const raw = await connectAsync(setup.url, { protocolVersion: setup.protocolVersion, clientId: `evil-${randomUUID()}` });
      try {
        const replyTo = replyToOf(prefix);
        const received: Buffer[] = [];
        raw.on('message', (_topic, payload) => received.push(payload));
        await raw.subscribeAsync(replyTo, { qos: 1 });
        const runs = apps.map((a) => a.service.runs);
        await raw.publishAsync(`${prefix}/svc/evil/test/count`, encodeRequest({ v: 1, id: randomUUID(), pattern: 'test/count', replyTo, data: {} }), { qos: 1 });
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(received).toHaveLength(0);
        expect(apps.map((a) => a.service.runs)).toEqual(runs);
      } finally {
        await raw.endAsync();
      }
    });

    it('the handler learns the caller from the request topic, not from the payload', async () => {
      const requester = new RspRequester({ caller: 'smdp.demo', allowAnonymous: true, url: setup.url, topicPrefix: prefix, protocolVersion: setup.protocolVersion });
      try {
        await expect(requester.request('test/whoami', { claimed: 'someone-else' })).resolves.toEqual({ caller: 'smdp.demo' });
      } finally {
        await requester.close();
      }
    });

    it('(d) the same envelope id delivered twice: handler ran once, two identical replies', async () => {
      // In a shared group the two copies may land on different instances (the cache is per instance), so
      // the duplicate check runs against one non-shared instance on its own prefix.
      const dupPrefix = `${prefix}/dup`;
      const single = await startApp({ url: setup.url, topicPrefix: dupPrefix, protocolVersion: setup.protocolVersion });
      const raw = await connectAsync(setup.url, { protocolVersion: setup.protocolVersion, clientId: `dup-${randomUUID()}` });
      try {
        const replyTo = `${dupPrefix}/reply/dup/${randomUUID()}`;
        const replies: Buffer[] = [];
        raw.on('message', (topic, payload) => topic === replyTo && replies.push(payload));
        await raw.subscribeAsync(replyTo, { qos: 1 });
        const envelope = encodeRequest({ v: 1, id: randomUUID(), pattern: 'test/count', replyTo, data: {} });
        await raw.publishAsync(`${dupPrefix}/svc/dup/test/count`, envelope, { qos: 1 });
        await raw.publishAsync(`${dupPrefix}/svc/dup/test/count`, envelope, { qos: 1, dup: true });
        await waitFor(() => replies.length === 2);
        expect(replies[0]?.equals(replies[1] as Buffer)).toBe(true);
        expect(decodeReply(replies[0] as Buffer)).toMatchObject({ ok: true, data: { runs: 1 } });
        expect(single.service.runs).toBe(1);
        expect(single.server.handlerExecutions).toBe(1);
      } finally {
        await raw.endAsync();
        await single.app.close();
      }
    });
  });
}

transportSuite('RSP MQTT transport on embedded aedes (MQTT 3.1.1)', async () => {
  const broker: EmbeddedBroker = await startEmbeddedBroker({ port: 0, insecure: true });
  return { url: broker.url, protocolVersion: 4, instances: 1, teardown: () => broker.close() };
});

const mosquitto = await realService('mqtt');
if (mosquitto.url) {
  const url = mosquitto.url;
  transportSuite('RSP MQTT transport on Mosquitto (MQTT 5, $share group of two instances)', async () => ({
    url,
    protocolVersion: 5,
    instances: 2,
  }));
} else {
  describe.skip(`RSP MQTT transport on Mosquitto: ${mosquitto.skipReason}`, () => {
    it('skipped', () => undefined);
  });
}
