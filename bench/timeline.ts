/**
 * `npm run bench -- provisioning --timeline`: one warm provisioning alone, as the broker delivers it to a
 * read-only monitor. Each message with its time since the ES2 call, the gap before it, who sent it and what
 * it is; then the gaps summed by the sender of the message that ended them: whose work (and hand-offs) the
 * one-at-a-time latency is made of, which sets the p99 at half the peak load (docs/performance.md).
 *
 * The monitor runs on the services' thread, idle between hops when one provisioning runs alone, so its
 * receipt time is the broker's delivery time to within a fraction of a millisecond.
 */
import { TOPIC_ROOT } from '@rsp/contracts';

/** One message as the monitor received it. */
export interface WireMessage {
  /** Epoch ms (performance.timeOrigin + now), comparable across threads. */
  at: number;
  topic: string;
  bytes: number;
}

/** Who sent a message and what it is, read from its topic (libs/contracts/src/topics.ts). */
export interface Hop {
  from: 'SM-DP' | 'SM-SR' | 'eUICC' | '?';
  what: string;
}

/** `smdpId` / `smsrId`: the stack's service ids, to tell an ES3 request from an SM-SR callback and a reply's direction. */
export function hopOf(topic: string, ids: { smdpId: string; smsrId: string }): Hop {
  const levels = topic.slice(TOPIC_ROOT.length + 1).split('/');
  const level = (id: string) => id.replace(/\./g, '~');
  const [kind] = levels;
  if (kind === 'euicc') {
    const channel = levels.slice(2).join('/');
    if (channel === 'es5/cmd') return { from: 'SM-SR', what: 'ES5 script → eUICC' };
    if (channel.startsWith('es5/reply/')) return { from: 'eUICC', what: 'ES5 response → SM-SR' };
    if (channel === 'es5/notify') return { from: 'eUICC', what: 'notification → SM-SR' };
    return { from: 'eUICC', what: channel };
  }
  if (kind === 'svc') {
    const caller = levels[1];
    const fn = levels.at(-1) ?? '?';
    if (caller === level(ids.smdpId)) return { from: 'SM-DP', what: `ES3 ${fn} → SM-SR` };
    if (caller === level(ids.smsrId)) return { from: 'SM-SR', what: `ES3 ${fn} → SM-DP` };
    return { from: '?', what: `${fn} from ${caller ?? '?'}` };
  }
  if (kind === 'reply') {
    const to = levels[1];
    if (to === level(ids.smdpId)) return { from: 'SM-SR', what: 'reply → SM-DP' };
    if (to === level(ids.smsrId)) return { from: 'SM-DP', what: 'reply → SM-SR' };
    return { from: '?', what: `reply → ${to ?? '?'}` };
  }
  if (kind === 'mno') return { from: levels[2] === 'es4' ? 'SM-SR' : 'SM-DP', what: `${(levels[2] ?? '').toUpperCase()} notification → MNO` };
  return { from: '?', what: topic };
}

/** The timeline's lines: a table of the messages up to the answer (and after it), then the gaps by sender. */
export function timelineLines(messages: readonly WireMessage[], call: { sentAt: number; answeredAt: number; status: string }, ids: { smdpId: string; smsrId: string }): string[] {
  const lines = [
    `one warm provisioning alone: ${call.status} after ${(call.answeredAt - call.sentAt).toFixed(1)} ms, ${messages.filter((m) => m.at <= call.answeredAt).length} messages before the answer`,
    '',
    '| # | at (ms) | gap (ms) | from | message | bytes |',
    '|---:|---:|---:|---|---|---:|',
  ];
  const bySender = new Map<string, { ms: number; hops: number }>();
  let previous = call.sentAt;
  let answered = false;
  messages.forEach((message, index) => {
    if (!answered && message.at > call.answeredAt) {
      answered = true;
      lines.push(`| | ${(call.answeredAt - call.sentAt).toFixed(1)} | ${(call.answeredAt - previous).toFixed(1)} | SM-DP | **the ES2 answer → MNO** (HTTP) | |`);
      previous = call.answeredAt;
    }
    const hop = hopOf(message.topic, ids);
    const gap = message.at - previous;
    if (!answered) {
      const sum = bySender.get(hop.from) ?? { ms: 0, hops: 0 };
      bySender.set(hop.from, { ms: sum.ms + gap, hops: sum.hops + 1 });
    }
    lines.push(`| ${index + 1} | ${(message.at - call.sentAt).toFixed(1)} | ${gap.toFixed(1)} | ${hop.from} | ${hop.what} | ${message.bytes} |`);
    previous = message.at;
  });
  const total = call.answeredAt - call.sentAt;
  const lastBefore = [...messages].reverse().find((message) => message.at <= call.answeredAt)?.at ?? call.sentAt;
  lines.push('', 'the time to the answer, by whose message ended each gap (its work, and the hand-offs to and from the broker):', '');
  for (const [from, sum] of [...bySender].sort((a, b) => b[1].ms - a[1].ms)) {
    lines.push(`- ${from}: ${sum.ms.toFixed(1)} ms over ${sum.hops} message${sum.hops === 1 ? '' : 's'} (${((100 * sum.ms) / total).toFixed(0)} %, ${(sum.ms / sum.hops).toFixed(2)} ms each)`);
  }
  lines.push(`- SM-DP, from the last message to the HTTP answer: ${(call.answeredAt - lastBefore).toFixed(1)} ms`);
  return lines;
}
