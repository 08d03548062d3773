/**
 * ES5 envelopes over MQTT (docs/topics.md; SGP.02 Annex K scripts carried as hex). The card side is
 * simulator/src/mqtt-es5.ts; these validators are for the SM-SR side (and anyone else reading the topics).
 *
 * ```
 * command      ::= { id, replyTo?, script: hex(AA…) }
 * reply        ::= { id, eid, script: hex(AB…) } | { id, eid, error: { code, message } }
 * notification ::= { eid, seq, tlv: hex(E1…) }
 * presence     ::= { status: online | offline, via? }
 * ```
 */
import { ContractError } from '../errors';
import { parseEs5ReplyTopic } from '../topics';
import { eid, hex, identifier, integer, object, oneOf, optional, string, type Check } from '../schema';

export interface Es5CommandEnvelope {
  id: string;
  replyTo?: string;
  script: string;
}
export interface Es5ReplyEnvelope {
  id: string;
  eid: string;
  script?: string;
  error?: { code: string; message: string };
}
export interface Es5NotificationEnvelope {
  eid: string;
  seq: number;
  tlv: string;
}
export interface PresencePayload {
  status: 'online' | 'offline';
  via?: string;
}

const envelopeId = string({ maxLength: 128, pattern: /^[\x21-\x7E]+$/, expected: 'a printable id' });
const replyTo: Check<string> = (value, path) => {
  if (parseEs5ReplyTopic(value) === undefined) throw new ContractError.InvalidParameter(path, 'a reply topic rsp/v1/euicc/{eid}/es5/reply/{smsr}/{instance}');
  return value as string;
};
/** Script templates: a command script starts `AA`, a response script `AB`, a notification `E1` (SGP.02 Annex K). */
const startingWith = (tag: string, maxBytes: number): Check<string> => (value, path) => {
  const parsed = hex(maxBytes)(value, path);
  if (!parsed.toUpperCase().startsWith(tag)) throw new ContractError.InvalidParameter(path, `hex starting with ${tag}`);
  return parsed;
};

export const es5CommandEnvelope: Check<Es5CommandEnvelope> = object({ id: envelopeId, replyTo: optional(replyTo), script: startingWith('AA', 65536) });

/** A reply carries exactly one of `script` and `error`. */
export const es5ReplyEnvelope: Check<Es5ReplyEnvelope> = (value, path) => {
  const parsed = object({
    id: envelopeId,
    eid,
    script: optional(startingWith('AB', 65536)),
    error: optional(object({ code: identifier, message: string({ maxLength: 1024 }) })),
  })(value, path);
  if ((parsed.script === undefined) === (parsed.error === undefined)) throw new ContractError.ConditionalElementMissing('script|error');
  return parsed;
};

export const es5NotificationEnvelope: Check<Es5NotificationEnvelope> = object({ eid, seq: integer(0, 0xffff), tlv: startingWith('E1', 1024) });

export const presencePayload: Check<PresencePayload> = object({ status: oneOf(['online', 'offline'] as const), via: optional(identifier) });
