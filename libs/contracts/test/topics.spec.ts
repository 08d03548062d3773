import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  ContractError,
  TOPIC_FILTERS,
  es5CommandTopic,
  es5NotifyTopic,
  gatewayPresenceTopic,
  es3CallbackPattern,
  es3Pattern,
  es5ReplyFilter,
  es5ReplyTopic,
  idOfTopicLevel,
  mnoNotifyTopic,
  parseCardTopic,
  parseEs5ReplyTopic,
  presenceTopic,
  serviceTopic,
  sharedSubscription,
  topicLevel,
  topicMatches,
} from '../src';

interface Vectors {
  eid: string;
  valid: {
    command: string;
    notify: string;
    presence: string;
    es5Reply: [[string, string], string];
    es5ReplyFilter: [[string, string], string];
    gatewayPresence: [string, string];
    service: [[string, string], string];
    es3Pattern: [[string, string], string];
    es3CallbackPattern: [[string, string], string];
    mnoNotify: [[string, 'es2' | 'es4'], string];
  };
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
    const { es5Reply, es5ReplyFilter: replyFilter, service, mnoNotify } = vectors.valid;
    expect(es5ReplyTopic(vectors.eid, ...es5Reply[0])).toBe(es5Reply[1]);
    expect(es5ReplyFilter(...replyFilter[0])).toBe(replyFilter[1]);
    expect(topicMatches(replyFilter[1], es5Reply[1])).toBe(true);
    expect(gatewayPresenceTopic(vectors.valid.gatewayPresence[0])).toBe(vectors.valid.gatewayPresence[1]);
    expect(serviceTopic(...service[0])).toBe(service[1]);
    expect(es3Pattern(...vectors.valid.es3Pattern[0])).toBe(vectors.valid.es3Pattern[1]);
    expect(es3CallbackPattern(...vectors.valid.es3CallbackPattern[0])).toBe(vectors.valid.es3CallbackPattern[1]);
    expect(mnoNotifyTopic(...mnoNotify[0])).toBe(mnoNotify[1]);
  });

  it('writes ids as topic levels without `.` (NATS refuses it), reversibly', () => {
    expect(topicLevel('smsr.demo')).toBe('smsr~demo');
    expect(idOfTopicLevel('smsr~demo')).toBe('smsr.demo');
    expect(idOfTopicLevel('a.b')).toBeUndefined();
    // Every built topic (the last element of each vector) is free of `.` and spaces.
    for (const vector of Object.values(vectors.valid)) {
      const topic = Array.isArray(vector) ? vector[vector.length - 1] : vector;
      expect(String(topic)).not.toMatch(/\.| /);
    }
  });

  it.each(vectors.badEids)('refuses EID %j (wildcard, level, non-EID)', (eid) => {
    for (const build of [es5CommandTopic, es5NotifyTopic, presenceTopic]) {
      expect(() => build(eid)).toThrow(ContractError.InvalidParameter);
    }
  });

  it.each(vectors.badIds)('refuses instance / gateway id %j', (id) => {
    expect(() => es5ReplyTopic(vectors.eid, 'smsr.demo', id)).toThrow(ContractError.InvalidParameter);
    expect(() => es5ReplyTopic(vectors.eid, id, 'es5-1')).toThrow(ContractError.InvalidParameter);
    expect(() => serviceTopic(id, 'a/b')).toThrow(ContractError.InvalidParameter);
    expect(() => gatewayPresenceTopic(id)).toThrow(ContractError.InvalidParameter);
    expect(() => sharedSubscription(id, TOPIC_FILTERS.allNotifications)).toThrow(ContractError.InvalidParameter);
  });

  it.each(vectors.badPatterns)('refuses service pattern %j', (pattern) => {
    expect(() => serviceTopic('smdp.demo', pattern)).toThrow(ContractError.InvalidParameter);
  });

  it('refuses non-string input at runtime', () => {
    expect(() => es5CommandTopic(42 as unknown as string)).toThrow(ContractError.InvalidParameter);
    expect(() => topicLevel(undefined)).toThrow(ContractError.InvalidParameter);
  });

  it('shared subscriptions name the group as a topic level', () => {
    expect(sharedSubscription('smsr.demo', TOPIC_FILTERS.allNotifications)).toBe('$share/smsr~demo/rsp/v1/euicc/+/es5/notify');
    expect(() => sharedSubscription('a/b', TOPIC_FILTERS.allNotifications)).toThrow(ContractError.InvalidParameter);
  });

  it('matches topics as MQTT 3.1.1 §4.7 does, a filter covering a filter included', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(topicMatches('a/+/c', 'a/+/c')).toBe(true);
    expect(topicMatches('a/b/c', 'a/+/c')).toBe(false);
    expect(topicMatches('a/+', 'a/#')).toBe(false);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(topicMatches('+/x', '$share/x')).toBe(false);
  });

  it('parses card topics and refuses invalid EIDs in them', () => {
    expect(parseCardTopic(vectors.valid.command)).toEqual({ eid: vectors.eid, kind: 'cmd' });
    expect(parseCardTopic(vectors.valid.notify)).toEqual({ eid: vectors.eid, kind: 'notify' });
    expect(parseCardTopic(vectors.valid.presence)).toEqual({ eid: vectors.eid, kind: 'presence' });
    expect(parseCardTopic('rsp/v1/euicc/89049032123451234512345678901234/es5/cmd')).toBeUndefined();
    expect(parseCardTopic('rsp/v1/euicc/+/es5/cmd')).toBeUndefined();
    expect(parseEs5ReplyTopic(vectors.valid.es5Reply[1])).toEqual({ eid: vectors.eid, smsrId: 'smsr.demo', instanceId: 'es5-1' });
    expect(parseEs5ReplyTopic('rsp/v1/euicc/89049032123451234512345678901235/es5/reply/smsr.demo/x')).toBeUndefined();
    expect(parseEs5ReplyTopic('rsp/v1/euicc/89049032123451234512345678901234/es5/reply/smsr~demo/x')).toBeUndefined();
    expect(parseEs5ReplyTopic('rsp/v1/reply/smsr-1')).toBeUndefined();
  });
});

