/**
 * MQTT topic names shared by both ends (docs/topics.md; the card side is simulator/src/mqtt-es5.ts).
 *
 * | topic | direction |
 * |---|---|
 * | `rsp/v1/euicc/{eid}/es5/cmd` | SM-SR → card: `{ id, replyTo, script }` |
 * | `{replyTo}` = `rsp/v1/reply/{instanceId}` | card → SM-SR: `{ id, eid, script }` or `{ id, eid, error }` |
 * | `rsp/v1/euicc/{eid}/es5/notify` | card → SM-SR: `{ eid, seq, tlv }` |
 * | `rsp/v1/euicc/{eid}/presence` (retained) | card → all |
 * | `rsp/v1/gateway/{gatewayId}/presence` (retained) | gateway → all |
 * | `rsp/v1/svc/{pattern}` | service requests (ES3 between SM-DP and SM-SR) |
 *
 * Every variable segment is validated before it is put in a topic: an EID must be a valid EID (digits
 * only), identifiers a restricted alphabet, so `+`, `#`, `/`, `$` or NUL can never produce a wildcard,
 * an extra level or a system topic.
 */
import { isValidEid } from '@rsp/pki';
import { ContractError } from './errors';

export const TOPIC_ROOT = 'rsp/v1';

/**
 * Instance, gateway and group ids: letters, digits and `_ . : -`, 1..128 chars — the same alphabet as
 * libs/mqtt-transport/src/rsp-envelope.ts, so an id valid on the transport side is valid here.
 */
const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
/** A service pattern: levels of the id alphabet separated by single `/` (as the transport's PATTERN_RE), ≤ 200 chars. */
const PATTERN_PATTERN = /^[A-Za-z0-9_.:-]+(?:\/[A-Za-z0-9_.:-]+)*$/;

function topicEid(eid: unknown): string {
  if (typeof eid !== 'string' || !isValidEid(eid)) throw new ContractError.InvalidParameter('eid', 'a valid 32-digit EID');
  return eid;
}

function topicId(value: unknown, name: string): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) throw new ContractError.InvalidParameter(name, 'letters, digits, _ . : - (1..128)');
  return value;
}

/** `rsp/v1/euicc/{eid}/es5/cmd`: ES5 command scripts to one card. */
export function es5CommandTopic(eid: string): string {
  return `${TOPIC_ROOT}/euicc/${topicEid(eid)}/es5/cmd`;
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
  return `${TOPIC_ROOT}/gateway/${topicId(gatewayId, 'gatewayId')}/presence`;
}

/** `rsp/v1/reply/{instanceId}`: where one SM-SR instance receives the card replies it waits for. */
export function replyTopic(instanceId: string): string {
  return `${TOPIC_ROOT}/reply/${topicId(instanceId, 'instanceId')}`;
}

/** `rsp/v1/svc/{pattern}`: a service request pattern, e.g. `smsr/es3/CreateISDP`. */
export function serviceTopic(pattern: string): string {
  if (typeof pattern !== 'string' || pattern.length > 200 || !PATTERN_PATTERN.test(pattern)) {
    throw new ContractError.InvalidParameter('pattern', 'levels of letters, digits, _ . : - separated by /');
  }
  return `${TOPIC_ROOT}/svc/${pattern}`;
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
export function sharedSubscription(group: string, filter: (typeof TOPIC_FILTERS)[keyof typeof TOPIC_FILTERS]): string {
  if (!(Object.values(TOPIC_FILTERS) as string[]).includes(filter)) throw new ContractError.InvalidParameter('filter', 'one of TOPIC_FILTERS');
  return `$share/${topicId(group, 'group')}/${filter}`;
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

/** True when `topic` is a reply topic this project builds (so a card only ever answers to one of those). */
export function isReplyTopic(topic: string): boolean {
  const prefix = `${TOPIC_ROOT}/reply/`;
  return typeof topic === 'string' && topic.startsWith(prefix) && ID_PATTERN.test(topic.slice(prefix.length));
}
