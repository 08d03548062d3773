/**
 * MQTT topic names shared by every end (docs/topics.md; the card side is simulator/src/mqtt-es5.ts, the
 * broker rules are ./broker-acl.ts). One place builds them, so the scheme and the ACL cannot drift.
 *
 * | topic | direction |
 * |---|---|
 * | `rsp/v1/euicc/{eid}/es5/cmd` | SM-SR → card: `{ id, replyTo, script }` |
 * | `rsp/v1/euicc/{eid}/es5/reply/{smsr}/{instance}` | card → the SM-SR instance that asked |
 * | `rsp/v1/euicc/{eid}/es5/notify` | card → SM-SR: `{ eid, seq, tlv }` |
 * | `rsp/v1/euicc/{eid}/presence` (retained) | card → all |
 * | `rsp/v1/gateway/{gatewayId}/presence` (retained) | gateway → all |
 * | `rsp/v1/svc/{caller}/{pattern}` | service requests; `{caller}` is the sender's service id, which the broker ACL proves |
 * | `rsp/v1/reply/{caller}/{instance}` | answers to service requests, readable only by `{caller}` |
 * | `rsp/v1/mno/{mnoId}/{es2,es4}/notify` | SM-DP / SM-SR → MNO |
 *
 * Every variable level is validated before it is put in a topic: an EID must be a valid EID (digits only),
 * an identifier the id alphabet, so `+`, `#`, `/`, `$` or NUL can never produce a wildcard, an extra level
 * or a system topic. Identifiers are written with {@link topicLevel}: `.` becomes `~`, because a clustered
 * broker's MQTT listener (NATS) maps `/` to `.` and refuses `.` inside a level.
 */
import { isValidEid } from '@rsp/pki';
import { ContractError } from './errors';

export const TOPIC_ROOT = 'rsp/v1';

/** Service, instance, gateway, MNO and group ids: letters, digits and `_ . : -`, 1..128 chars. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
/** A topic level made by {@link topicLevel}: the id alphabet with `~` in place of `.`. */
const LEVEL_PATTERN = /^[A-Za-z0-9_~:-]{1,128}$/;
/** A service pattern: topic levels separated by single `/`, ≤ 200 chars. */
const PATTERN_PATTERN = /^[A-Za-z0-9_~:-]+(?:\/[A-Za-z0-9_~:-]+)*$/;

/** True when `value` is a valid service / instance / gateway / MNO id. */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/**
 * The topic level of an id: `.` → `~` (reversible: `~` is not in the id alphabet). Throws
 * ContractError.InvalidParameter naming `name` for anything outside the id alphabet.
 */
export function topicLevel(id: unknown, name = 'id'): string {
  if (!isId(id)) throw new ContractError.InvalidParameter(name, 'letters, digits, _ . : - (1..128)');
  return id.replaceAll('.', '~');
}

/** The id a topic level stands for, or undefined when the level was not made by {@link topicLevel}. */
export function idOfTopicLevel(level: string): string | undefined {
  return LEVEL_PATTERN.test(level) ? level.replaceAll('~', '.') : undefined;
}

function topicEid(eid: unknown): string {
  if (typeof eid !== 'string' || !isValidEid(eid)) throw new ContractError.InvalidParameter('eid', 'a valid 32-digit EID');
  return eid;
}

/** `rsp/v1/euicc/{eid}/es5/cmd`: ES5 command scripts to one card. */
export function es5CommandTopic(eid: string): string {
  return `${TOPIC_ROOT}/euicc/${topicEid(eid)}/es5/cmd`;
}

/**
 * `rsp/v1/euicc/{eid}/es5/reply/{smsr}/{instance}`: a card's answer to the SM-SR instance that sent the
 * command. The reply lives under the card's own tree (the broker proves which card answered) and names the
 * SM-SR, so only that SM-SR may read it (broker-acl.ts).
 */
export function es5ReplyTopic(eid: string, smsrId: string, instanceId: string): string {
  return `${TOPIC_ROOT}/euicc/${topicEid(eid)}/es5/reply/${topicLevel(smsrId, 'smsrId')}/${topicLevel(instanceId, 'instanceId')}`;
}

/** What the SM-SR instance subscribes for its ES5 replies: every card's replies to it. */
export function es5ReplyFilter(smsrId: string, instanceId: string): string {
  return `${TOPIC_ROOT}/euicc/+/es5/reply/${topicLevel(smsrId, 'smsrId')}/${topicLevel(instanceId, 'instanceId')}`;
}