describe('service requests and replies under a prefix (the transport builds only with these)', () => {
  it('builds and parses a request topic both ways, the caller id written with ~', async () => {
    const { serviceRequestTopic, parseServiceRequestTopic, serviceRequestFilter } = await import('../src');
    const topic = serviceRequestTopic('rsp/v1', 'smdp.demo', 'smsr/smsr~demo/es3/GetEIS');
    expect(topic).toBe('rsp/v1/svc/smdp~demo/smsr/smsr~demo/es3/GetEIS');
    expect(parseServiceRequestTopic('rsp/v1', topic)).toEqual({ caller: 'smdp.demo', pattern: 'smsr/smsr~demo/es3/GetEIS' });
    expect(serviceRequestFilter('rsp/v1', 'smsr/smsr~demo/es3/+')).toBe('rsp/v1/svc/+/smsr/smsr~demo/es3/+');
  });

  it('refuses what could widen a subscription or forge a level', async () => {
    const { serviceRequestTopic, parseServiceRequestTopic, serviceRequestFilter, isServicePattern } = await import('../src');
    for (const pattern of ['a/+', 'a/#', 'a//b', 'a.b', '$SYS/x', '', 'x'.repeat(201)]) {
      expect(isServicePattern(pattern)).toBe(false);
      expect(() => serviceRequestTopic('rsp/v1', 'smdp', pattern)).toThrow();
    }
    expect(() => serviceRequestFilter('rsp/v1', 'a/#')).toThrow();
    expect(parseServiceRequestTopic('rsp/v1', 'rsp/v1/svc/smdp.demo/x')).toBeUndefined();
    expect(parseServiceRequestTopic('rsp/v1', 'rsp/v1/svc/smdp/a/+')).toBeUndefined();
    expect(parseServiceRequestTopic('rsp/v2', 'rsp/v1/svc/smdp/x')).toBeUndefined();
  });

  it('knows a caller’s reply tree and nothing else', async () => {
    const { serviceReplyTopic, isServiceReplyTopicOf } = await import('../src');
    const reply = serviceReplyTopic('rsp/v1', 'smdp.demo', 'i-1');
    expect(reply).toBe('rsp/v1/reply/smdp~demo/i-1');
    expect(isServiceReplyTopicOf('rsp/v1', 'smdp.demo', reply)).toBe(true);
    expect(isServiceReplyTopicOf('rsp/v1', 'smdp.other', reply)).toBe(false);
    expect(isServiceReplyTopicOf('rsp/v1', 'smdp.demo', `${reply}/extra`)).toBe(false);
    expect(isServiceReplyTopicOf('rsp/v1', 'smdp.demo', 'rsp/v1/reply/smdp~demo/+')).toBe(false);
  });
});
