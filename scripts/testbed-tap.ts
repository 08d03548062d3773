/**
 * The testbed's view of the broker: ES3, ES5 and notification traffic turned into {@link SequenceHop}s, as the
 * stack's read-only monitor identity receives it (topics of libs/contracts topics.ts, docs/topics.md). A
 * request and its reply are paired by envelope id for the duration. What is shown of an ES5 script is the
 * instruction of each C-APDU (the headers travel in clear under SCP03; the data may not) and the last status
 * word of the answer: nothing of the keys or the encrypted data.
 */
import type { MqttClient } from 'mqtt';
import type { SequenceActor, SequenceHop } from '@rsp/contracts';
import { decodeCommandScript, decodeResponseScript, statusWordOf } from '@rsp/offcard';

/** Short names of the GP / ISO instructions (GP CS §11; the full names are in the hop's detail). */
const INSTRUCTIONS: Record<number, string> = {
  0xa4: 'SELECT',
  0x50: 'INIT-UPD',
  0x82: 'EXT-AUTH',
  0xe2: 'STORE',
  0xe6: 'INSTALL',
  0xe4: 'DELETE',
  0xf2: 'GET-STATUS',
  0xca: 'GET-DATA',
  0xd8: 'PUT-KEY',
};

interface Pending {
  at: number;
  label: string;
  from: SequenceActor;
  to: SequenceActor;
  iface: SequenceHop['interface'];
}

/**
 * `onScript` hears each ES5 command script as it crossed the broker (hex), per EID: what an attacker on the
 * network could record and replay (the scenarios' `replay` step).
 */
export async function observeBroker(
  client: MqttClient,
  hops: SequenceHop[],
  onScript?: (eid: string, scriptHex: string) => void,
  /** On a shared stack: only the traffic of these cards (ES3 calls and notifications that name one of them). */
  only?: () => ReadonlySet<string>,
): Promise<{ close(): Promise<void> }> {
  const pending = new Map<string, Pending>();
  /** ES3 SendData calls in progress: the ES5 scripts they cause carry ES8. */
  let sendData = 0;
  const push = (hop: SequenceHop) => void hops.push(hop);
  const concerned = (body: Record<string, unknown>): boolean => {
    if (!only) return true;
    const text = JSON.stringify(body);
    return [...only()].some((eid) => text.includes(eid));
  };
  const onMessage = (topic: string, payload: Buffer) => {
    const at = Date.now();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    const id = typeof body.id === 'string' ? body.id : undefined;
    const es3 = /^rsp\/v1\/svc\/([^/]+)\/(smsr|smdp)\/[^/]+\/es3\/([A-Za-z]+)$/.exec(topic);
    if (es3) {
      if (!concerned(body)) return;
      const from: SequenceActor = es3[2] === 'smsr' ? 'SM-DP' : 'SM-SR';
      const to: SequenceActor = es3[2] === 'smsr' ? 'SM-SR' : 'SM-DP';
      const label = es3[3] as string;
      if (label === 'SendData') sendData += 1;
      if (id) pending.set(id, { at, label, from, to, iface: 'ES3' });
      push({ from, to, interface: 'ES3', label, kind: id && body.replyTo ? 'request' : 'notification', at, ...(id ? { correlationId: id } : {}) });
      return;
    }
    if (/^rsp\/v1\/reply\//.test(topic) && id) {
      const request = pending.get(id);
      if (!request) return;
      pending.delete(id);
      if (request.label === 'SendData') sendData = Math.max(0, sendData - 1);
      const data = body.data as { header?: { functionExecutionStatus?: { status?: string; statusCodeData?: { subjectCode?: string; reasonCode?: string } } } } | undefined;
      const status = body.ok === false ? `error ${(body.error as { code?: string } | undefined)?.code ?? ''}`.trim() : describeStatus(data?.header?.functionExecutionStatus);
      push({ from: request.to, to: request.from, interface: request.iface, label: request.label, kind: 'response', at, durationMs: at - request.at, correlationId: id, ...(status ? { status } : {}) });
      return;
    }
    const card = /^rsp\/v1\/euicc\/(\d{32})\/es5\/(cmd|notify|reply\/.+)$/.exec(topic);
    if (!card) {
      const notify = /^rsp\/v1\/mno\/[^/]+\/(es2|es4)\/notify$/.exec(topic);
      if (notify && concerned(body)) push({ from: notify[1] === 'es2' ? 'SM-DP' : 'SM-SR', to: 'MNO', interface: notify[1] === 'es2' ? 'ES2' : 'ES4', label: String(body.notification ?? body.type ?? 'notification'), kind: 'notification', at });
      return;
    }
    if (only && !only().has(card[1] as string)) return;
    const iface: SequenceHop['interface'] = sendData > 0 ? 'ES8' : 'ES5';
    if (card[2] === 'cmd' && typeof body.script === 'string') onScript?.(card[1] as string, body.script);
    if (card[2] === 'cmd' && id) {
      const label = scriptLabel(body.script);
      pending.set(id, { at, label, from: 'SM-SR', to: 'eUICC', iface });
      push({ from: 'SM-SR', to: 'eUICC', interface: iface, label, kind: 'request', at, correlationId: id, detail: `EID ${card[1]}` });
    } else if (card[2] === 'notify') {
      push({ from: 'eUICC', to: 'SM-SR', interface: 'ES5', label: 'notification', kind: 'notification', at, detail: `EID ${card[1]}` });
    } else if (id) {
      const request = pending.get(id);
      pending.delete(id);
      const status = typeof body.script === 'string' ? lastStatusWord(body.script) : 'no answer';
      push({ from: 'eUICC', to: 'SM-SR', interface: request?.iface ?? iface, label: 'answer', kind: 'response', at, ...(request ? { durationMs: at - request.at } : {}), status, correlationId: id });
    }
  };
  client.on('message', onMessage);
  await client.subscribeAsync('rsp/v1/#', { qos: 1 });
  return {
    close: async () => {
      client.off('message', onMessage);
    },
  };
}

