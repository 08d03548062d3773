import { describe, expect, it } from '@jest/globals';
import { RspError } from '@rsp/errors';
import {
  TransportError,
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  isReplyTopicOf,
  parseRequestTopic,
  replyTopic,
  requestFilter,
  requestTopic,
  toReplyError,
  type RequestEnvelope,
} from '../src/index';

class DomainError extends RspError {
  static override readonly code = 'ERR_TEST_DOMAIN';
}

const ID = '2f1c7d0e-8a4b-4c1e-9d3f-0123456789ab';

describe('rsp-envelope codec', () => {
  it('round-trips a request, a success reply and an error reply', () => {
    const request: RequestEnvelope = { v: 1, id: ID, pattern: 'es3/downloadProfile', replyTo: 'rsp/v1/reply/c1', data: { iccid: '8988' }, deadline: 1_900_000_000_000 };
    expect(decodeRequest(encodeRequest(request))).toEqual(request);
    expect(decodeReply(encodeReply({ v: 1, id: ID, ok: true, data: [1, 2] }))).toEqual({ v: 1, id: ID, ok: true, data: [1, 2] });
    const failed = { v: 1 as const, id: ID, ok: false as const, error: { code: 'ERR_X', message: 'no', details: { a: 1 } } };
    expect(decodeReply(encodeReply(failed))).toEqual(failed);
  });

  it('an event has no replyTo; missing data decodes as null', () => {
    expect(decodeRequest(JSON.stringify({ v: 1, id: ID, pattern: 'a/b' }))).toEqual({ v: 1, id: ID, pattern: 'a/b', data: null });
  });

  it.each([
    ['not JSON', '{', TransportError.InvalidEnvelope],
    ['an array', '[]', TransportError.InvalidEnvelope],
    ['version 2', JSON.stringify({ v: 2, id: ID, pattern: 'a' }), TransportError.UnsupportedVersion],
    ['no id', JSON.stringify({ v: 1, pattern: 'a' }), TransportError.InvalidEnvelope],
    ['an id with a slash', JSON.stringify({ v: 1, id: 'a/b', pattern: 'a' }), TransportError.InvalidEnvelope],
    ['a wildcard pattern', JSON.stringify({ v: 1, id: ID, pattern: 'a/#' }), TransportError.InvalidEnvelope],
    ['an empty topic level', JSON.stringify({ v: 1, id: ID, pattern: 'a//b' }), TransportError.InvalidEnvelope],
    ['a wildcard replyTo', JSON.stringify({ v: 1, id: ID, pattern: 'a', replyTo: 'r/+' }), TransportError.InvalidEnvelope],
    ['a string deadline', JSON.stringify({ v: 1, id: ID, pattern: 'a', deadline: 'soon' }), TransportError.InvalidEnvelope],
  ])('refuses a request that is %s', (_what, payload, errorClass) => {
    expect(() => decodeRequest(payload)).toThrow(errorClass);
  });

  it.each([
    ['ok missing', { v: 1, id: ID }],
    ['an error without code', { v: 1, id: ID, ok: false, error: { message: 'x' } }],
    ['a lower-case code', { v: 1, id: ID, ok: false, error: { code: 'err', message: 'x' } }],
  ])('refuses a reply with %s', (_what, reply) => {
    expect(() => decodeReply(JSON.stringify(reply))).toThrow(TransportError.InvalidEnvelope);
  });

  it('maps thrown values to wire errors without leaking internals', () => {
    expect(toReplyError(new DomainError('bad profile'))).toEqual({ code: 'ERR_TEST_DOMAIN', message: 'bad profile' });
    expect(toReplyError({ code: 'ERR_FROM_FILTER', message: 'm' })).toEqual({ code: 'ERR_FROM_FILTER', message: 'm' });
    const system = Object.assign(new Error('ENOENT: /secret/key.pem'), { code: 'ENOENT' });
    expect(toReplyError(system)).toEqual({ code: 'ERR_TRANSPORT_HANDLER_FAILED', message: 'the handler failed; see the server log' });
    expect(toReplyError('boom').code).toBe('ERR_TRANSPORT_HANDLER_FAILED');
  });

  it('builds and checks topics', () => {
    expect(requestTopic('rsp/v1', 'smdp.demo', 'smsr/smsr~demo/es3/GetEIS')).toBe('rsp/v1/svc/smdp~demo/smsr/smsr~demo/es3/GetEIS');
    expect(() => requestTopic('rsp/v1', 'smdp.demo', 'a/+')).toThrow(TransportError.InvalidPattern);
    expect(() => requestTopic('rsp/v1', 'smdp.demo', '$SYS')).toThrow(TransportError.InvalidPattern);
    expect(() => requestTopic('rsp/v1', 'smdp.demo', 'es3.getEIS')).toThrow(TransportError.InvalidPattern); // NATS refuses `.`
    expect(() => requestTopic('rsp/v1', 'a/b', 'x')).toThrow(TransportError.InvalidOptions);
    expect(parseRequestTopic('rsp/v1', 'rsp/v1/svc/smdp~demo/a/b')).toEqual({ caller: 'smdp.demo', pattern: 'a/b' });
    expect(parseRequestTopic('rsp/v1', 'rsp/v1/svc/smdp~demo')).toBeUndefined();
    expect(parseRequestTopic('rsp/v1', 'other/svc/x/a')).toBeUndefined();
    expect(replyTopic('rsp/v1', 'smdp.demo', 'req-1')).toBe('rsp/v1/reply/smdp~demo/req-1');
    expect(isReplyTopicOf('rsp/v1', 'smdp.demo', 'rsp/v1/reply/smdp~demo/req-1')).toBe(true);
    expect(isReplyTopicOf('rsp/v1', 'smdp.demo', 'rsp/v1/reply/smdp~other/req-1')).toBe(false); // someone else's tree
    expect(isReplyTopicOf('rsp/v1', 'smdp.demo', 'rsp/v1/reply/smdp~demo/a/b')).toBe(false);
    expect(isReplyTopicOf('rsp/v1', 'smdp.demo', 'rsp/v1/svc/x')).toBe(false);
  });

  it('lets a handler take every function under a path with one trailing + level, never a request', () => {
    expect(requestFilter('rsp/v1', 'smsr/smsr~demo/es3/+')).toBe('rsp/v1/svc/+/smsr/smsr~demo/es3/+');
    expect(() => requestFilter('rsp/v1', 'smsr/+/es3/GetEIS')).toThrow(TransportError.InvalidPattern);
    expect(() => requestFilter('rsp/v1', 'smsr/#')).toThrow(TransportError.InvalidPattern);
    expect(() => requestTopic('rsp/v1', 'smdp.demo', 'smsr/smsr~demo/es3/+')).toThrow(TransportError.InvalidPattern);
  });
});