/** The parts of an ES5 reply topic, or undefined when `topic` is not one. */
export function parseEs5ReplyTopic(topic: unknown): { eid: string; smsrId: string; instanceId: string } | undefined {
  if (typeof topic !== 'string') return undefined;
  const match = /^rsp\/v1\/euicc\/(\d{32})\/es5\/reply\/([^/]+)\/([^/]+)$/.exec(topic);
  if (!match) return undefined;
  const [, eid, smsrLevel, instanceLevel] = match as unknown as [string, string, string, string];
  const smsrId = idOfTopicLevel(smsrLevel);
  const instanceId = idOfTopicLevel(instanceLevel);
  if (!isValidEid(eid) || smsrId === undefined || instanceId === undefined) return undefined;
  return { eid, smsrId, instanceId };
}

/** `rsp/v1/euicc/{eid}/es5/notify`: unsolicited card notifications (E1 TLVs). */
export function es5NotifyTopic(eid: string): string {
  return `${TOPIC_ROOT}/euicc/${topicEid(eid)}/es5/notify`;
}

/** `rsp/v1/euicc/{eid}/presence` (retained, last will `offline`). */
export function presenceTopic(eid: string): string {
  return `${TOPIC_ROOT}/euicc/${topicEid(eid)}/presence`;
}

/** `rsp/v1/gateway/{gatewayId}/presence` (retained, last will `offline`). */
export function gatewayPresenceTopic(gatewayId: string): string {
  return `${TOPIC_ROOT}/gateway/${topicLevel(gatewayId, 'gatewayId')}/presence`;
}

/** `rsp/v1/mno/{mnoId}/{es2|es4}/notify`: the SGP.02 notifications an MNO receives on the bus. */
export function mnoNotifyTopic(mnoId: string, iface: 'es2' | 'es4'): string {
  return `${TOPIC_ROOT}/mno/${topicLevel(mnoId, 'mnoId')}/${iface}/notify`;
}

/** Service pattern of an ES3 function the SM-SR serves: `smsr/{smsrId}/es3/{Function}` (SGP.02 §5.4 names). */
export function es3Pattern(smsrId: string, functionName: string): string {
  return `smsr/${topicLevel(smsrId, 'smsrId')}/es3/${functionLevel(functionName)}`;
}

/** Service pattern of an ES3 notification callback the SM-DP serves: `smdp/{smdpId}/es3/{Function}`. */
export function es3CallbackPattern(smdpId: string, functionName: string): string {
  return `smdp/${topicLevel(smdpId, 'smdpId')}/es3/${functionLevel(functionName)}`;
}

function functionLevel(name: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(name)) throw new ContractError.InvalidParameter('functionName', 'an SGP.02 function name');
  return name;
}

/**
 * True when `pattern` can be topic levels: the level alphabet, no wildcard, `$`, `.` or empty level, ≤ 200
 * chars. With `handler`, it may also end in one `+` level (a handler serving every function under a path,
 * `smsr/{id}/es3/+`).
 */
export function isServicePattern(pattern: unknown, options: { handler?: boolean } = {}): pattern is string {
  if (typeof pattern !== 'string' || pattern.length > 200) return false;
  const levels = options.handler && pattern.endsWith('/+') ? pattern.slice(0, -2) : pattern;
  return PATTERN_PATTERN.test(levels);
}

/** True when `level` is one topic level written by {@link topicLevel}. */
export function isTopicLevel(level: unknown): level is string {
  return typeof level === 'string' && LEVEL_PATTERN.test(level);
}

/** Throws unless `pattern` is topic levels of the topic-level alphabet (no wildcard, no `.`, no empty level). */
export function assertServicePattern(pattern: unknown): asserts pattern is string {
  if (!isServicePattern(pattern)) {
    throw new ContractError.InvalidParameter('pattern', 'levels of letters, digits, _ ~ : - separated by /');
  }
}

/** `rsp/v1/svc/{caller}/{pattern}`: a service request from `caller` (a service id), e.g. an SM-DP's ES3 call. */
export function serviceTopic(caller: string, pattern: string): string {
  return serviceRequestTopic(TOPIC_ROOT, caller, pattern);
}

// Service requests and replies under a prefix (`rsp/v1` unless a deployment sets its own): the one scheme
// the MQTT transport (libs/mqtt-transport requester and server) builds and parses with.

/** `{prefix}/svc/{caller}/{pattern}`: where `caller` publishes requests and events for `pattern`. */
export function serviceRequestTopic(prefix: string, caller: string, pattern: string): string {
  assertServicePattern(pattern);
  return `${prefix}/svc/${topicLevel(caller, 'caller')}/${pattern}`;
}

