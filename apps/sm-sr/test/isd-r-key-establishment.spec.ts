/**
 * ES5.EstablishISDRKeySet + FinaliseISDRhandover from the SM-SR against virtual eUICCs of a simulator
 * fleet (in process, and once over the embedded MQTT broker): the SM-SR replaces the EUM's public TEST
 * key set by one derived with Scenario#3, and every refusal leaves the old keys working.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultIsdRKeySet, getStatusApdu, type IsdRKeySet } from '@rsp/offcard';
import { principal, startTestBroker, type TestBroker } from '../../../test/support/brokers';
import { generateTestPki } from '@rsp/pki';
import { Fleet } from '../../../simulator/src/fleet';
import { CardStatusError } from '../src/domain/errors';
import { Es5Error, MqttEs5Channel, type Es5Channel } from '../src/es5';
import { LocalEs5Channel } from './local-es5-channel';
import { buildDeleteIsdRKeySets, establishIsdRKeySet, finaliseIsdRHandover, SMSR_ISD_R_KVN } from '../src/es5/isd-r-key-establishment';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const TEST_KVN = 0x30;

/** The SM-SR's EIS registry stand-in: the current ISD-R key set of each card (TEST set until replaced). */
class KeyRegistry {
  private readonly keys = new Map<string, IsdRKeySet>();
  get = (eid: string): IsdRKeySet => this.keys.get(eid) ?? defaultIsdRKeySet(eid);
  set(eid: string, keySet: IsdRKeySet): void {
    this.keys.set(eid, keySet);
  }
}

/** Wraps a channel and flips one byte of the receipt in the answer to 3A02. */
function tamperingReceipts(inner: Es5Channel): Es5Channel {
  return {
    async run(eid, commands, options) {
      const responses = await inner.run(eid, commands, options);
      const isStep2 = commands.some((c) => c.ins === 0xe2 && c.p1 === 0x89); // STORE DATA 3A02 (last block, DGI)
      const last = responses[responses.length - 1];
      if (!isStep2 || !last) return responses;
      const data = Buffer.from(last.data);
      data[data.length - 1] = (data[data.length - 1] as number) ^ 0x01;
      return [...responses.slice(0, -1), { ...last, data }];
    },
    close: () => inner.close(),
  };
}

async function statusOk(channel: Es5Channel, eid: string): Promise<boolean> {
  const [status] = await channel.run(eid, [getStatusApdu()]);
  return status?.sw === 0x9000;
}

