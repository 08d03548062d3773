/**
 * The fleet's LRU of hydrated cards must not be seen on the wire: a card evicted between the two steps
 * of a key establishment (SGP.02 §3.8 [U numbering] for the ISD-R, §3.1.2 for an ISD-P: the off-card
 * side signs the 3A01 challenge between two scripts) still accepts the 3A02, as the powered device it
 * stands for would. Found with 10 000 BBQs (`npm run bench -- user-path --devices 10000`): the SM-SR's
 * first-contact handovers met 6985 on cards evicted meanwhile, and downloads failed with 8.2.1/1.2.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Scp03Host } from '@rsp/crypto';
import { AID, buildEstablishKeySetStep1, buildEstablishKeySetStep2, DEFAULT_ISDP_CRT, defaultIsdRKeySet, parseEstablishKeySetStep1Response } from '@rsp/offcard';
import { generateTestPki, type TestPki } from '@rsp/pki';
import { decodeResponseApdu, encodeCommandApdu, SW, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import { Fleet } from '../src/fleet';

let pki: TestPki;
beforeAll(() => {
  pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
});

/** GET DATA EID (GP CS §11.3, tag 5A): any command makes its card the most recently used. */
const GET_EID: CommandApdu = { cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x5a, data: Buffer.alloc(0), le: 256 };

function plain(fleet: Fleet, eid: string, apdu: CommandApdu): ResponseApdu {
  return decodeResponseApdu(fleet.transmit(eid, encodeCommandApdu(apdu)));
}

/** One ES5 session as the SM-SR opens it (SELECT ISD-R, SCP03 at C-MAC C-DEC R-MAC R-ENC): its `send`. */
function es5(fleet: Fleet, eid: string): (apdu: CommandApdu) => ResponseApdu {
  expect(plain(fleet, eid, { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: Buffer.from(AID.ISD_R, 'hex'), le: 256 }).sw).toBe(SW.OK);
  const keys = defaultIsdRKeySet(eid);
  const host = new Scp03Host({ keys, kvn: keys.kvn });
  host.processInitializeUpdateResponse(plain(fleet, eid, host.initializeUpdateCommand()));
  host.processExternalAuthenticateResponse(plain(fleet, eid, host.externalAuthenticateCommand(0x33)));
  return (apdu) => host.unwrapResponse(decodeResponseApdu(fleet.transmit(eid, encodeCommandApdu(host.wrapCommand(apdu)))));
}

/** The SM-SR's 3A01 in one script, then `between`, then its 3A02 in the next: the 3A02's status word, and the 3A02 sent. */
function handover(fleet: Fleet, eid: string, between: () => void): { sw: number; step2: CommandApdu } {
  const [certificate] = buildEstablishKeySetStep1({ smdpCertificate: pki.smSr.cert }) as [CommandApdu];
  const first = es5(fleet, eid)(certificate);
  expect(first.sw).toBe(SW.OK);
  const step2 = buildEstablishKeySetStep2({
    challenge: parseEstablishKeySetStep1Response(first.data),
    smdpPrivateKey: pki.smSr.privateKey,
    ecasdCertificate: fleet.ecasdCertificate(eid),
    crtParams: { ...DEFAULT_ISDP_CRT, keyVersion: 0x31 },
  });
  between();
  return { sw: es5(fleet, eid)(step2.apdu).sw, step2: step2.apdu };
}

describe('card pool: eviction is not a power cut', () => {
  it('a card evicted between 3A01 and 3A02 is resumed with its challenge: the 3A02 is accepted', async () => {
    const fleet = await Fleet.create({ size: 2, model: 'bbq', pki, maxHydrated: 1 });
    const [a, b] = fleet.eids() as [string, string];
    const { sw } = handover(fleet, a, () => {
      plain(fleet, b, GET_EID); // another card: evicts a
      expect(fleet.pool.hydratedCount).toBe(1);
      expect(fleet.pool.parkedCount).toBe(1);
    });
    expect(sw).toBe(SW.OK);
    expect(fleet.pool.parkedCount).toBe(0); // resumed, and nothing waits any more
    expect(fleet.pool.snapshot(a).isdR.keySets.map((set) => set.kvn)).toEqual([0x30, 0x31]);
    await fleet.close();
  });

  it('an evicted card with nothing waiting keeps nothing volatile; a card that waits beyond maxParked loses it as in a power cut (6985)', async () => {
    const fleet = await Fleet.create({ size: 2, model: 'bbq', pki, maxHydrated: 1 });
    const [a, b] = fleet.eids() as [string, string];
    es5(fleet, a);
    plain(fleet, b, GET_EID);
    expect(fleet.pool.parkedCount).toBe(0); // an ES5 session alone is not kept: every script opens its own
    await fleet.close();

    const bounded = await Fleet.create({ size: 2, model: 'bbq', pki, maxHydrated: 1, maxParked: 0 });
    const [c, d] = bounded.eids() as [string, string];
    expect(handover(bounded, c, () => plain(bounded, d, GET_EID)).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    await bounded.close();
  });

  it('a resumed challenge is still single-use: the accepted 3A02 replayed, after another eviction, gets 6985 and changes nothing', async () => {
    const fleet = await Fleet.create({ size: 2, model: 'bbq', pki, maxHydrated: 1 });
    const [a, b] = fleet.eids() as [string, string];
    const { sw, step2 } = handover(fleet, a, () => plain(fleet, b, GET_EID));
    expect(sw).toBe(SW.OK);
    plain(fleet, b, GET_EID); // evicts a again, with nothing waiting
    expect(fleet.pool.parkedCount).toBe(0);
    expect(es5(fleet, a)(step2).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    expect(fleet.pool.snapshot(a).isdR.keySets.map((set) => set.kvn)).toEqual([0x30, 0x31]);
    await fleet.close();
  });

  it('closing the fleet cuts the power: what was parked is gone', async () => {
    const fleet = await Fleet.create({ size: 2, model: 'bbq', pki, maxHydrated: 1 });
    const [a, b] = fleet.eids() as [string, string];
    handover(fleet, a, () => {
      plain(fleet, b, GET_EID);
      fleet.pool.evictAll();
      expect(fleet.pool.parkedCount).toBe(0);
    });
    await fleet.close();
  });
});
