import { describe, expect, it } from '@jest/globals';
import { ContractFailure, es1, es2, es4, parse, type Check } from '@rsp/contracts';
import { generateEid } from '@rsp/pki';
import { signedEis } from '../../libs/contracts/test/support';
import * as requests from '../requests';
import type { BuiltRequest, HeaderOptions } from '../requests';

const EID = generateEid('89049032', 4242n);
const ICCID = '89882119900000000012';
const HEADER: HeaderOptions = { requester: 'mno.demo', callId: 'call-1', validity: 600 };
const WIRE_HEADER = { functionRequesterIdentifier: 'mno.demo', functionCallIdentifier: 'call-1', validityPeriod: 600 };

/** The built body passes the service-side validator unchanged. */
function expectValid(built: BuiltRequest, check: Check<unknown>): void {
  expect(parse(check, built.body)).toEqual(built.body);
}

function contractFailure(run: () => unknown): ContractFailure {
  try {
    run();
  } catch (error) {
    if (error instanceof ContractFailure) return error;
    throw error;
  }
  throw new Error('no ContractFailure thrown');
}

describe('ES2 request builders (MNO → SM-DP)', () => {
  const profile = { eid: EID, iccid: ICCID, smsrId: 'smsr.demo' };

  it('GetEIS', () => {
    const built = requests.es2GetEis({ eid: EID, smsrId: 'smsr.demo' }, HEADER);
    expect(built).toEqual({ interface: 'es2', functionName: 'getEIS', path: '/gsma/es2/getEIS', body: { header: WIRE_HEADER, eid: EID, smsrId: 'smsr.demo' } });
    expectValid(built, es2.getEisRequest);
  });

  it('DownloadProfile by ICCID, enableProfile false by default', () => {
    const built = requests.es2DownloadProfile(profile, HEADER);
    expect(built.path).toBe('/gsma/es2/downloadProfile');
    expect(built.body).toEqual({ header: WIRE_HEADER, eid: EID, smsrId: 'smsr.demo', iccid: ICCID, enableProfile: false });
    expectValid(built, es2.downloadProfileRequest);
  });

  it('DownloadProfile by profile type with --enable', () => {
    const built = requests.es2DownloadProfile({ eid: EID, smsrId: 'smsr.demo', profileType: 'demo-iot', enable: true }, HEADER);
    expect(built.body).toMatchObject({ profileType: 'demo-iot', enableProfile: true });
    expect(built.body).not.toHaveProperty('iccid');
  });

  it('DownloadProfile refuses both or neither of iccid / profileType (2.1 / 2.3)', () => {
    expect(contractFailure(() => requests.es2DownloadProfile({ ...profile, profileType: 'x' }, HEADER))).toMatchObject({ parameter: 'profileType', reasonCode: '2.1' });
    expect(contractFailure(() => requests.es2DownloadProfile({ eid: EID, smsrId: 's' }, HEADER))).toMatchObject({ parameter: 'iccid|profileType', reasonCode: '2.3' });
  });

  it('UpdatePolicyRules from --rule and from --pol2', () => {
    const fromRules = requests.es2UpdatePolicyRules({ ...profile, rule: ['disable:not-allowed', 'DELETE:Not-Allowed'] }, HEADER);
    expect(fromRules.path).toBe('/gsma/es2/updatePolicyRules');
    expect(fromRules.body.pol2).toEqual([
      { subject: 'PROFILE', action: 'DISABLE', qualification: 'Not-Allowed' },
      { subject: 'PROFILE', action: 'DELETE', qualification: 'Not-Allowed' },
    ]);
    expectValid(fromRules, es2.updatePolicyRulesRequest);
    const fromJson = requests.es2UpdatePolicyRules({ ...profile, pol2: JSON.stringify(fromRules.body.pol2) }, HEADER);
    expect(fromJson.body).toEqual(fromRules.body);
    expect(requests.es2UpdatePolicyRules({ ...profile, pol2: '[]' }, HEADER).body.pol2).toEqual([]);
  });

  it('UpdatePolicyRules: bad rules fail with the contract codes', () => {
    expect(contractFailure(() => requests.es2UpdatePolicyRules(profile, HEADER))).toMatchObject({ parameter: 'pol2', reasonCode: '2.2' });
    expect(contractFailure(() => requests.es2UpdatePolicyRules({ ...profile, pol2: '{oops' }, HEADER))).toMatchObject({ parameter: 'pol2', reasonCode: '2.1' });
    expect(contractFailure(() => requests.es2UpdatePolicyRules({ ...profile, rule: ['DISABLE'] }, HEADER))).toMatchObject({ parameter: 'pol2[0]' });
    expect(contractFailure(() => requests.es2UpdatePolicyRules({ ...profile, rule: ['SUSPEND:Not-Allowed'] }, HEADER))).toMatchObject({ parameter: 'pol2[0].action' });
    expect(contractFailure(() => requests.es2UpdatePolicyRules({ ...profile, rule: ['DELETE:Not-Allowed', 'DELETE:Auto-Delete'] }, HEADER))).toMatchObject({
      parameter: 'pol2[1].action',
    });
    expect(contractFailure(() => requests.es2UpdatePolicyRules({ ...profile, pol2: '[]', rule: ['DELETE:Not-Allowed'] }, HEADER))).toMatchObject({ parameter: 'pol2' });
  });

  it('UpdateSubscriptionAddress', () => {
    const built = requests.es2UpdateSubscriptionAddress({ ...profile, imsi: '262011234567890', msisdn: '4915112345678' }, HEADER);
    expect(built.path).toBe('/gsma/es2/updateSubscriptionAddress');
    expect(built.body.newSubscriptionAddress).toEqual({ imsi: '262011234567890', msisdn: '4915112345678' });
    expectValid(built, es2.updateSubscriptionAddressRequest);
    expect(contractFailure(() => requests.es2UpdateSubscriptionAddress(profile, HEADER)).reasonCode).toBe('2.3');
    expect(contractFailure(() => requests.es2UpdateSubscriptionAddress({ ...profile, imsi: '12ab' }, HEADER)).parameter).toBe('newSubscriptionAddress.imsi');
  });

  it.each([
    ['enableProfile', requests.es2EnableProfile, es2.enableProfileRequest],
    ['disableProfile', requests.es2DisableProfile, es2.disableProfileRequest],
    ['deleteProfile', requests.es2DeleteProfile, es2.deleteProfileRequest],
  ] as const)('%s', (name, builder, check) => {
    const built = builder(profile, HEADER);
    expect(built).toEqual({ interface: 'es2', functionName: name, path: `/gsma/es2/${name}`, body: { header: WIRE_HEADER, ...profile } });
    expectValid(built, check);
    expect(contractFailure(() => builder({ ...profile, iccid: '89882119900000000013' }, HEADER))).toMatchObject({ parameter: 'iccid', reasonCode: '2.1' });
  });
});

