/**
 * Transactions an MNO can follow (issue 13; docs/services.md "Transactions"): each ES2 call to the SM-DP,
 * or ES4 call to the SM-SR, by its functionCallIdentifier, with its state, the steps it went through (the
 * SM-DP's ES3 calls, the SM-SR's ES5 / ES8 scripts, with their outcome and time), its final
 * functionExecutionStatus, and its hops as {@link SequenceHop}s for the console's diagram. Kept in memory,
 * the most recent 2000: a record of what happened, not the state of record (the flow table holds that, and
 * survives a restart; this log does not).
 *
 * Downstream calls are tied to the MNO's call running for the same EID (the SM-SR serialises a card's
 * calls, and the SM-DP runs one download per card), which costs a map lookup on the hot path and nothing else.
 */
import type { ProvenRequester, SequenceActor, SequenceHop, SequenceInterface } from '@rsp/contracts';

export interface TransactionStep {
  step: string;
  state: 'running' | 'done' | 'failed';
  at: number;
  durationMs?: number;
  status?: string;
}

export interface Transaction {
  functionCallIdentifier: string;
  mnoId: string;
  functionName: string;
  eid?: string;
  state: 'running' | 'done';
  /** The final functionExecutionStatus, e.g. `Executed-Success` or `Failed 8.2.1/3.7`. */
  status?: string;
  startedAt: string;
  durationMs?: number;
  steps: TransactionStep[];
  hops: SequenceHop[];
}

type Listener = (event: 'step' | 'done', data: unknown) => void;

interface Entry {
  transaction: Transaction;
  started: number;
  listeners: Set<Listener>;
}

const CAPACITY = 2000;

/** A call the service makes while an MNO's call runs: a step, and a request / response hop pair. */
export interface DownstreamCall {
  /** The step's name, e.g. `es3.CreateISDP` or `es5.STORE DATA`. */
  step: string;
  to: SequenceActor;
  iface: SequenceInterface;
  label: string;
}

export class TransactionLog {
  private readonly entries = new Map<string, Entry>();
  private readonly runningByEid = new Map<string, Entry>();

  /** `service`: the SM-DP (ES2) or the SM-SR (ES4), whose MNO-facing interface is `iface`. */
  constructor(private readonly edge: { service: SequenceActor; iface: SequenceInterface }) {}

  private key(mnoId: string, callId: string): string {
    return `${mnoId}\u0000${callId}`;
  }

  /**
   * Runs an MNO's call through the frame (`run`), recorded as a transaction when a proven MNO sent it with a
   * functionCallIdentifier: what the ES2 and ES4 HTTP controllers both do around `frame.call`.
   */
  async around<T extends { response: unknown }>(requester: ProvenRequester, functionName: string, body: unknown, run: () => Promise<T>): Promise<T> {
    const callId = (body as { header?: { functionCallIdentifier?: unknown } } | null)?.header?.functionCallIdentifier;
    if (requester.kind !== 'proven' || typeof callId !== 'string') return run();
    const eid = (body as { eid?: unknown }).eid;
    this.start({ callId, mnoId: requester.id, functionName, ...(typeof eid === 'string' ? { eid } : {}) });
    const answer = await run();
    this.finish(requester.id, callId, statusLine((answer.response as { header?: { functionExecutionStatus?: Parameters<typeof statusLine>[0] } }).header?.functionExecutionStatus));
    return answer;
  }

