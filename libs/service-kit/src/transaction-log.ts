/**
 * Transactions an MNO can follow (issue 13; docs/services.md "Transactions"): each ES2 call to the SM-DP,
 * or ES4 call to the SM-SR, by its functionCallIdentifier, with its state, the steps it went through (the
 * SM-DP's ES3 calls, the SM-SR's ES5 / ES8 scripts, with their outcome and time), its final
 * functionExecutionStatus, and its hops as {@link SequenceHop}s for the console's diagram. Kept in memory,
 * the most recent 2000 of each interface: a record of what happened, not the state of record (the flow
 * table holds that, and survives a restart; this log does not).
 *
 * Downstream calls are tied to the call holding the card when the service says who does (the SM-SR's card
 * lock: {@link TransactionLog.hold}), else to the MNO's call running for the same EID (the SM-DP runs one
 * download per card): a map lookup or two on the hot path and nothing else.
 *
 * A call made on an MNO's behalf by another service (an SM-DP's ES3 call at the SM-SR, serving the MNO of
 * the profile it downloads) is recorded the same way under that MNO, with its own caller and interface
 * ({@link TransactionLog.aroundOnBehalf}): the MNO can then read the ES5 / ES8 scripts below its ES2 call,
 * which the console splices into the ES2 call's diagram. Lists show the service's own interface unless asked.
 */
import type { ProvenRequester, SequenceActor, SequenceHop, SequenceInterface } from '@rsp/contracts';

export interface TransactionStep {
  step: string;
  state: 'running' | 'done' | 'failed';
  at: number;
  durationMs?: number;
  status?: string;
  /** The downstream call's own id, where it has one (an ES3 call's functionCallIdentifier, under which the SM-SR records it). */
  correlationId?: string;
}

export interface Transaction {
  functionCallIdentifier: string;
  mnoId: string;
  functionName: string;
  /** The interface the call arrived on: the service's MNO-facing one (ES2, ES4), or ES3 for an SM-DP's call on the MNO's behalf. */
  interface: SequenceInterface;
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
  /** The proven caller's id. */
  by: string;
  started: number;
  listeners: Set<Listener>;
}

/** Kept per interface, so that a busy one (an SM-SR's ES3 calls, six per download) never pushes out the MNO's own calls. */
const CAPACITY = 2000;

/** A call the service makes while an MNO's call runs: a step, and a request / response hop pair. */
export interface DownstreamCall {
  /** The step's name, e.g. `es3.CreateISDP` or `es5.STORE DATA`. */
  step: string;
  to: SequenceActor;
  iface: SequenceInterface;
  label: string;
  /** The downstream call's own id (an ES3 call's functionCallIdentifier), under which the callee records it. */
  correlationId?: string;
}

/** Who made a call recorded on an MNO's behalf, and on which interface (default: the MNO, on the service's own). */
interface CallOrigin {
  from?: SequenceActor;
  iface?: SequenceInterface;
  /** The proven caller's id (an SM-DP's), by which {@link TransactionLog.hold} finds the call; default the MNO's. */
  by?: string;
}

/** A call as the service's own code knows it: who made it (proven) and its functionCallIdentifier. */
export interface CallHolder {
  by: string;
  callId: string;
}