describe('ES4 request builders (MNO → SM-SR)', () => {
  it('GetEIS and AuditEIS', () => {
    const getEis = requests.es4GetEis({ eid: EID }, HEADER);
    expect(getEis).toEqual({ interface: 'es4', functionName: 'getEIS', path: '/gsma/es4/getEIS', body: { header: WIRE_HEADER, eid: EID } });
    expectValid(getEis, es4.getEisRequest);
    const audit = requests.es4AuditEis({ eid: EID, iccid: [ICCID] }, HEADER);
    expect(audit.path).toBe('/gsma/es4/auditEIS');
    expect(audit.body).toEqual({ header: WIRE_HEADER, eid: EID, iccids: [ICCID] });
    expectValid(audit, es4.auditEisRequest);
    expect(requests.es4AuditEis({ eid: EID }, HEADER).body).not.toHaveProperty('iccids');
  });

  it.each([
    ['enableProfile', requests.es4EnableProfile, es4.enableProfileRequest],
    ['disableProfile', requests.es4DisableProfile, es4.disableProfileRequest],
    ['deleteProfile', requests.es4DeleteProfile, es4.deleteProfileRequest],
  ] as const)('%s', (name, builder, check) => {
    const built = builder({ eid: EID, iccid: ICCID }, HEADER);
    expect(built).toEqual({ interface: 'es4', functionName: name, path: `/gsma/es4/${name}`, body: { header: WIRE_HEADER, eid: EID, iccid: ICCID } });
    expectValid(built, check);
  });

  it('UpdatePolicyRules', () => {
    const built = requests.es4UpdatePolicyRules({ eid: EID, iccid: ICCID, rule: ['DISABLE:Auto-Delete'] }, HEADER);
    expect(built.path).toBe('/gsma/es4/updatePolicyRules');
    expect(built.body.pol2).toEqual([{ subject: 'PROFILE', action: 'DISABLE', qualification: 'Auto-Delete' }]);
    expectValid(built, es4.updatePolicyRulesRequest);
  });
});

describe('ES1 RegisterEIS and the header', () => {
  it('takes the EIS itself or a { eis } wrapper', () => {
    const eis = signedEis();
    const direct = requests.es1RegisterEis(eis, HEADER);
    expect(direct).toEqual({ interface: 'es1', functionName: 'registerEIS', path: '/gsma/es1/registerEIS', body: { header: WIRE_HEADER, eis } });
    expectValid(direct, es1.registerEisRequest);
    expect(requests.es1RegisterEis({ header: { functionRequesterIdentifier: 'x' }, eis }, HEADER).body).toEqual(direct.body);
    expect(contractFailure(() => requests.es1RegisterEis({ ...eis, eid: '123' }, HEADER)).parameter).toBe('eis.eid');
  });

  it('fresh UUID call id by default; validity only when given and within the contract', () => {
    const a = requests.requestHeader({ requester: 'mno.demo' });
    const b = requests.requestHeader({ requester: 'mno.demo' });
    expect(a.functionCallIdentifier).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.functionCallIdentifier).not.toBe(b.functionCallIdentifier);
    expect(a).not.toHaveProperty('validityPeriod');
    expect(contractFailure(() => requests.es4GetEis({ eid: EID }, { requester: 'mno.demo', validity: 1.5 })).parameter).toBe('header.validityPeriod');
    expect(contractFailure(() => requests.es4GetEis({ eid: EID }, { requester: 'has space' })).parameter).toBe('header.functionRequesterIdentifier');
  });
});
