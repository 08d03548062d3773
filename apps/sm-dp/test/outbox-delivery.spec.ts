/**
 * The SM-DP's outbox destinations (src/adapters/outbox-delivery.ts): a compensation message runs the
 * download's compensation again and fails while it cannot (so the outbox backs off), and is never taken
 * for a webhook or an MQTT topic.
 */
import { describe, expect, it, jest } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import type { OutboxMessage } from '@rsp/persistence';
import { COMPENSATION_DESTINATION, smDpOutboxDelivery } from '../src/adapters/outbox-delivery';

const message = (destination: string, payload: unknown) => ({ id: 'm1', destination, payload }) as unknown as OutboxMessage;
const mqtt = { publishAsync: jest.fn(async () => undefined) } as unknown as MqttClient;

describe('smDpOutboxDelivery: compensation messages', () => {
  it('hands the transaction to the compensation, and fails when the compensation does', async () => {
    const compensate = jest.fn(async (_transactionId: string) => undefined);
    await smDpOutboxDelivery({ mqtt, compensate })(message(COMPENSATION_DESTINATION, { transactionId: 't-1' }));
    expect(compensate).toHaveBeenCalledWith('t-1');

    const pending = Object.assign(new Error('DeleteISDP failed again'), { code: 'ERR_SMDP_COMPENSATION_PENDING' });
    await expect(smDpOutboxDelivery({ mqtt, compensate: async () => Promise.reject(pending) })(message(COMPENSATION_DESTINATION, { transactionId: 't-1' }))).rejects.toBe(pending);
    expect(mqtt.publishAsync).not.toHaveBeenCalled();
  });

  it('a message without a transaction id, or with no compensation to run, fails rather than reach a webhook', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    try {
      await expect(smDpOutboxDelivery({ mqtt, compensate: async () => undefined })(message(COMPENSATION_DESTINATION, {}))).rejects.toThrow('compensation message without a transaction');
      await expect(smDpOutboxDelivery({ mqtt })(message(COMPENSATION_DESTINATION, { transactionId: 't-1' }))).rejects.toThrow('compensation message without');
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });
});
