import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PowerLoss, defaultIsdRKeySet } from '@rsp/offcard';
import { Scp03Host } from '@rsp/crypto';
import { decodeResponseApdu, encodeCommandApdu } from '@rsp/tlv';
import { parseGpCertificate, verifyGpCertificate, isValidEid } from '@rsp/pki';
import { es5ReplyFilter, es5ReplyTopic } from '@rsp/contracts';
import { connectMqtt } from '@rsp/mqtt-transport';
import { principal, startTestBroker, type TestBroker } from '../../test/support/brokers';
import { decodeResponseScript, encodeCommandScript } from '@rsp/offcard';
import { Fleet } from '../src/fleet';
import { topics, type Es5ReplyEnvelope } from '../src/mqtt-es5';
import { STUB_COMMANDS, testPki, waitFor } from './support';

const SMSR = 'smsr.fleet';
let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker({ principals: [principal(SMSR, 'sm-sr'), principal('gw-fleet', 'gateway')], pki: testPki() });
});
const smsrClient = () => connectMqtt({ url: broker.url, credentials: broker.credentialsFor(SMSR) });
afterAll(async () => broker.close());

describe('fleets', () => {
  it('manufactures 1000 cards under one EUM and answers over MQTT in gateway mode', async () => {
    const pki = testPki();
    const fleet = await Fleet.create({ size: 1000, model: 'bbq', pki, commands: STUB_COMMANDS, maxHydrated: 50, certificates: 'lazy' });
    try {
      expect(fleet.size).toBe(1000);
      expect(new Set(fleet.eids()).size).toBe(1000);
      expect(fleet.eids().every((eid) => isValidEid(eid) && eid.startsWith('89049032'))).toBe(true);
      // certificates chain to the EUM of the one PKI
      for (const eid of [fleet.eids()[0], fleet.eids()[999]] as string[]) {
        const cert = parseGpCertificate(fleet.ecasdCertificate(eid) as Buffer);
        verifyGpCertificate(cert, { publicKey: pki.eum.publicKey, subjectKeyId: pki.eum.subjectKeyId }, { now: new Date(), expectedRole: 'ecasd' });
        expect(fleet.pool.snapshot(eid).ecasd.certificate).toBe(cert.raw.toString('hex'));
      }
      await fleet.startMqtt({ url: broker.url, mode: 'gateway', announce: false, gatewayId: 'gw-fleet', smsrId: SMSR, credentials: broker.credentialsFor });
      const sr = await smsrClient();
      const replies: Es5ReplyEnvelope[] = [];
      sr.on('message', (_t, payload) => replies.push(JSON.parse(payload.toString())));
      await sr.subscribeAsync(es5ReplyFilter(SMSR, 'fleet-test'), { qos: 1 });
      const targets = fleet.eids().filter((_, i) => i % 10 === 0); // 100 cards, more than the LRU holds
      for (const eid of targets) {
        const script = encodeCommandScript({ commands: [Buffer.from('80CA005A00', 'hex')] }).toString('hex');
        await sr.publishAsync(topics.command(eid), JSON.stringify({ id: eid, replyTo: es5ReplyTopic(eid, SMSR, 'fleet-test'), script }), { qos: 1 });
      }
      await waitFor(() => replies.length === targets.length, 10_000);
      for (const reply of replies) {
        expect(decodeResponseScript(Buffer.from(reply.script as string, 'hex')).responses[0]?.toString('hex')).toBe(`${reply.eid}9000`);
      }
      expect(fleet.pool.hydratedCount).toBeLessThanOrEqual(50);
      await sr.endAsync();
    } finally {
      await fleet.close();
    }
  });

  it('real card over MQTT: the SM-SR opens an SCP03 session and acknowledges the declaration notification', async () => {
    const fleet = await Fleet.create({ size: 1, model: 'bbq', pki: testPki() }); // the real command table
    const eid = fleet.eids()[0] as string;
    await fleet.startMqtt({ url: broker.url, mode: 'single', smsrId: SMSR, credentials: broker.credentialsFor, notificationRetry: { initialMs: 50, maxMs: 100 } });
    const sr = await smsrClient();
    try {
      const replies = new Map<string, Es5ReplyEnvelope>();
      const notified: number[] = [];
      sr.on('message', (topic, payload) => {
        const body = JSON.parse(payload.toString());
        if (topic.endsWith('/notify')) notified.push(body.seq);
        else replies.set(body.id, body);
      });
      await sr.subscribeAsync([es5ReplyFilter(SMSR, 'real'), topics.notify(eid)], { qos: 1 });
      await waitFor(() => notified.length >= 2); // resent until acknowledged
      const run = async (id: string, commands: Buffer[]) => {
        const script = encodeCommandScript({ commands }).toString('hex');
        await sr.publishAsync(topics.command(eid), JSON.stringify({ id, replyTo: es5ReplyTopic(eid, SMSR, 'real'), script }), { qos: 1 });
        await waitFor(() => replies.has(id));
        return decodeResponseScript(Buffer.from(replies.get(id)?.script as string, 'hex')).responses.map((r) => decodeResponseApdu(r));
      };
      const keys = defaultIsdRKeySet(eid);
      const host = new Scp03Host({ keys: { enc: keys.enc, mac: keys.mac, dek: keys.dek }, kvn: keys.kvn });
      const [select, initializeUpdate] = await run('s1', [
        Buffer.from('00A4040010A0000005591010FFFFFFFF890000010000', 'hex'),
        encodeCommandApdu(host.initializeUpdateCommand()),
      ]);
      expect(select?.sw).toBe(0x9000);
      host.processInitializeUpdateResponse(initializeUpdate as ReturnType<typeof decodeResponseApdu>);
      const externalAuthenticateCommand = encodeCommandApdu(host.externalAuthenticateCommand(0x33)); // opens the host session
      // HandleNotificationConfirmation: STORE DATA 80 E2 89 00 { DGI 3A08 { 4E 02 seq } } (SGP.02 §4.1.1.11)
      const ack = host.wrapCommand({ cla: 0x80, ins: 0xe2, p1: 0x89, p2: 0x00, data: Buffer.from('3A08044E020001', 'hex') });
      const [externalAuthenticate, acked] = await run('s2', [externalAuthenticateCommand, encodeCommandApdu(ack)]);
      expect(externalAuthenticate?.sw).toBe(0x9000);
      expect(host.unwrapResponse(acked as ReturnType<typeof decodeResponseApdu>).sw).toBe(0x9000);
      expect(fleet.pool.pendingNotifications(eid)).toEqual([]);
      const count = notified.length;
      await new Promise((r) => setTimeout(r, 250));
      expect(notified.length).toBe(count); // no more resends
    } finally {
      await sr.endAsync();
      await fleet.close();
    }
  });

  it('lists an idle card\'s declaration notification exactly as the expanded state holds it', async () => {
    const fleet = await Fleet.create({ size: 2, model: 'bbq', pki: testPki() });
    const eid = fleet.eids()[1] as string;
    expect(fleet.store.pendingNotifications(eid)).toEqual(fleet.pool.snapshot(eid).notifications.pending);
    expect(fleet.pool.pendingNotifications(eid)).toHaveLength(1);
  });

  it('keeps committed changes across LRU eviction', async () => {
    const fleet = await Fleet.create({ size: 5, model: 'generic', pki: testPki(), commands: STUB_COMMANDS, maxHydrated: 1 });
    const [a, b] = fleet.eids() as string[];
    const before = fleet.pool.pendingNotifications(a as string).length;
    fleet.transmit(a as string, Buffer.from('80E2880000', 'hex')); // stub: queue a notification
    fleet.transmit(b as string, Buffer.from('80CA005A00', 'hex')); // evicts a
    expect(fleet.pool.hydratedCount).toBe(1);
    expect(fleet.pool.pendingNotifications(a as string).length).toBe(before + 1);
    expect(fleet.store.changedCount).toBeGreaterThanOrEqual(1); // the card commits after every successful command
  });

  it('a fault plan cuts the power at a named step: nothing committed, device told', async () => {
    const fleet = await Fleet.create({ size: 1, model: 'generic', pki: testPki(), commands: STUB_COMMANDS, faults: { seed: 3, powerLossAt: ['stub:step'] } });
    const eid = fleet.eids()[0] as string;
    const events: string[] = [];
    fleet.device(eid)?.watch((e) => events.push(e.type === 'power-loss' ? `power-loss:${e.step}` : e.type));
    const before = fleet.pool.snapshot(eid);
    expect(() => fleet.transmit(eid, Buffer.from('80EF000000', 'hex'))).toThrow(PowerLoss);
    expect(fleet.pool.snapshot(eid)).toEqual(before);
    expect(events).toEqual(['power-loss:stub:step']);
    fleet.transmit(eid, Buffer.from('80EF000000', 'hex')); // fired once: the second run commits
    expect(fleet.pool.snapshot(eid).imei).toBe('01');
  });
});
