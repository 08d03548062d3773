import { describe, expect, it, jest } from '@jest/globals';
import { generateEid } from '@rsp/pki';
import {
  DEVICE_STATUS_FILTER,
  DeviceStatusCache,
  authorizeOwnerOperation,
  deviceStatusTopic,
  eidOfDeviceStatusTopic,
  ownerPolicyFor,
  parseDeviceStatus,
  type ConsentClaims,
  type DeviceStatus,
} from '../src';

const eid = generateEid('89049032', 7);
const valid = { eid, owned: true, status: 'Active', consentEpoch: 2, revokedConsents: ['a'], updatedAt: '2030-01-01T00:00:00.000Z' };
const codeOf = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'no error';
};

describe('device status topic', () => {
  it('names rsp/v1/owner/device/{eid}/status and refuses a non-EID (no wildcard injection)', () => {
    expect(deviceStatusTopic(eid)).toBe(`rsp/v1/owner/device/${eid}/status`);
    expect(DEVICE_STATUS_FILTER).toBe('rsp/v1/owner/device/+/status');
    expect(codeOf(() => deviceStatusTopic('#'))).toBe('ERR_DEVICE_STATUS_INVALID');
    expect(codeOf(() => deviceStatusTopic(`${eid.slice(0, 31)}0`))).toBe('ERR_DEVICE_STATUS_INVALID');
    expect(eidOfDeviceStatusTopic(deviceStatusTopic(eid))).toBe(eid);
    expect(eidOfDeviceStatusTopic('rsp/v1/owner/device/123/status')).toBeUndefined();
  });
});

describe('parseDeviceStatus', () => {
  it('accepts the contract shape and drops unknown members', () => {
    expect(parseDeviceStatus({ ...valid, recentlyTransferredAt: '2030-01-01T00:00:00Z', extra: 1 })).toEqual({ ...valid, recentlyTransferredAt: '2030-01-01T00:00:00Z' });
  });

  it.each([
    ['not an object', 'x'],
    ['an array', []],
    ['bad EID', { ...valid, eid: '89' }],
    ['owned not boolean', { ...valid, owned: 'yes' }],
    ['unknown status', { ...valid, status: 'Lost' }],
    ['negative epoch', { ...valid, consentEpoch: -1 }],
    ['fractional epoch', { ...valid, consentEpoch: 1.5 }],
    ['revokedConsents not strings', { ...valid, revokedConsents: [1] }],
    ['revokedConsents missing', { ...valid, revokedConsents: undefined }],
    ['updatedAt not ISO', { ...valid, updatedAt: 'yesterday' }],
    ['recentlyTransferredAt not ISO', { ...valid, recentlyTransferredAt: 12 }],
  ])('refuses %s with ERR_DEVICE_STATUS_INVALID', (_name, value) => {
    expect(codeOf(() => parseDeviceStatus(value))).toBe('ERR_DEVICE_STATUS_INVALID');
  });
});

describe('DeviceStatusCache', () => {
  it('keeps the latest per EID by updatedAt and forgets a cleared one', () => {
    const cache = new DeviceStatusCache();
    const first = parseDeviceStatus(valid);
    expect(cache.apply(first)).toBe(true);
    expect(cache.apply({ ...first, consentEpoch: 3, updatedAt: '2030-01-01T00:00:01Z' })).toBe(true);
    expect(cache.apply({ ...first, consentEpoch: 1, updatedAt: '2029-12-31T23:59:59Z' })).toBe(false);
    expect(cache.get(eid)?.consentEpoch).toBe(3);
    expect(cache.size).toBe(1);
    cache.forget(eid);
    expect(cache.get(eid)).toBeUndefined();
  });
});

describe('ownerPolicyFor', () => {
  const status = (over: Partial<DeviceStatus>): DeviceStatus => ({ ...(valid as DeviceStatus), ...over });
  it('unknown or unowned device: no consent; owned: consent for each consentable operation', () => {
    expect(ownerPolicyFor(undefined, 'DownloadProfile')).toEqual({ allowed: true, consentRequired: false, reason: 'unknown-device' });
    expect(ownerPolicyFor(status({ owned: false }), 'EnableProfile')).toEqual({ allowed: true, consentRequired: false, reason: 'not-owned' });
    expect(ownerPolicyFor(status({}), 'EnableProfile')).toEqual({ allowed: true, consentRequired: true, reason: 'owned' });
    expect(ownerPolicyFor(status({}), 'OtherProfileChange')).toMatchObject({ allowed: true, consentRequired: false });
    expect(ownerPolicyFor(status({}), 'Read')).toMatchObject({ allowed: true, consentRequired: false });
  });

  it('Suspended / Revoked: only DeleteProfile (and reads)', () => {
    for (const lifecycle of ['Suspended', 'Revoked'] as const) {
      for (const op of ['DownloadProfile', 'EnableProfile', 'DisableProfile', 'OtherProfileChange'] as const) {
        expect(ownerPolicyFor(status({ status: lifecycle }), op).allowed).toBe(false);
      }
      expect(ownerPolicyFor(status({ status: lifecycle }), 'DeleteProfile')).toMatchObject({ allowed: true, consentRequired: true });
      expect(ownerPolicyFor(status({ status: lifecycle }), 'Read').allowed).toBe(true);
    }
  });
});

describe('authorizeOwnerOperation', () => {
  const claims = { jti: 'j' } as ConsentClaims;
  const verify = jest.fn(async (_token: string, _expected: unknown) => claims);
  const run = (over: Partial<Parameters<typeof authorizeOwnerOperation>[0]>) =>
    authorizeOwnerOperation({ status: parseDeviceStatus(valid), operation: 'EnableProfile', eid, mnoId: 'mno.a', consent: undefined, checkConsent: true, verifier: { verify }, ...over }).then(
      (result) => result,
      (error: { code: string }) => error.code,
    );

  it('refuses suspended devices, demands and verifies consents of owned ones', async () => {
    expect(await run({ status: parseDeviceStatus({ ...valid, status: 'Suspended' }) })).toBe('ERR_DEVICE_SUSPENDED');
    expect(await run({})).toBe('ERR_CONSENT_MISSING');
    expect(await run({ consent: 'token' })).toBe(claims);
    expect(verify).toHaveBeenLastCalledWith('token', expect.objectContaining({ eid, mnoId: 'mno.a', operation: 'EnableProfile' }));
    expect(await run({ checkConsent: false })).toBeUndefined(); // ES3: suspension only
    expect(await run({ status: undefined })).toBeUndefined();
  });
});
