/**
 * The SM-SR's card notification listener under a fleet's first declarations: at most `concurrency`
 * handled at once and the rest in arrival order, a resend of a waiting one skipped, and a failure never
 * stalling the queue.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import type { es5 } from '@rsp/contracts';
import { generateEid } from '@rsp/pki';
import type { CardNotificationHandler } from '../src/domain/card-notifications';
import type { SmSrLogger } from '../src/domain/model';
import { CardNotificationListener } from '../src/adapters/mqtt/card-notification-listener';

const EID = (n: number) => generateEid('89049032123451234512', n);

/** A broker connection that delivers what the test publishes (subscriptions always granted). */
class FakeClient extends EventEmitter {
  async subscribeAsync(): Promise<void> {}
  deliver(eid: string, seq = 1): void {
    const envelope: es5.Es5NotificationEnvelope = { eid, seq, tlv: 'E1034D0100' };
    this.emit('message', `rsp/v1/euicc/${eid}/es5/notify`, Buffer.from(JSON.stringify(envelope)));
  }
}

/** A handler whose calls wait until the test ends them. */
function gatedHandler() {
  const started: string[] = [];
  const gates = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  let active = 0;
  let most = 0;
  const handler = {
    handle: (envelope: es5.Es5NotificationEnvelope) =>
      new Promise<'confirmed'>((resolve, reject) => {
        started.push(envelope.eid);
        most = Math.max(most, (active += 1));
        gates.set(envelope.eid, {
          resolve: () => ((active -= 1), resolve('confirmed')),
          reject: (error) => ((active -= 1), reject(error)),
        });
      }),
  } as unknown as CardNotificationHandler;
  return { handler, started, gates, most: () => most };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const warnings: string[] = [];
const logger = { log: () => undefined, warn: (message: string) => void warnings.push(message), error: () => undefined } as unknown as SmSrLogger;

/** A started listener handling `concurrency` at once, over a fake connection, with a gated handler. */
async function listening(concurrency: number) {
  const client = new FakeClient();
  const gated = gatedHandler();
  const listener = new CardNotificationListener(client as unknown as MqttClient, gated.handler, logger, { concurrency });
  await listener.start();
  return { client, listener, ...gated };
}

/** A listener handling one at a time, the first of two notifications handled and the second waiting. */
async function oneHandledOneWaiting() {
  const setup = await listening(1);
  setup.client.deliver(EID(1));
  setup.client.deliver(EID(2));
  await settle();
  return setup;
}

describe('card notification listener', () => {
  it('handles at most `concurrency` at once, the rest in arrival order; a resend of a waiting one is skipped', async () => {
    const { client, listener, started, gates, most } = await listening(2);
    for (let n = 1; n <= 5; n += 1) client.deliver(EID(n));
    client.deliver(EID(4)); // the card resends while its first copy waits
    await settle();
    expect(started).toEqual([EID(1), EID(2)]);
    expect(listener.waitingCount).toBe(3);
    for (let n = 1; n <= 5; n += 1) {
      gates.get(EID(n))?.resolve();
      await settle();
    }
    expect(started).toEqual([EID(1), EID(2), EID(3), EID(4), EID(5)]);
    expect(most()).toBe(2);
    expect(listener.waitingCount).toBe(0);
  });

  it('a failed notification is logged and the queue goes on', async () => {
    const { started, gates } = await oneHandledOneWaiting();
    gates.get(EID(1))?.reject(new Error('card answered 6985'));
    await settle();
    expect(warnings.some((line) => line.startsWith(`card notification ${EID(1)}/1 not confirmed`))).toBe(true);
    expect(started).toEqual([EID(1), EID(2)]);
    gates.get(EID(2))?.resolve();
  });

  it('stop drops what waits, unconfirmed: the cards resend it, and a resend after a new start is handled', async () => {
    const { client, listener, started, gates } = await oneHandledOneWaiting();
    listener.stop();
    expect(listener.waitingCount).toBe(0);
    gates.get(EID(1))?.resolve();
    await settle();
    expect(started).toEqual([EID(1)]);
    await listener.start();
    client.deliver(EID(2));
    await settle();
    expect(started).toEqual([EID(1), EID(2)]);
    gates.get(EID(2))?.resolve();
  });
});
