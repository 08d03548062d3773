/**
 * The v1 service-request envelope and reply carried as JSON MQTT payloads, and the topic names.
 * Pure: no MQTT, no NestJS. The correlation id lives in the envelope (not only in MQTT 5 properties)
 * so the protocol works unchanged on MQTT 3.1.1 brokers such as the embedded aedes.
 */
import {
  isId,
  isServicePattern,
  isServiceReplyTopicOf,
  parseServiceRequestTopic,
  serviceReplyTopic,
  serviceRequestFilter,
  serviceRequestTopic,
  topicLevel,
} from '@rsp/contracts';
import { RspError } from '@rsp/errors';
import { TransportError } from './errors';

/** Protocol version carried in every envelope and reply. */
export const ENVELOPE_VERSION = 1;
/** Default topic prefix: requests on `rsp/v1/svc/{caller}/{pattern}`, replies on `rsp/v1/reply/{caller}/{instance}`. */
export const DEFAULT_TOPIC_PREFIX = 'rsp/v1';

/** A request (with `replyTo`) or an event (without). */
export interface RequestEnvelope {
  v: 1;
  /** Correlation id (a UUID from the requester); also the key of the server's duplicate cache. */
  id: string;
  pattern: string;
  /** Topic the reply goes to; absent for events. Must lie in the caller's tree `{prefix}/reply/{caller}/`. */
  replyTo?: string;
  data: unknown;
  /** Epoch milliseconds after which the server answers ERR_TRANSPORT_EXPIRED without running the handler. */
  deadline?: number;
}

/** The error part of a failed reply: a stable code and a message, never a stack trace. */
export interface ReplyErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export type ReplyEnvelope = { v: 1; id: string; ok: true; data: unknown } | { v: 1; id: string; ok: false; error: ReplyErrorBody };

// The topic scheme (levels, patterns, request and reply topics) lives in @rsp/contracts topics.ts, the one
// place both ends and the broker ACL build it from; here it only gets the transport's typed errors.
const CODE_RE = /^[A-Z][A-Z0-9_]{0,127}$/;

/** Throws TransportError.InvalidPattern unless `pattern` can be used as topic levels. */
export function assertPattern(pattern: unknown): asserts pattern is string {
  if (!isServicePattern(pattern)) {
    throw new TransportError.InvalidPattern(`message pattern ${JSON.stringify(pattern)} is not a valid topic path`);
  }
}

/** As {@link assertPattern}, plus a trailing `+` level for a handler that serves every function under a path. */
export function assertHandlerPattern(pattern: unknown): asserts pattern is string {
  if (!isServicePattern(pattern, { handler: true })) {
    throw new TransportError.InvalidPattern(`handler pattern ${JSON.stringify(pattern)} is not a valid topic path`);
  }
}

/** Throws TransportError.InvalidOptions unless `prefix` is a wildcard-free topic path. */
export function assertTopicPrefix(prefix: string): void {
  if (!isServicePattern(prefix)) throw new TransportError.InvalidOptions(`topic prefix ${JSON.stringify(prefix)} is invalid`);
}

/** The topic level of a caller / instance id (`.` → `~`); throws TransportError.InvalidOptions for a bad id. */
export function idLevel(id: string, name: string): string {
  if (!isId(id)) throw new TransportError.InvalidOptions(`${name} must be 1–128 letters, digits, _ . : -`);
  return topicLevel(id, name);
}

/**
 * `{prefix}/svc/{caller}/{pattern}`: where `caller` (a service id) publishes requests and events for
 * `pattern`. The broker lets a principal publish only under its own caller level (broker-acl.ts), so the
 * server learns who sent a request from the topic, never from the payload.
 */
export function requestTopic(prefix: string, caller: string, pattern: string): string {
  assertPattern(pattern);
  idLevel(caller, 'caller');
  return serviceRequestTopic(prefix, caller, pattern);
}

/** `{prefix}/svc/+/{pattern}`: what a server subscribes for `pattern` (any caller). */
export function requestFilter(prefix: string, pattern: string): string {
  assertHandlerPattern(pattern);
  return serviceRequestFilter(prefix, pattern);
}

/** The caller and pattern a request topic carries, or undefined when `topic` is not one under `prefix`. */
export function parseRequestTopic(prefix: string, topic: string): { caller: string; pattern: string } | undefined {
  return parseServiceRequestTopic(prefix, topic);
}

/** `{prefix}/reply/{caller}/{instanceId}`: the one stable reply topic of a requester instance of `caller`. */
export function replyTopic(prefix: string, caller: string, instanceId: string): string {
  idLevel(caller, 'caller');
  idLevel(instanceId, 'instanceId');
  return serviceReplyTopic(prefix, caller, instanceId);
}