/** `Executed-Success` or `Failed 8.1.1/3.9`: an SGP.02 FunctionExecutionStatus in one line (also the testbed's statusOf). */
export function describeStatus(status: { status?: string; statusCodeData?: { subjectCode?: string; reasonCode?: string } } | undefined): string | undefined {
  if (!status?.status) return undefined;
  return `${status.status}${status.statusCodeData ? ` ${status.statusCodeData.subjectCode}/${status.statusCodeData.reasonCode}` : ''}`;
}

/** `script: SELECT, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE, STORE DATA ×3` */
function scriptLabel(script: unknown): string {
  if (typeof script !== 'string') return 'script';
  try {
    const names = decodeCommandScript(Buffer.from(script, 'hex')).commands.map((apdu) => INSTRUCTIONS[apdu[1] as number] ?? `INS ${(apdu[1] ?? 0).toString(16).toUpperCase()}`);
    const grouped: string[] = [];
    for (const name of names) {
      const last = grouped.at(-1);
      const match = last ? /^(.*?)(?: ×(\d+))?$/.exec(last) : null;
      if (match && match[1] === name) grouped[grouped.length - 1] = `${name} ×${Number(match[2] ?? 1) + 1}`;
      else grouped.push(name);
    }
    // The session opening (SELECT ISD-R, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE) starts every script: shown once as "SCP03".
    const body = grouped[0] === 'SELECT' && grouped[1] === 'INIT-UPD' && grouped[2] === 'EXT-AUTH' ? ['SCP03', ...grouped.slice(3)] : grouped;
    return body.join(' ');
  } catch {
    return 'script (malformed)';
  }
}

function lastStatusWord(script: string): string {
  try {
    const responses = decodeResponseScript(Buffer.from(script, 'hex')).responses;
    const last = responses.at(-1);
    return last ? statusWordOf(last).toString(16).toUpperCase().padStart(4, '0') : 'empty';
  } catch {
    return 'malformed';
  }
}
