import { describe, expect, it } from '@jest/globals';
import { ContractError, REASON, SUBJECT, es1, es2, es3, es4, es5, parse, toExecutionStatus, type ContractFailure } from '../src';
import { HEADER, ICCID, signedEis } from './support';

function failure(run: () => unknown): ContractFailure {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as ContractFailure;
  }
  throw new Error('expected a ContractError');
}

const download = (override: Record<string, unknown> = {}) => ({
  header: HEADER,
  eid: signedEis().eid,
  smsrId: 'SMSR-TEST',
  iccid: ICCID,
  enableProfile: true,
  ...override,
});

describe('request validators', () => {
  it('accepts a valid ES2 DownloadProfile and drops unknown fields', () => {
    const parsed = parse(es2.downloadProfileRequest, { ...download(), extra: 'ignored' });
    expect(parsed).toEqual(download());
    expect('extra' in parsed).toBe(false);
  });

  it.each([
    ['eid', 'eid'],
    ['smsrId', 'smsrId'],
    ['enableProfile', 'enableProfile'],
  ])('missing %s → 1.6 / 2.2 with the element name', (field, path) => {
    const body: Record<string, unknown> = download();
    delete body[field];
    const error = failure(() => parse(es2.downloadProfileRequest, body));
    expect(error).toBeInstanceOf(ContractError.MandatoryElementMissing);
    expect(toExecutionStatus(error)).toEqual({
      status: 'Failed',
      statusCodeData: { subjectCode: SUBJECT.FUNCTION, reasonCode: REASON.MANDATORY_ELEMENT_MISSING, subjectIdentifier: path, message: 'Mandatory element missing' },
    });
  });

  it('missing header fields are named with their path', () => {
    const error = failure(() => parse(es4.enableProfileRequest, { header: { functionRequesterIdentifier: 'MNO-1' }, eid: download().eid, iccid: ICCID }));
    expect(error.code).toBe('ERR_CONTRACT_MANDATORY_ELEMENT_MISSING');
    expect(error.parameter).toBe('header.functionCallIdentifier');
  });

  it.each([
    ['eid', 12345],
    ['eid', '89049032123451234512345678901234'], // bad check digits
    ['iccid', '89882119900000000013'], // bad Luhn digit
    ['enableProfile', 'yes'],
    ['smsrId', 'has space'],
    ['header', 'not-an-object'],
  ])('wrong %s → 1.6 / 2.1 invalid with the parameter name', (field, value) => {
    const error = failure(() => parse(es2.downloadProfileRequest, download({ [field]: value })));
    expect(error).toBeInstanceOf(ContractError.InvalidParameter);
    const status = toExecutionStatus(error);
    expect(status.statusCodeData).toMatchObject({ subjectCode: '1.6', reasonCode: '2.1', subjectIdentifier: field });
    expect(status.statusCodeData?.message).not.toContain(String(value));
  });

  it('DownloadProfile needs exactly one of iccid / profileType', () => {
    const none = failure(() => parse(es2.downloadProfileRequest, download({ iccid: undefined })));
    expect(toExecutionStatus(none).statusCodeData).toMatchObject({ subjectCode: '1.6', reasonCode: '2.3', subjectIdentifier: 'iccid|profileType' });
    const both = failure(() => parse(es2.downloadProfileRequest, download({ profileType: 'M2M-basic' })));
    expect(both.parameter).toBe('profileType');
    expect(parse(es2.downloadProfileRequest, download({ iccid: undefined, profileType: 'M2M-basic' })).profileType).toBe('M2M-basic');
  });

  it('validityPeriod must be a positive integer of seconds', () => {
    const error = failure(() => parse(es4.getEisRequest, { header: { ...HEADER, validityPeriod: 1.5 }, eid: download().eid }));
    expect(error.parameter).toBe('header.validityPeriod');
    expect(parse(es4.getEisRequest, { header: { ...HEADER, validityPeriod: undefined }, eid: download().eid }).header.validityPeriod).toBeUndefined();
  });

  it('validates nested POL2 rules and refuses two rules for one action', () => {
    const base = { header: HEADER, eid: download().eid, iccid: ICCID };
    const ok = parse(es3.updatePolicyRulesRequest, { ...base, pol2: [{ subject: 'PROFILE', action: 'DISABLE', qualification: 'Auto-Delete' }] });
    expect(ok.pol2).toHaveLength(1);
    const bad = failure(() => parse(es3.updatePolicyRulesRequest, { ...base, pol2: [{ subject: 'PROFILE', action: 'DISABLE', qualification: 'Maybe' }] }));
    expect(bad.parameter).toBe('pol2[0].qualification');
    const twice = failure(() =>
      parse(es4.updatePolicyRulesRequest, {
        ...base,
        pol2: [
          { subject: 'PROFILE', action: 'DELETE', qualification: 'Not-Allowed' },
          { subject: 'PROFILE', action: 'DELETE', qualification: 'Auto-Delete' },
        ],
      }),
    );
    expect(twice.parameter).toBe('pol2[1].action');
  });

  it('ES3 CreateISDP and SendData check memory, AIDs and hex', () => {
    const base = { header: HEADER, eid: download().eid };
    expect(parse(es3.createIsdpRequest, { ...base, iccid: ICCID, mnoId: 'MNO-1', requiredMemory: 32768 }).requiredMemory).toBe(32768);
    expect(failure(() => parse(es3.createIsdpRequest, { ...base, iccid: ICCID, mnoId: 'MNO-1', requiredMemory: -1 })).parameter).toBe('requiredMemory');
    expect(failure(() => parse(es3.sendDataRequest, { ...base, sdAid: 'A000', data: '80E2' })).parameter).toBe('sdAid');
    expect(failure(() => parse(es3.sendDataRequest, { ...base, sdAid: 'A0000005591010FFFFFFFF8900001000', data: '80E' })).parameter).toBe('data');
  });

  it('ES1 RegisterEIS validates the whole EIS, including its invariants', () => {
    const eis = signedEis();
    expect(parse(es1.registerEisRequest, { header: HEADER, eis }).eis).toEqual(eis);
    const twoEnabled = { ...eis, profiles: [eis.profiles[0], { ...eis.profiles[0], iccid: '89882119900000000020', isdpAid: 'A0000005591010FFFFFFFF8900001100', fallbackAttribute: false }] };
    expect(failure(() => parse(es1.registerEisRequest, { header: HEADER, eis: twoEnabled })).parameter).toBe('eis.profiles[1].state');
    const noCert = { ...eis, ecasd: { aid: eis.ecasd.aid } };
    expect(failure(() => parse(es1.registerEisRequest, { header: HEADER, eis: noCert })).parameter).toBe('eis.ecasd.certificate');
  });

  it('responses: Failed needs statusCodeData; outputs only required when executed', () => {
    const eis = signedEis();
    expect(parse(es4.eisResponse, { header: { functionExecutionStatus: { status: 'Executed-Success' } }, eis }).eis).toEqual(eis);
    expect(failure(() => parse(es4.eisResponse, { header: { functionExecutionStatus: { status: 'Executed-Success' } } })).parameter).toBe('eis');
    const failed = { status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '3.9', subjectIdentifier: eis.eid } };
    expect(parse(es4.eisResponse, { header: { functionExecutionStatus: failed } }).eis).toBeUndefined();
    expect(failure(() => parse(es2.emptyResponse, { header: { functionExecutionStatus: { status: 'Failed' } } })).parameter).toBe(
      'header.functionExecutionStatus.statusCodeData',
    );
  });

  it('ES5 envelopes: reply topic, script templates, exactly one of script / error', () => {
    const eid = download().eid;
    const replyTo = `rsp/v1/euicc/${eid}/es5/reply/smsr~demo/es5-1`;
    expect(parse(es5.es5CommandEnvelope, { id: 'c1', replyTo, script: 'AA00' }).script).toBe('AA00');
    for (const bad of ['rsp/v1/reply/smsr-1', `rsp/v1/euicc/${eid}/es5/reply/+/x`, `rsp/v1/euicc/${eid}/es5/reply/smsr.demo/x`, 'rsp/v1/reply/#']) {
      expect(failure(() => parse(es5.es5CommandEnvelope, { id: 'c1', replyTo: bad, script: 'AA00' })).parameter).toBe('replyTo');
    }
    expect(failure(() => parse(es5.es5CommandEnvelope, { id: 'c1', script: 'AB00' })).parameter).toBe('script');
    expect(failure(() => parse(es5.es5ReplyEnvelope, { id: 'c1', eid })).code).toBe('ERR_CONTRACT_CONDITIONAL_ELEMENT_MISSING');
    expect(parse(es5.es5NotificationEnvelope, { eid, seq: 3, tlv: 'E100' }).seq).toBe(3);
  });
});
