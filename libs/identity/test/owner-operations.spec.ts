/**
 * The one owner-operation table (SGP.02 function → owner-policy operation) the SM-DP, the SM-SR and the
 * registry read, and the API key hash every service stores.
 */
import { describe, expect, it } from '@jest/globals';
import { CONSENT_OPERATIONS, OWNER_OPERATIONS, hashApiKey, isConsentOperation, ownerOperationOf, sameApiKeyHash } from '../src';

/** [interface, SGP.02 function, operation] as the services enforce them (docs/owner-registry.md). */
const TABLE: ReadonlyArray<readonly [string, string, string | undefined]> = [
  ['ES2', 'GetEIS', 'Read'],
  ['ES2', 'DownloadProfile', 'DownloadProfile'],
  ['ES2', 'EnableProfile', 'EnableProfile'],
  ['ES2', 'DisableProfile', 'DisableProfile'],
  ['ES2', 'DeleteProfile', 'DeleteProfile'],
  ['ES2', 'UpdatePolicyRules', 'OtherProfileChange'],
  ['ES2', 'UpdateSubscriptionAddress', 'OtherProfileChange'],
  ['ES3', 'GetEIS', 'Read'],
  ['ES3', 'AuditEIS', 'Read'],
  ['ES3', 'CreateISDP', 'DownloadProfile'],
  ['ES3', 'SendData', 'DownloadProfile'],
  ['ES3', 'ProfileDownloadCompleted', 'DownloadProfile'],
  ['ES3', 'UpdatePolicyRules', 'OtherProfileChange'],
  ['ES3', 'UpdateSubscriptionAddress', 'OtherProfileChange'],
  ['ES3', 'EnableProfile', 'EnableProfile'],
  ['ES3', 'DisableProfile', 'DisableProfile'],
  ['ES3', 'DeleteISDP', 'DeleteProfile'],
  ['ES4', 'GetEIS', 'Read'],
  ['ES4', 'AuditEIS', 'Read'],
  ['ES4', 'EnableProfile', 'EnableProfile'],
  ['ES4', 'DisableProfile', 'DisableProfile'],
  ['ES4', 'DeleteProfile', 'DeleteProfile'],
  ['ES4', 'UpdatePolicyRules', 'OtherProfileChange'],
  ['ES4', 'UpdateSubscriptionAddress', 'OtherProfileChange'],
  ['ES1', 'RegisterEIS', undefined],
  ['ES3', 'DeleteProfile', undefined],
  ['ES4', 'DownloadProfile', undefined],
  ['ES2', 'toString', undefined],
  ['constructor', 'name', undefined],
];

describe('owner-operation table', () => {
  it.each(TABLE)('%s.%s is %s', (iface, fn, operation) => {
    expect(ownerOperationOf(iface, fn)).toBe(operation);
  });

  it('lists exactly the rows above', () => {
    const rows = Object.entries(OWNER_OPERATIONS).flatMap(([iface, table]) => Object.entries(table).map(([fn, op]) => [iface, fn, op]));
    expect(rows).toEqual(TABLE.filter(([, , op]) => op !== undefined));
  });

  it('names every consent operation on some interface', () => {
    const named = new Set(Object.values(OWNER_OPERATIONS).flatMap((table) => Object.values(table)).filter(isConsentOperation));
    expect([...named].sort()).toEqual([...CONSENT_OPERATIONS].sort());
  });
});

describe('API key hash', () => {
  it('is the hex SHA-256 of the UTF-8 key (FIPS 180-2 "abc" vector)', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('compares stored and presented hashes, refusing other lengths', () => {
    const hash = hashApiKey('key-1');
    expect(sameApiKeyHash(hash, hashApiKey('key-1'))).toBe(true);
    expect(sameApiKeyHash(hash, hashApiKey('key-2'))).toBe(false);
    expect(sameApiKeyHash(hash, hash.slice(0, 32))).toBe(false);
  });
});