export class TransactionLog {
  /** By interface, then by MNO and call id; each map in arrival order (the oldest is evicted first). */
  private readonly byInterface = new Map<SequenceInterface, Map<string, Entry>>();
  private readonly runningByEid = new Map<string, Entry>();
  /** Running calls by their caller's id and call id (what {@link hold} is told). */
  private readonly runningByCaller = new Map<string, Entry>();
  /** Who holds each card now: a recorded call, or null for a call not recorded (whose scripts are no one's). */
  private readonly holders = new Map<string, Entry | null>();

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
    if (requester.kind !== 'proven') return run();
    return this.recorded({ mnoId: requester.id, functionName }, body, run);
  }

  /**
   * Runs a call another service makes on `mnoId`'s behalf (an SM-DP's ES3 call serving that MNO's download),
   * recorded under the MNO with its real caller and interface, when its body has a functionCallIdentifier:
   * the MNO reads it by that id.
   */
  async aroundOnBehalf<T extends { response: unknown }>(
    call: { mnoId: string; functionName: string; from: SequenceActor; iface: SequenceInterface; by: string },
    body: unknown,
    run: () => Promise<T>,
  ): Promise<T> {
    return this.recorded(call, body, run);
  }

  /**
   * A call that throws is recorded as `error` and the error goes on: the record ends, and so does a
   * follower's stream (the frame turns errors into statuses, so this is a bug's trace, not a refusal's).
   */
  private async recorded<T extends { response: unknown }>(call: { mnoId: string; functionName: string } & CallOrigin, body: unknown, run: () => Promise<T>): Promise<T> {
    const { callId, eid } = idsOf(body);
    if (callId === undefined) return run();
    this.start({ ...call, callId, ...(eid !== undefined ? { eid } : {}) });
    try {
      const answer = await run();
      this.finish(call.mnoId, callId, answerStatus(answer));
      return answer;
    } catch (error) {
      this.finish(call.mnoId, callId, 'error');
      throw error;
    }
  }

  /** An MNO's call starts (a repeat of a known call id keeps the first record); `from` / `iface` for a call on its behalf. */
  start(call: { callId: string; mnoId: string; functionName: string; eid?: string } & CallOrigin): void {
    const key = this.key(call.mnoId, call.callId);
    if (this.find(key)) return;
    const now = Date.now();
    const entry: Entry = {
      by: call.by ?? call.mnoId,
      started: now,
      listeners: new Set(),
      transaction: {
        functionCallIdentifier: call.callId,
        mnoId: call.mnoId,
        functionName: call.functionName,
        interface: call.iface ?? this.edge.iface,
        ...(call.eid ? { eid: call.eid } : {}),
        state: 'running',
        startedAt: new Date(now).toISOString(),
        steps: [],
        hops: [{ from: call.from ?? 'MNO', to: this.edge.service, interface: call.iface ?? this.edge.iface, label: call.functionName, kind: 'request', at: now, correlationId: call.callId }],
      },
    };
    const entries = this.entriesOf(entry.transaction.interface);
    entries.set(key, entry);
    if (call.eid) this.runningByEid.set(call.eid, entry);
    this.runningByCaller.set(this.key(call.by ?? call.mnoId, call.callId), entry);
    if (entries.size > CAPACITY) entries.delete(entries.keys().next().value as string);
  }

  /**
   * `call` holds `eid`'s card from now until {@link release}: the card's scripts are its steps, or no one's
   * when it is not recorded. Without a call (the card's own notification), they go to the call running for
   * the EID, as when no one is said to hold it.
   */
  hold(eid: string, call: CallHolder | undefined): void {
    if (call) this.holders.set(eid, this.runningByCaller.get(this.key(call.by, call.callId)) ?? null);
    else this.holders.delete(eid);
  }

  release(eid: string): void {
    this.holders.delete(eid);
  }

  /** Whether an MNO's call on `eid` would take a step now (what a tracer checks before describing its call). */
  running(eid: string): boolean {
    return this.entryFor(eid) !== undefined;
  }

  private entryFor(eid: string): Entry | undefined {
    const held = this.holders.get(eid);
    return held === undefined ? this.runningByEid.get(eid) : (held ?? undefined);
  }

  /**
   * A call leaves for `eid` while an MNO's call on that EID runs; the returned function records its outcome
   * (`Executed-…` or a status word `9000` / `61xx` counts as done, anything else as failed).
   */
  downstream(eid: string | undefined, call: DownstreamCall): (status: string) => void {
    const entry = eid ? this.entryFor(eid) : undefined;
    if (!entry) return () => undefined;
    const at = Date.now();
    const correlation = call.correlationId ? { correlationId: call.correlationId } : {};
    const step: TransactionStep = { step: call.step, state: 'running', at, ...correlation };
    entry.transaction.steps.push(step);
    entry.transaction.hops.push({ from: this.edge.service, to: call.to, interface: call.iface, label: call.label, kind: 'request', at, ...correlation });
    this.emit(entry, 'step', { step: step.step, state: 'running', ...correlation });
    return (status) => {
      const done = Date.now();
      step.state = /^(Executed|9000$|61)/.test(status) ? 'done' : 'failed';
      step.durationMs = done - at;
      step.status = status;
      entry.transaction.hops.push({ from: call.to, to: this.edge.service, interface: call.iface, label: call.label, kind: 'response', at: done, durationMs: done - at, status, ...correlation });
      this.emit(entry, 'step', { step: step.step, state: step.state, status, durationMs: step.durationMs, ...correlation });
    };
  }

  /** The MNO's call answered. */
  finish(mnoId: string, callId: string, status: string): void {
    const entry = this.find(this.key(mnoId, callId));
    if (!entry || entry.transaction.state === 'done') return;
    const now = Date.now();
    entry.transaction.state = 'done';
    entry.transaction.status = status;
    entry.transaction.durationMs = now - entry.started;
    const caller = entry.transaction.hops[0]?.from ?? 'MNO';
    entry.transaction.hops.push({ from: this.edge.service, to: caller, interface: entry.transaction.interface, label: entry.transaction.functionName, kind: 'response', at: now, durationMs: now - entry.started, status, correlationId: callId });
    if (entry.transaction.eid && this.runningByEid.get(entry.transaction.eid) === entry) this.runningByEid.delete(entry.transaction.eid);
    this.runningByCaller.delete(this.key(entry.by, callId));
    this.emit(entry, 'done', { step: 'done', status });
    entry.listeners.clear();
  }

  /** One of `mnoId`'s transactions (another MNO's is not found). */
  get(mnoId: string, callId: string): Transaction | undefined {
    return this.find(this.key(mnoId, callId))?.transaction;
  }

  /** `mnoId`'s transactions, newest first, optionally for one EID or in one state; those of the service's own interface unless `interface` names another. */
  list(mnoId: string, filter: { eid?: string; state?: string; interface?: string; limit?: number } = {}): Transaction[] {
    const out: Transaction[] = [];
    const iface = filter.interface ?? this.edge.iface;
    for (const entry of [...(this.byInterface.get(iface as SequenceInterface)?.values() ?? [])].reverse()) {
      const t = entry.transaction;
      if (t.mnoId !== mnoId || (filter.eid && t.eid !== filter.eid) || (filter.state && t.state !== filter.state)) continue;
      out.push(t);
      if (out.length >= (filter.limit ?? 100)) break;
    }
    return out;
  }

  /** Follows a transaction: past steps first, then live ones; `done` ends it. Returns the unsubscribe. */
  follow(mnoId: string, callId: string, listener: Listener): (() => void) | undefined {
    const entry = this.find(this.key(mnoId, callId));
    if (!entry) return undefined;
    for (const step of entry.transaction.steps) {
      listener('step', { step: step.step, state: step.state, ...(step.status ? { status: step.status } : {}), ...(step.durationMs !== undefined ? { durationMs: step.durationMs } : {}), ...(step.correlationId ? { correlationId: step.correlationId } : {}) });
    }
    if (entry.transaction.state === 'done') {
      listener('done', { step: 'done', status: entry.transaction.status });
      return () => undefined;
    }
    entry.listeners.add(listener);
    return () => entry.listeners.delete(listener);
  }

  private entriesOf(iface: SequenceInterface): Map<string, Entry> {
    let entries = this.byInterface.get(iface);
    if (!entries) this.byInterface.set(iface, (entries = new Map()));
    return entries;
  }

  /** A call by its key, whatever its interface (an MNO's call ids are its own across the service's interfaces). */
  private find(key: string): Entry | undefined {
    for (const entries of this.byInterface.values()) {
      const entry = entries.get(key);
      if (entry) return entry;
    }
    return undefined;
  }

  private emit(entry: Entry, event: 'step' | 'done', data: unknown): void {
    for (const listener of entry.listeners) listener(event, data);
  }
}

/** A request body's functionCallIdentifier and EID, where it has them (any body: the frame judges it after). */
function idsOf(body: unknown): { callId?: string; eid?: string } {
  const request = (body ?? {}) as { header?: { functionCallIdentifier?: unknown }; eid?: unknown };
  const callId = request.header?.functionCallIdentifier;
  return { ...(typeof callId === 'string' ? { callId } : {}), ...(typeof request.eid === 'string' ? { eid: request.eid } : {}) };
}

/** The status line of a frame's answer. */
function answerStatus(answer: { response: unknown }): string {
  return statusLine((answer.response as { header?: { functionExecutionStatus?: Parameters<typeof statusLine>[0] } }).header?.functionExecutionStatus);
}

/** `Executed-Success`, or `Failed 8.2.1/3.7` from a functionExecutionStatus. */
export function statusLine(status: { status?: string; statusCodeData?: { subjectCode?: string; reasonCode?: string } } | undefined): string {
  if (!status?.status) return 'unknown';
  return `${status.status}${status.statusCodeData ? ` ${status.statusCodeData.subjectCode}/${status.statusCodeData.reasonCode}` : ''}`;
}
