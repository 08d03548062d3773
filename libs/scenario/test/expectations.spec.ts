/**
 * A step's expectation against what came (libs/scenario expectations.ts): each difference names the field,
 * the status code, the status word or the device event that differed, which is what a report shows.
 */
import { describe, expect, it } from '@jest/globals';
import { differences } from '../src/expectations';

const executed = { header: { functionExecutionStatus: { status: 'Failed', statusCodeData: { subjectCode: '8.1.1', reasonCode: '3.9', message: 'Unknown' } } } };

describe('differences', () => {
  it('names a status that differs, with its codes', () => {
    expect(differences({ status: 'Executed-Success' }, { body: executed })).toEqual(['functionExecutionStatus: expected Executed-Success, got Failed 8.1.1/3.9 (Unknown)']);
    expect(differences({ status: { status: 'Failed', subject: '8.1.1' } }, { body: executed })).toEqual([]);
  });

  it('names a field, the HTTP status, a profile and the status word', () => {
    expect(
      differences(
        { http: 200, fields: { 'a.b': { regex: '^x' } }, profiles: { '8949': 'ENABLED' }, sw: '9000' },
        { body: { a: { b: 'y' } }, http: 403, profiles: {}, sw: '6A82' },
      ),
    ).toEqual(['HTTP status: expected 200, got 403', 'a.b: expected to match /^x/, got "y"', 'profile 8949: expected ENABLED, got absent', 'status word: expected 9000, got 6A82']);
  });

  it('finds device events as an ordered subsequence, other events allowed between them', () => {
    const events = [{ type: 'refresh' }, { type: 'profile-installed', iccid: '1' }, { type: 'es5-script' }, { type: 'profile-switched', iccid: '1' }, { type: 'attach', result: 'ok' }];
    expect(differences({ events: [{ type: 'profile-installed', iccid: '1' }, { type: 'attach', result: 'ok' }] }, { body: {}, events })).toEqual([]);
  });

  it('names the first expected event missing, and what came after the previous one', () => {
    const events = [{ type: 'profile-switched', iccid: '1' }, { type: 'profile-installed', iccid: '1' }];
    expect(differences({ events: [{ type: 'profile-installed' }, { type: 'profile-switched' }] }, { body: {}, events })).toEqual([
      'event 2 {"type":"profile-switched"}: not published after the previous one (then: none)',
    ]);
    expect(differences({ events: [{ type: 'attach', result: { oneOf: ['ok'] } }] }, { body: {}, events: [{ type: 'attach', result: 'mac-failure' }] })).toEqual([
      'event 1 {"type":"attach","result":{"oneOf":["ok"]}}: not published after the previous one (then: attach)',
    ]);
  });
});
