import { describe, expect, it } from '@jest/globals';
import { RspError } from '@rsp/errors';
import {
  TransportError,
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  isReplyTopic,
  patternFromTopic,
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
    const request: RequestEnvelope = { v: 1, id: ID, pattern: 'es3.downloadProfile', replyTo: 'rsp/v1/reply/c1', data: { iccid: '8988' }, deadline: 1_900_000_000_000 };
    expect(decodeRequest(encodeRequest(request))).toEqual(request);
    expect(decodeReply(encodeReply({ v: 1, id: ID, ok: true, data: [1, 2] }))).toEqual({ v: 1, id: ID, ok: true, data: [1, 2] });
    const failed = { v: 1 as const, id: ID, ok: false as const, error: { code: 'ERR_X', message: 'no', details: { a: 1 } } };
    expect(decodeReply(encodeReply(failed))).toEqual(failed);
  });

  it('an event has no replyTo; missing data decodes as null', () => {
    expect(decodeRequest(JSON.stringify({ v: 1, id: ID, pattern: 'a.b' }))).toEqual({ v: 1, id: ID, pattern: 'a.b', data: null });
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
    expect(requestTopic('rsp/v1', 'es3.downloadProfile')).toBe('rsp/v1/svc/es3.downloadProfile');
    expect(() => requestTopic('rsp/v1', 'a/+')).toThrow(TransportError.InvalidPattern);
    expect(() => requestTopic('rsp/v1', '$SYS')).toThrow(TransportError.InvalidPattern);
    expect(patternFromTopic('rsp/v1', 'rsp/v1/svc/a/b')).toBe('a/b');
    expect(patternFromTopic('rsp/v1', 'other/svc/a')).toBeUndefined();
    expect(isReplyTopic('rsp/v1', 'rsp/v1/reply/c-1')).toBe(true);
    expect(isReplyTopic('rsp/v1', 'rsp/v1/svc/x')).toBe(false);
    expect(isReplyTopic('rsp/v1', 'rsp/v1/reply/a/b')).toBe(false);
  });
});
