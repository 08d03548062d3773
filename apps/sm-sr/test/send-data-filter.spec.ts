/**
 * ES3.SendData command filter (apps/sm-sr/src/domain/send-data-filter.ts): the SM-SR's ISD-R session only
 * runs INSTALL [for personalization] of the requester's ISD-P followed by ES8 STORE DATA. Anything else
 * is Failed 8.4 / 1.2 and nothing reaches the card. The full ES8 download through SendData stays in
 * profile-lifecycle.spec.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildDownloadCommands, buildEstablishKeySetStep1, buildInstallForPersonalization, buildEstablishKeySetStep2, confirmNotificationApdu, createIsdpApdu, deleteApdu, enableApdu, encodeCommandScript, isdpAid as isdpAidOf, storeData, storeDataForScp03t } from '@rsp/offcard';
import { StatusError } from '@rsp/contracts';
import { generateIccid } from '@rsp/pki';
import { encodeCommandApdu, type CommandApdu } from '@rsp/tlv';
import { requireEs8Script } from '../src/domain/send-data-filter';
import { buildDeleteIsdRKeySets } from '../src/es5/isd-r-key-establishment';
import { EUM_ID, header, MNO, pki, startTestBed, type TestBed } from './support';

const SMDP = 'smdp.filter';
let bed: TestBed;
let eid: string;
let aid: string;
const iccid = generateIccid('8900014', 2024);

beforeAll(async () => {
  bed = await startTestBed({ size: 1 });
  eid = bed.fleet.eids()[0] as string;
  const registered = await bed.smsr.service.call('ES1', 'RegisterEIS', { header: header(EUM_ID), eis: bed.eisOf(eid) });
  expect(registered.header.functionExecutionStatus.status).toBe('Executed-Success');
  const created = await bed.smsr.service.call('ES3', 'CreateISDP', { header: header(SMDP), eid, iccid, mnoId: MNO.mnoId, requiredMemory: 2000 });
  expect(created.header.functionExecutionStatus.status).toBe('Executed-Success');
  aid = created.isdpAid as string;
});
afterAll(async () => {
  await bed?.close();
});

const sendData = (commands: CommandApdu[], sdAid = aid) =>
  bed.smsr.service.call('ES3', 'SendData', {
    header: header(SMDP),
    eid,
    sdAid,
    data: encodeCommandScript({ commands: commands.map((command) => encodeCommandApdu(command)) }).toString('hex'),
  });

/** The card's state that a forbidden command could change: key sets, ISD-Ps and their states. */
const cardState = () => {
  const snapshot = bed.fleet.pool.snapshot(eid);
  return JSON.stringify({ keySets: snapshot.isdR.keySets.map((keySet) => keySet.kvn), isdps: snapshot.isdps.map((isdp) => [isdp.aid, isdp.lifeCycle]) });
};

describe('SendData command filter', () => {
  const refusals: Array<[string, () => CommandApdu[]]> = [
    ['DELETE of the ISD-R key set 0x30 after INSTALL [for personalization]', () => [buildInstallForPersonalization(aid), buildDeleteIsdRKeySets([0x30])]],
    ['STORE DATA 3A03 EnableProfile of the ISD-P', () => [buildInstallForPersonalization(aid), enableApdu(aid)]],
    ['EnableProfile alone (no INSTALL [for personalization])', () => [enableApdu(aid)]],
    ['DELETE of the ISD-P', () => [buildInstallForPersonalization(aid), deleteApdu(aid)]],
    ['INSTALL [for install] of another ISD-P', () => [buildInstallForPersonalization(aid), createIsdpApdu(isdpAidOf(9), { quota: 100 })]],
    ['a second INSTALL [for personalization] of another AID', () => [buildInstallForPersonalization(aid), buildInstallForPersonalization(isdpAidOf(9))]],
    ['the ES8 certificate header carrying DGI 3A03', () => [buildInstallForPersonalization(aid), storeData(0x3a03, Buffer.from(`4f10${aid}`, 'hex'), 0x09)]],
    ['the ES8 key-establishment header carrying DGI 3A08 (notification confirmation)', () => [buildInstallForPersonalization(aid), { ...confirmNotificationApdu(1), p2: 0x01 }]],
    ['the SCP03t header carrying a DGI instead of an 84/85/86 TLV', () => [buildInstallForPersonalization(aid), storeDataForScp03t(Buffer.from('3a0300', 'hex'))]],
    ['an ES8 STORE DATA on logical channel 1', () => [buildInstallForPersonalization(aid), { ...storeDataForScp03t(Buffer.from('860100', 'hex')), cla: 0x81 }]],
    ['an empty script', () => []],
  ];

  it.each(refusals)('refuses %s (8.4 / 1.2) and sends nothing to the card', async (_name, commands) => {
    const before = cardState();
    let exchanges = 0;
    bed.es5.carrier.tamper = (_eid, script) => {
      exchanges += 1;
      return script;
    };
    try {
      const result = await sendData(commands());
      expect(result.header.functionExecutionStatus).toMatchObject({
        status: 'Failed',
        statusCodeData: { subjectCode: '8.4', reasonCode: '1.2', subjectIdentifier: aid.toUpperCase() },
      });
      expect(result.euiccResponseData).toBeUndefined();
    } finally {
      delete bed.es5.carrier.tamper;
    }
    expect(exchanges).toBe(0);
    expect(cardState()).toBe(before);
  });

  it('INSTALL [for personalization] of another registered ISD-P is refused even for its own scripts (sdAid must match)', async () => {
    const bootstrap = (await bed.smsr.registry.find(eid))?.profiles.find((profile) => profile.smdpId === 'bootstrap');
    expect(bootstrap).toBeDefined();
    const result = await sendData([buildInstallForPersonalization(bootstrap?.isdpAid as string), enableApdu(aid)]);
    expect(result.header.functionExecutionStatus).toMatchObject({ status: 'Failed', statusCodeData: { subjectCode: '8.4', reasonCode: '1.2' } });
  });

  it('lets the ES8 key establishment through and the card answers it', async () => {
    const result = await sendData(buildEstablishKeySetStep1({ isdpAid: aid, smdpCertificate: pki.smDp.cert }));
    expect(result.header.functionExecutionStatus).toEqual({ status: 'Executed-Success' });
    expect(result.euiccResponseData).toEqual(expect.stringMatching(/^AB/));
  });

  it('accepts the scripts the SM-DP builds (requireEs8Script, lower-case sdAid too)', () => {
    const step2 = buildEstablishKeySetStep2({
      challenge: Buffer.alloc(16, 1),
      smdpPrivateKey: pki.smDp.privateKey,
      ecasdCertificate: bed.fleet.ecasdCertificate(eid) as Buffer,
      isdpAid: aid,
    });
    const download = buildDownloadCommands({ isdpAid: aid, keys: { enc: Buffer.alloc(16, 1), mac: Buffer.alloc(16, 2), dek: Buffer.alloc(16, 3) }, kvn: 0x30, package: Buffer.from('a0030101ff', 'hex') });
    for (const script of [buildEstablishKeySetStep1({ isdpAid: aid, smdpCertificate: pki.smDp.cert }), step2.commands, download.initializeUpdate()]) {
      expect(() => requireEs8Script(aid, script)).not.toThrow();
      expect(() => requireEs8Script(aid.toLowerCase(), script)).not.toThrow();
    }
    expect(() => requireEs8Script(aid, [buildInstallForPersonalization(aid), buildDeleteIsdRKeySets([0x30])])).toThrow(StatusError);
  });
});