/** True when `topic` is a reply topic of `caller` under `prefix` (a server answers only there). */
export function isReplyTopicOf(prefix: string, caller: string, topic: string): boolean {
  idLevel(caller, 'caller');
  return isServiceReplyTopicOf(prefix, caller, topic);
}

export function encodeRequest(envelope: RequestEnvelope): Buffer {
  return Buffer.from(JSON.stringify(envelope));
}

export function encodeReply(reply: ReplyEnvelope): Buffer {
  return Buffer.from(JSON.stringify(reply));
}

/** A failed reply for `id` built from any thrown value (only RspError-like codes pass through). */
export function errorReply(id: string, error: unknown): ReplyEnvelope {
  return { v: ENVELOPE_VERSION, id, ok: false, error: toReplyError(error) };
}

/**
 * Maps a thrown value to the wire error: an RspError (or any `{ code: 'ERR_…', message }` object, such
 * as the one the RSP exception filter produces) keeps its code and message; anything else becomes
 * ERR_TRANSPORT_HANDLER_FAILED with a fixed message, so internals never leak. Stacks are never sent.
 */
export function toReplyError(error: unknown): ReplyErrorBody {
  if (typeof error === 'object' && error !== null) {
    const { code, message, details } = error as { code?: unknown; message?: unknown; details?: unknown };
    // An Error passes only when it is RspError-shaped (its class declares the code): Node system
    // errors (ENOENT, ECONNREFUSED …) carry paths and hosts in their message and must not leak.
    const rspShaped = !(error instanceof Error) || isRspShaped(error);
    if (rspShaped && typeof code === 'string' && CODE_RE.test(code) && typeof message === 'string') {
      const body: ReplyErrorBody = { code, message };
      if (details !== undefined) body.details = details;
      return body;
    }
  }
  return { code: TransportError.HandlerFailed.code, message: 'the handler failed; see the server log' };
}

/** True for an RspError, also across duplicated module instances (the class carries the static code). */
export function isRspShaped(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return error instanceof RspError || (typeof code === 'string' && (error.constructor as { code?: unknown }).code !== undefined);
}

/** Parses and validates a request or event payload; throws TransportError.* on anything malformed. */
export function decodeRequest(payload: Buffer | string): RequestEnvelope {
  const obj = parseObject(payload);
  checkVersionAndId(obj);
  assertPatternField(obj.pattern);
  if (obj.replyTo !== undefined && (typeof obj.replyTo !== 'string' || obj.replyTo.length === 0 || /[+#]/.test(obj.replyTo))) {
    throw new TransportError.InvalidEnvelope('envelope replyTo must be a wildcard-free topic');
  }
  if (obj.deadline !== undefined && (typeof obj.deadline !== 'number' || !Number.isFinite(obj.deadline))) {
    throw new TransportError.InvalidEnvelope('envelope deadline must be epoch milliseconds');
  }
  const envelope: RequestEnvelope = { v: ENVELOPE_VERSION, id: obj.id as string, pattern: obj.pattern as string, data: obj.data ?? null };
  if (obj.replyTo !== undefined) envelope.replyTo = obj.replyTo as string;
  if (obj.deadline !== undefined) envelope.deadline = obj.deadline as number;
  return envelope;
}

/** Parses and validates a reply payload; throws TransportError.* on anything malformed. */
export function decodeReply(payload: Buffer | string): ReplyEnvelope {
  const obj = parseObject(payload);
  checkVersionAndId(obj);
  const id = obj.id as string;
  if (obj.ok === true) return { v: ENVELOPE_VERSION, id, ok: true, data: obj.data ?? null };
  if (obj.ok !== false) throw new TransportError.InvalidEnvelope('reply ok must be true or false');
  const error = obj.error as Record<string, unknown> | undefined;
  if (typeof error !== 'object' || error === null || typeof error.code !== 'string' || !CODE_RE.test(error.code) || typeof error.message !== 'string') {
    throw new TransportError.InvalidEnvelope('failed reply needs error { code: ERR_…, message }');
  }
  const body: ReplyErrorBody = { code: error.code, message: error.message };
  if (error.details !== undefined) body.details = error.details;
  return { v: ENVELOPE_VERSION, id, ok: false, error: body };
}

function parseObject(payload: Buffer | string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (cause) {
    throw new TransportError.InvalidEnvelope('envelope is not JSON', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TransportError.InvalidEnvelope('envelope must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function checkVersionAndId(obj: Record<string, unknown>): void {
  if (obj.v !== ENVELOPE_VERSION) throw new TransportError.UnsupportedVersion(`envelope version ${JSON.stringify(obj.v)} is not 1`);
  if (!isId(obj.id)) throw new TransportError.InvalidEnvelope('envelope id must be a 1–128 character token');
}

function assertPatternField(pattern: unknown): void {
  try {
    assertPattern(pattern);
  } catch (cause) {
    throw new TransportError.InvalidEnvelope('envelope pattern is invalid', { cause });
  }
}
