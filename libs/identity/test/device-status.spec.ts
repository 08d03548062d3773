import { describe, expect, it, jest } from '@jest/globals';
import { generateEid } from '@rsp/pki';
import { ERROR_STATUS_MAP } from '@rsp/contracts';
import {
  DEVICE_STATUS_FILTER,
  DeviceStatusUnavailable,
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

describe('ownerPolicyFor', () => {
  const status = (over: Partial<DeviceStatus>): DeviceStatus => ({ ...(valid as DeviceStatus), ...over });
  it('no verified status: refused (fail closed) but for reads; unowned: no consent; owned: consent for each consentable operation', () => {
    for (const op of ['DownloadProfile', 'EnableProfile', 'DisableProfile', 'DeleteProfile', 'OtherProfileChange'] as const) {
      expect(ownerPolicyFor(undefined, op)).toEqual({ allowed: false, consentRequired: false, reason: 'status-unknown' });
    }
    expect(ownerPolicyFor(undefined, 'Read')).toEqual({ allowed: true, consentRequired: false, reason: 'read' });
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
  const lookup = (status: DeviceStatus | Error) => ({ resolve: jest.fn(async (_eid: string) => (status instanceof Error ? Promise.reject(status) : status)) });
  const run = (over: Partial<Parameters<typeof authorizeOwnerOperation>[0]>) =>
    authorizeOwnerOperation({ statuses: lookup(parseDeviceStatus(valid)), operation: 'EnableProfile', eid, mnoId: 'mno.a', consent: undefined, checkConsent: true, verifier: { verify }, ...over }).then(
      (result) => result,
      (error: { code: string }) => error.code,
    );

  it('refuses suspended devices, demands and verifies consents of owned ones', async () => {
    expect(await run({ statuses: lookup(parseDeviceStatus({ ...valid, status: 'Suspended' })) })).toBe('ERR_DEVICE_SUSPENDED');
    expect(await run({})).toBe('ERR_CONSENT_MISSING');
    expect(await run({ consent: 'token' })).toBe(claims);
    expect(verify).toHaveBeenLastCalledWith('token', expect.objectContaining({ eid, mnoId: 'mno.a', operation: 'EnableProfile', status: expect.objectContaining({ consentEpoch: 2 }) }));
    expect(await run({ checkConsent: false })).toBeUndefined(); // ES3: the status rules only
    expect(await run({ statuses: lookup(parseDeviceStatus({ ...valid, owned: false })) })).toBeUndefined();
  });

  it('fails closed: no verified status → ERR_DEVICE_STATUS_UNAVAILABLE (8.1.1 / 3.7), even on ES3; a read asks for nothing', async () => {
    const unavailable = lookup(new DeviceStatusUnavailable('registry unreachable'));
    expect(await run({ statuses: unavailable })).toBe('ERR_DEVICE_STATUS_UNAVAILABLE');
    expect(await run({ statuses: unavailable, consent: 'token' })).toBe('ERR_DEVICE_STATUS_UNAVAILABLE');
    expect(await run({ statuses: unavailable, checkConsent: false, operation: 'DownloadProfile' })).toBe('ERR_DEVICE_STATUS_UNAVAILABLE');
    // A lookup that answers nothing is refused all the same.
    expect(await run({ statuses: { resolve: async () => undefined as unknown as DeviceStatus } })).toBe('ERR_DEVICE_STATUS_UNAVAILABLE');
    expect(await run({ statuses: unavailable, operation: 'Read' })).toBeUndefined();
    expect(unavailable.resolve).toHaveBeenCalledTimes(3);
    expect(ERROR_STATUS_MAP.ERR_DEVICE_STATUS_UNAVAILABLE).toMatchObject({ subjectCode: '8.1.1', reasonCode: '3.7' });
  });
});
