/**
 * `npm run bench -- provisioning --timeline`: warm provisionings alone, one after another, as the broker
 * delivers them to a read-only monitor. Each message with its time since the ES2 call, the gap before it,
 * who sent it and what it is (the median over the runs that went the same way, as one run alone moves by
 * milliseconds on this host); then the gaps summed by the sender of the message that ended them: whose work
 * (and hand-offs) the one-at-a-time latency is made of, which sets the p99 at half the peak load
 * (docs/performance.md).
 *
 * The monitor runs on the services' thread, idle between hops when one provisioning runs alone, so its
 * receipt time is the broker's delivery time to within a fraction of a millisecond.
 */
import { TOPIC_ROOT, topicLevel } from '@rsp/contracts';
import { median } from './ab';

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
    if (caller === topicLevel(ids.smdpId)) return { from: 'SM-DP', what: `ES3 ${fn} → SM-SR` };
    if (caller === topicLevel(ids.smsrId)) return { from: 'SM-SR', what: `ES3 ${fn} → SM-DP` };
    return { from: '?', what: `${fn} from ${caller ?? '?'}` };
  }
  if (kind === 'reply') {
    const to = levels[1];
    if (to === topicLevel(ids.smdpId)) return { from: 'SM-SR', what: 'reply → SM-DP' };
    if (to === topicLevel(ids.smsrId)) return { from: 'SM-DP', what: 'reply → SM-SR' };
    return { from: '?', what: `reply → ${to ?? '?'}` };
  }
  if (kind === 'mno') return { from: levels[2] === 'es4' ? 'SM-SR' : 'SM-DP', what: `${(levels[2] ?? '').toUpperCase()} notification → MNO` };
  return { from: '?', what: topic };
}

/** One lone provisioning: what the monitor saw, and the ES2 call's send and answer times (epoch ms). */
export interface TimelineRun {
  messages: readonly WireMessage[];
  call: { sentAt: number; answeredAt: number; status: string };
}

/** A row of the table: a message, or the ES2 answer among them; `gap` is the time since the row before. */
interface Row {
  from: Hop['from'];
  what: string;
  bytes?: number;
  gap: number;
  beforeAnswer: boolean;
}

const ANSWER = '**the ES2 answer → MNO** (HTTP)';

function rowsOf(run: TimelineRun, ids: { smdpId: string; smsrId: string }): Row[] {
  const rows: Row[] = [];
  let previous = run.call.sentAt;
  let answered = false;
  for (const message of run.messages) {
    if (!answered && message.at > run.call.answeredAt) {
      answered = true;
      rows.push({ from: 'SM-DP', what: ANSWER, gap: run.call.answeredAt - previous, beforeAnswer: true });
      previous = run.call.answeredAt;
    }
    rows.push({ ...hopOf(message.topic, ids), bytes: message.bytes, gap: message.at - previous, beforeAnswer: !answered });
    previous = message.at;
  }
  if (!answered) rows.push({ from: 'SM-DP', what: ANSWER, gap: run.call.answeredAt - previous, beforeAnswer: true });
  return rows;
}

/**
 * The timeline's lines. The runs that went message for message the same way (the most common sequence)
 * give each message's median gap, and the table adds those up; then the time to the answer by whose
 * message ended each gap.
 */
export function timelineLines(runs: readonly TimelineRun[], ids: { smdpId: string; smsrId: string }): string[] {
  // Up to the answer: what comes after it (notifications, their confirmations) interleaves differently run by run.
  const bySequence = new Map<string, Row[][]>();
  const after: number[] = [];
  for (const run of runs) {
    const all = rowsOf(run, ids);
    const rows = all.filter((row) => row.beforeAnswer);
    after.push(all.length - rows.length);
    const key = rows.map((row) => `${row.from} ${row.what}`).join('\n');
    bySequence.set(key, [...(bySequence.get(key) ?? []), rows]);
  }
  const same = [...bySequence.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  const answers = runs.map((run) => run.call.answeredAt - run.call.sentAt);
  const statuses = [...new Set(runs.map((run) => run.call.status))].join(', ');
  const template = same[0] ?? [];
  const rows = template.map((row, index) => ({ ...row, gap: median(same.map((rows) => rows[index]?.gap ?? 0)) }));
  const lines = [
    `${runs.length} warm provisionings alone, one after another (${statuses}): the ES2 answer after ${median(answers).toFixed(1)} ms (median; ${Math.min(...answers).toFixed(1)}–${Math.max(...answers).toFixed(1)}), ${template.filter((row) => row.beforeAnswer && row.what !== ANSWER).length} messages before it`,
    `${same.length} of ${runs.length} went message for message the same way up to the answer: the table gives each message's median gap over those, and adds them up`,
    '',
    '| # | at (ms) | gap (ms) | from | message | bytes |',
    '|---:|---:|---:|---|---|---:|',
  ];
  const bySender = new Map<string, { ms: number; hops: number }>();
  let at = 0;
  let number = 0;
  for (const row of rows) {
    at += row.gap;
    const answer = row.what === ANSWER;
    if (!answer) number += 1;
    const sender = answer ? 'SM-DP, the HTTP answer after the last message' : row.from;
    const sum = bySender.get(sender) ?? { ms: 0, hops: 0 };
    bySender.set(sender, { ms: sum.ms + row.gap, hops: sum.hops + 1 });
    lines.push(`| ${answer ? '' : number} | ${at.toFixed(1)} | ${row.gap.toFixed(1)} | ${row.from} | ${row.what} | ${row.bytes ?? ''} |`);
  }
  const afterAnswer = median(after);
  lines.push(`|  |  |  |  | then ${afterAnswer} message${afterAnswer === 1 ? '' : 's'} (median): the notifications and their confirmations |  |`);
  const total = rows.reduce((sum, row) => sum + row.gap, 0);
  lines.push('', 'the time to the answer, by whose message ended each gap (its work, and the hand-offs to and from the broker):', '');
  for (const [from, sum] of [...bySender].sort((a, b) => b[1].ms - a[1].ms)) {
    lines.push(`- ${from}: ${sum.ms.toFixed(1)} ms over ${sum.hops} message${sum.hops === 1 ? '' : 's'} (${((100 * sum.ms) / total).toFixed(0)} %, ${(sum.ms / sum.hops).toFixed(2)} ms each)`);
  }
  return lines;
}
