import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  ContractError,
  TOPIC_FILTERS,
  es5CommandTopic,
  es5NotifyTopic,
  gatewayPresenceTopic,
  isReplyTopic,
  parseCardTopic,
  presenceTopic,
  replyTopic,
  serviceTopic,
  sharedSubscription,
} from '../src';

interface Vectors {
  eid: string;
  valid: { command: string; notify: string; presence: string; reply: [string, string]; gatewayPresence: [string, string]; service: [string, string] };
  badEids: string[];
  badIds: string[];
  badPatterns: string[];
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/topics.json', import.meta.url), 'utf8')) as Vectors;

describe('topic builders', () => {
  it('build the documented topics', () => {
    expect(es5CommandTopic(vectors.eid)).toBe(vectors.valid.command);
    expect(es5NotifyTopic(vectors.eid)).toBe(vectors.valid.notify);
    expect(presenceTopic(vectors.eid)).toBe(vectors.valid.presence);
    expect(replyTopic(vectors.valid.reply[0])).toBe(vectors.valid.reply[1]);
    expect(gatewayPresenceTopic(vectors.valid.gatewayPresence[0])).toBe(vectors.valid.gatewayPresence[1]);
    expect(serviceTopic(vectors.valid.service[0])).toBe(vectors.valid.service[1]);
  });

  it.each(vectors.badEids)('refuses EID %j (wildcard, level, non-EID)', (eid) => {
    for (const build of [es5CommandTopic, es5NotifyTopic, presenceTopic]) {
      expect(() => build(eid)).toThrow(ContractError.InvalidParameter);
    }
  });

  it.each(vectors.badIds)('refuses instance / gateway id %j', (id) => {
    expect(() => replyTopic(id)).toThrow(ContractError.InvalidParameter);
    expect(() => gatewayPresenceTopic(id)).toThrow(ContractError.InvalidParameter);
    expect(() => sharedSubscription(id, TOPIC_FILTERS.allNotifications)).toThrow(ContractError.InvalidParameter);
  });

  it.each(vectors.badPatterns)('refuses service pattern %j', (pattern) => {
    expect(() => serviceTopic(pattern)).toThrow(ContractError.InvalidParameter);
  });

  it('refuses non-string input at runtime', () => {
    expect(() => es5CommandTopic(42 as unknown as string)).toThrow(ContractError.InvalidParameter);
    expect(() => replyTopic(undefined as unknown as string)).toThrow(ContractError.InvalidParameter);
  });

  it('shared subscriptions only over the fixed filters', () => {
    expect(sharedSubscription('smsr', TOPIC_FILTERS.allNotifications)).toBe('$share/smsr/rsp/v1/euicc/+/es5/notify');
    expect(() => sharedSubscription('smsr', '#' as never)).toThrow(ContractError.InvalidParameter);
  });

  it('parses card topics and refuses invalid EIDs in them', () => {
    expect(parseCardTopic(vectors.valid.command)).toEqual({ eid: vectors.eid, kind: 'cmd' });
    expect(parseCardTopic(vectors.valid.notify)).toEqual({ eid: vectors.eid, kind: 'notify' });
    expect(parseCardTopic(vectors.valid.presence)).toEqual({ eid: vectors.eid, kind: 'presence' });
    expect(parseCardTopic('rsp/v1/euicc/89049032123451234512345678901234/es5/cmd')).toBeUndefined();
    expect(parseCardTopic('rsp/v1/euicc/+/es5/cmd')).toBeUndefined();
    expect(isReplyTopic('rsp/v1/reply/smsr-1')).toBe(true);
    expect(isReplyTopic('rsp/v1/reply/smsr-1/x')).toBe(false);
    expect(isReplyTopic('rsp/v1/euicc/89049032123451234512345678901235/es5/cmd')).toBe(false);
  });
});