describe('ES5 EstablishISDRKeySet in process', () => {
  let fleet: Fleet;
  let registry: KeyRegistry;
  let channel: LocalEs5Channel;
  let testKeys: LocalEs5Channel;
  let eids: string[];

  beforeAll(async () => {
    fleet = await Fleet.create({ size: 5, model: 'oven', pki, firstSerial: 81_000_000 });
    registry = new KeyRegistry();
    channel = new LocalEs5Channel(fleet.pool, registry.get);
    testKeys = new LocalEs5Channel(fleet.pool, defaultIsdRKeySet);
    eids = [...fleet.eids()];
  });
  afterAll(async () => {
    await channel?.close();
    await fleet?.close();
  });

  const options = (eid: string) => ({
    smsrCertificate: pki.smSr.cert,
    smsrPrivateKey: pki.smSr.privateKey,
    ecasdCertificate: fleet.ecasdCertificate(eid) as Buffer,
  });
  const kvnsOnCard = (eid: string) => fleet.pool.withCard(eid, (card) => card.snapshot().isdR.keySets.map((k) => k.kvn));

  it('establishes KVN 0x31, the new keys open ES5; after FinaliseISDRhandover the TEST keys fail (ERR_ES5_SECURE_CHANNEL)', async () => {
    const eid = eids[0] as string;
    const keySet = await establishIsdRKeySet(channel, eid, options(eid));
    expect(keySet.kvn).toBe(SMSR_ISD_R_KVN);
    expect([keySet.enc, keySet.mac, keySet.dek].every((key) => Buffer.isBuffer(key) && key.length === 16)).toBe(true);
    expect(keySet.enc.equals(defaultIsdRKeySet(eid).enc)).toBe(false);
    expect(kvnsOnCard(eid)).toEqual([TEST_KVN, SMSR_ISD_R_KVN]);
    expect(await statusOk(testKeys, eid)).toBe(true); // kept until the new set is proven and stored

    registry.set(eid, keySet); // step 2 of the order: the SM-SR stores the keys, then finalises with them
    expect(await statusOk(channel, eid)).toBe(true);
    await finaliseIsdRHandover(channel, eid, { deleteKvns: [TEST_KVN] });
    expect(kvnsOnCard(eid)).toEqual([SMSR_ISD_R_KVN]);
    await expect(testKeys.run(eid, [getStatusApdu()])).rejects.toMatchObject({ code: 'ERR_ES5_SECURE_CHANNEL' });
    expect(await statusOk(channel, eid)).toBe(true);

    // Deleting the last key set is refused (6985) and changes nothing.
    await expect(finaliseIsdRHandover(channel, eid, { deleteKvns: [SMSR_ISD_R_KVN] })).rejects.toMatchObject({ sw: 0x6985 });
    expect(await statusOk(channel, eid)).toBe(true);
  });

  it('rotates again with a later KVN over the established keys', async () => {
    const eid = eids[0] as string;
    const next = await establishIsdRKeySet(channel, eid, { ...options(eid), kvn: 0x32 });
    registry.set(eid, next);
    await finaliseIsdRHandover(channel, eid, { deleteKvns: [SMSR_ISD_R_KVN] });
    expect(kvnsOnCard(eid)).toEqual([0x32]);
    expect(await statusOk(channel, eid)).toBe(true);
  });

  it('a CERT.SR.ECDSA signed by a foreign CI is refused (6982); the old keys still work', async () => {
    const eid = eids[1] as string;
    const foreign = generateTestPki({ curve: 'P-256', euiccCount: 0 });
    const refused = establishIsdRKeySet(channel, eid, { ...options(eid), smsrCertificate: foreign.smSr.cert, smsrPrivateKey: foreign.smSr.privateKey });
    await expect(refused).rejects.toBeInstanceOf(CardStatusError);
    await expect(refused).rejects.toMatchObject({ sw: 0x6982 });
    expect(kvnsOnCard(eid)).toEqual([TEST_KVN]);
    expect(await statusOk(testKeys, eid)).toBe(true);
  });

  it('an SM-DP certificate (wrong role) is refused (6982)', async () => {
    const eid = eids[2] as string;
    const refused = establishIsdRKeySet(channel, eid, { ...options(eid), smsrCertificate: pki.smDp.cert, smsrPrivateKey: pki.smDp.privateKey });
    await expect(refused).rejects.toMatchObject({ code: 'ERR_SMSR_CARD_STATUS', sw: 0x6982 });
    expect(kvnsOnCard(eid)).toEqual([TEST_KVN]);
    expect(await statusOk(testKeys, eid)).toBe(true);
  });

  it('a 3A02 signed with another key than CERT.SR.ECDSA is refused (6982)', async () => {
    const eid = eids[2] as string;
    const refused = establishIsdRKeySet(channel, eid, { ...options(eid), smsrPrivateKey: pki.smDp.privateKey });
    await expect(refused).rejects.toMatchObject({ sw: 0x6982 });
    expect(kvnsOnCard(eid)).toEqual([TEST_KVN]);
  });

  it('a tampered receipt is detected (ERR_ES5_SECURE_CHANNEL); the old keys still work', async () => {
    const eid = eids[3] as string;
    const refused = establishIsdRKeySet(tamperingReceipts(channel), eid, options(eid));
    await expect(refused).rejects.toBeInstanceOf(Es5Error.SecureChannel);
    await expect(refused).rejects.toMatchObject({ cause: { code: 'ERR_CRYPTO_RECEIPT_MISMATCH' } });
    expect(await statusOk(testKeys, eid)).toBe(true);
  });

  it('rejects a KVN outside 01–7F and an empty deletion before talking to the card', async () => {
    const eid = eids[4] as string;
    await expect(establishIsdRKeySet(channel, eid, { ...options(eid), kvn: 0x80 })).rejects.toMatchObject({ code: 'ERR_CRYPTO_INVALID_PARAMETER' });
    expect(() => buildDeleteIsdRKeySets([])).toThrow();
    expect(buildDeleteIsdRKeySets([0x30, 0x31]).data.toString('hex')).toBe('f203300103f203310103');
    expect(kvnsOnCard(eid)).toEqual([TEST_KVN]);
  });
});

describe('ES5 EstablishISDRKeySet over MQTT (embedded aedes)', () => {
  let broker: TestBroker;
  let fleet: Fleet;
  let channel: MqttEs5Channel;
  const registry = new KeyRegistry();
  const smsrId = 'smsr.key-establishment';

  beforeAll(async () => {
    broker = await startTestBroker({ principals: [principal(smsrId, 'sm-sr'), { name: 'smsr-stale', role: 'sm-sr', serviceId: smsrId }], pki });
    fleet = await Fleet.create({ size: 1, model: 'bbq', pki, firstSerial: 82_000_000 });
    await fleet.startMqtt({ url: broker.url, mode: 'single', smsrId, credentials: broker.credentialsFor, protocolVersion: 4, announce: false });
    channel = await MqttEs5Channel.connect({ url: broker.url, credentials: broker.credentialsFor(smsrId), smsrId, protocolVersion: 4, keys: registry.get });
  });
  afterAll(async () => {
    await channel?.close();
    await fleet?.close();
    await broker?.close();
  });

  it('replaces the TEST key set of a card behind the broker', async () => {
    const eid = fleet.eids()[0] as string;
    const keySet = await establishIsdRKeySet(channel, eid, {
      smsrCertificate: pki.smSr.cert,
      smsrPrivateKey: pki.smSr.privateKey,
      ecasdCertificate: fleet.ecasdCertificate(eid) as Buffer,
    });
    registry.set(eid, keySet);
    await finaliseIsdRHandover(channel, eid, { deleteKvns: [TEST_KVN] });
    expect(await statusOk(channel, eid)).toBe(true);
    const stale = await MqttEs5Channel.connect({ url: broker.url, credentials: broker.credentialsFor('smsr-stale'), smsrId, protocolVersion: 4, keys: defaultIsdRKeySet });
    try {
      await expect(stale.run(eid, [getStatusApdu()])).rejects.toMatchObject({ code: 'ERR_ES5_SECURE_CHANNEL' });
    } finally {
      await stale.close();
    }
  });
});