/** `{prefix}/svc/+/{pattern}`: what a server subscribes for a handler `pattern` (any caller). */
export function serviceRequestFilter(prefix: string, pattern: string): string {
  if (!isServicePattern(pattern, { handler: true })) throw new ContractError.InvalidParameter('pattern', 'topic levels, optionally ending in /+');
  return `${prefix}/svc/+/${pattern}`;
}

/** The caller id and pattern a request topic under `prefix` carries, or undefined when it is not one. */
export function parseServiceRequestTopic(prefix: string, topic: string): { caller: string; pattern: string } | undefined {
  const head = `${prefix}/svc/`;
  if (!topic.startsWith(head)) return undefined;
  const rest = topic.slice(head.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const caller = idOfTopicLevel(rest.slice(0, slash));
  const pattern = rest.slice(slash + 1);
  if (caller === undefined || !isServicePattern(pattern)) return undefined;
  return { caller, pattern };
}

/** `{prefix}/reply/{caller}/{instanceId}`: the one stable reply topic of a requester instance of `caller`. */
export function serviceReplyTopic(prefix: string, caller: string, instanceId: string): string {
  return `${prefix}/reply/${topicLevel(caller, 'caller')}/${topicLevel(instanceId, 'instanceId')}`;
}

/**
 * True when `topic` is a reply topic of `caller` under `prefix`: a server answers only into the reply tree
 * of whoever the request topic proved sent it, so a request cannot aim the answer at someone else.
 */
export function isServiceReplyTopicOf(prefix: string, caller: string, topic: string): boolean {
  const head = `${prefix}/reply/${topicLevel(caller, 'caller')}/`;
  return topic.startsWith(head) && isTopicLevel(topic.slice(head.length));
}

/** Subscription filters (the only places wildcards appear, fixed here rather than built from input). */
export const TOPIC_FILTERS = {
  /** Gateway mode: every card's commands. */
  allCommands: `${TOPIC_ROOT}/euicc/+/es5/cmd`,
  /** SM-SR: every card's notifications (consume through a shared subscription). */
  allNotifications: `${TOPIC_ROOT}/euicc/+/es5/notify`,
  allPresence: `${TOPIC_ROOT}/euicc/+/presence`,
} as const;

/** MQTT 5 shared subscription `$share/{group}/{filter}`, so one instance of the group gets each message. */
export function sharedSubscription(group: string, filter: string): string {
  return `$share/${topicLevel(group, 'group')}/${filter}`;
}

/** What a received card topic is about. */
export interface CardTopic {
  eid: string;
  kind: 'cmd' | 'notify' | 'presence';
}

/** Parses a received card topic (e.g. to route in gateway mode); undefined when it is not one or the EID is invalid. */
export function parseCardTopic(topic: string): CardTopic | undefined {
  const match = /^rsp\/v1\/euicc\/(\d{32})\/(es5\/cmd|es5\/notify|presence)$/.exec(topic);
  if (match === null || match[1] === undefined || match[2] === undefined || !isValidEid(match[1])) return undefined;
  const kind = match[2] === 'presence' ? 'presence' : match[2] === 'es5/cmd' ? 'cmd' : 'notify';
  return { eid: match[1], kind };
}

/**
 * MQTT topic filter matching (MQTT 3.1.1 §4.7): `+` one level, a final `#` the rest (and the parent). With
 * `filter` a subscription, `topic` may itself be a filter: its `+` and `#` then only match the same
 * wildcard in `filter`, which makes this "`filter` covers every topic `topic` can match" — the test a broker
 * applies to a SUBSCRIBE (and Mosquitto's `mosquitto_topic_matches_sub`).
 */
export function topicMatches(filter: string, topic: string): boolean {
  return topicLevelsMatch(filter.split('/'), topic.split('/'));
}

/**
 * {@link topicMatches} on levels already split: a broker checking a connection's granted filters against
 * each of its PUBLISHes splits the filters once, at CONNECT, and each topic once.
 */
export function topicLevelsMatch(f: readonly string[], t: readonly string[]): boolean {
  // §4.7.2: a filter starting with a wildcard does not match topics starting with `$` ($SYS, $share…).
  const filterFirst = f[0] as string;
  if ((t[0] as string).startsWith('$') && (filterFirst.startsWith('+') || filterFirst.startsWith('#'))) return false;
  for (let i = 0; i < f.length; i += 1) {
    const level = f[i] as string;
    if (level === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
    if (level === '+' && t[i] === '#') return false;
  }
  return f.length === t.length;
}