  /** An MNO's call starts (a repeat of a known call id keeps the first record). */
  start(call: { callId: string; mnoId: string; functionName: string; eid?: string }): void {
    const key = this.key(call.mnoId, call.callId);
    if (this.entries.has(key)) return;
    const now = Date.now();
    const entry: Entry = {
      started: now,
      listeners: new Set(),
      transaction: {
        functionCallIdentifier: call.callId,
        mnoId: call.mnoId,
        functionName: call.functionName,
        ...(call.eid ? { eid: call.eid } : {}),
        state: 'running',
        startedAt: new Date(now).toISOString(),
        steps: [],
        hops: [{ from: 'MNO', to: this.edge.service, interface: this.edge.iface, label: call.functionName, kind: 'request', at: now, correlationId: call.callId }],
      },
    };
    this.entries.set(key, entry);
    if (call.eid) this.runningByEid.set(call.eid, entry);
    if (this.entries.size > CAPACITY) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Whether an MNO's call on `eid` is running (what a tracer checks before describing its call). */
  running(eid: string): boolean {
    return this.runningByEid.has(eid);
  }

  /**
   * A call leaves for `eid` while an MNO's call on that EID runs; the returned function records its outcome
   * (`Executed-…` or a status word `9000` / `61xx` counts as done, anything else as failed).
   */
  downstream(eid: string | undefined, call: DownstreamCall): (status: string) => void {
    const entry = eid ? this.runningByEid.get(eid) : undefined;
    if (!entry) return () => undefined;
    const at = Date.now();
    const step: TransactionStep = { step: call.step, state: 'running', at };
    entry.transaction.steps.push(step);
    entry.transaction.hops.push({ from: this.edge.service, to: call.to, interface: call.iface, label: call.label, kind: 'request', at });
    this.emit(entry, 'step', { step: step.step, state: 'running' });
    return (status) => {
      const done = Date.now();
      step.state = /^(Executed|9000$|61)/.test(status) ? 'done' : 'failed';
      step.durationMs = done - at;
      step.status = status;
      entry.transaction.hops.push({ from: call.to, to: this.edge.service, interface: call.iface, label: call.label, kind: 'response', at: done, durationMs: done - at, status });
      this.emit(entry, 'step', { step: step.step, state: step.state, status, durationMs: step.durationMs });
    };
  }

  /** The MNO's call answered. */
  finish(mnoId: string, callId: string, status: string): void {
    const entry = this.entries.get(this.key(mnoId, callId));
    if (!entry || entry.transaction.state === 'done') return;
    const now = Date.now();
    entry.transaction.state = 'done';
    entry.transaction.status = status;
    entry.transaction.durationMs = now - entry.started;
    entry.transaction.hops.push({ from: this.edge.service, to: 'MNO', interface: this.edge.iface, label: entry.transaction.functionName, kind: 'response', at: now, durationMs: now - entry.started, status, correlationId: callId });
    if (entry.transaction.eid && this.runningByEid.get(entry.transaction.eid) === entry) this.runningByEid.delete(entry.transaction.eid);
    this.emit(entry, 'done', { step: 'done', status });
    entry.listeners.clear();
  }

  /** One of `mnoId`'s transactions (another MNO's is not found). */
  get(mnoId: string, callId: string): Transaction | undefined {
    return this.entries.get(this.key(mnoId, callId))?.transaction;
  }

  /** `mnoId`'s transactions, newest first, optionally for one EID or in one state. */
  list(mnoId: string, filter: { eid?: string; state?: string; limit?: number } = {}): Transaction[] {
    const out: Transaction[] = [];
    for (const entry of [...this.entries.values()].reverse()) {
      const t = entry.transaction;
      if (t.mnoId !== mnoId || (filter.eid && t.eid !== filter.eid) || (filter.state && t.state !== filter.state)) continue;
      out.push(t);
      if (out.length >= (filter.limit ?? 100)) break;
    }
    return out;
  }

  /** Follows a transaction: past steps first, then live ones; `done` ends it. Returns the unsubscribe. */
  follow(mnoId: string, callId: string, listener: Listener): (() => void) | undefined {
    const entry = this.entries.get(this.key(mnoId, callId));
    if (!entry) return undefined;
    for (const step of entry.transaction.steps) listener('step', { step: step.step, state: step.state, ...(step.status ? { status: step.status } : {}) });
    if (entry.transaction.state === 'done') {
      listener('done', { step: 'done', status: entry.transaction.status });
      return () => undefined;
    }
    entry.listeners.add(listener);
    return () => entry.listeners.delete(listener);
  }

  private emit(entry: Entry, event: 'step' | 'done', data: unknown): void {
    for (const listener of entry.listeners) listener(event, data);
  }
}

/** `Executed-Success`, or `Failed 8.2.1/3.7` from a functionExecutionStatus. */
export function statusLine(status: { status?: string; statusCodeData?: { subjectCode?: string; reasonCode?: string } } | undefined): string {
  if (!status?.status) return 'unknown';
  return `${status.status}${status.statusCodeData ? ` ${status.statusCodeData.subjectCode}/${status.statusCodeData.reasonCode}` : ''}`;
}
