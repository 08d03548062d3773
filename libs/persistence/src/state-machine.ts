/**
 * Persisted state machines: a flow is a table of named steps (node-oidc-provider style), each citing
 * its spec clause. The transaction row is rewritten after every step (one UPDATE; a step declared
 * `checkpoint: false` rides on the next one's, and the last step's carries the final status), so after
 * a crash (even `kill -9`) {@link StateMachine.resume} continues at the first step whose output was not
 * yet persisted: completed steps never run again; the interrupted step runs again (`info.repeat`), so
 * steps must be safe to repeat (idempotent or checked against their own side effects).
 *
 * Secrets: the context is stored as JSON in clear. Callers put secrets (keys, PINs, profile data
 * protection keys) into it only sealed with `SecretBox` ("secrets encrypted at rest").
 */
import { randomUUID } from 'node:crypto';
import { isRspError } from '@rsp/errors';
import { In, MoreThanOrEqual, type DataSource } from 'typeorm';
import { TransactionRecord } from './entities/transaction-record.entity';
import { PersistenceError } from './errors';
import { runWritesWithLast } from './atomic-writes';
import { insertRow, updateRows, updateRowsStatement, type WriteStatement } from './sql';

/** JSON-serialisable flow context. */
export type FlowContext = Record<string, unknown>;

/** What a step sees besides the context. */
export interface StepInfo {
  readonly transactionId: string;
  readonly flow: string;
  readonly step: string;
  /** 1 on the first run of the flow, incremented by every resume. */
  readonly attempt: number;
  /**
   * True when a resumed flow runs a step that may already have run, wholly or partly, before the crash:
   * the step the row points at and every step after it up to the first one that checkpoints. Such a step
   * checks its own side effects first.
   */
  readonly repeat: boolean;
  /**
   * Hands over a write a store built (not yet run) to commit with this step's checkpoint: on PostgreSQL in
   * the same statement, so the step's own effect costs no round trip (atomic-writes.ts
   * runWritesWithLast). A step with `checkpoint: false` passes its writes on to the next checkpoint; a
   * step that throws drops its own. Only for effects the step's repeat writes again after a crash.
   */
  readonly commitWithCheckpoint: (write: WriteStatement) => void;
}

/** One named step. Its returned object is merged into the context and persisted before the next step. */
export interface FlowStep<C extends FlowContext = FlowContext> {
  readonly name: string;
  /** Clause implemented, e.g. 'SGP.02 §3.1.1 step 4'. */
  readonly spec?: string;
  /**
   * `false`: the step's output is not written on its own but with the next step's (one statement less).
   * Only for steps without side effects (reads, checks), which simply run again after a crash, or whose
   * repeat (`info.repeat`) checks its side effects first.
   */
  readonly checkpoint?: boolean;
  run(context: Readonly<C>, info: StepInfo): Promise<Partial<C> | void> | Partial<C> | void;
}

/** A flow: ordered steps and an optional validityPeriod (ms from start) after which it expires. */
export interface FlowDefinition<C extends FlowContext = FlowContext> {
  readonly name: string;
  readonly steps: ReadonlyArray<FlowStep<C>>;
  readonly validityPeriodMs?: number;
  /**
   * Context additions persisted with the failed row when a step throws an RspError (e.g. the SGP.02
   * status of the failure and compensation hints), so a restarted process can report and compensate
   * without memory.
   */
  onFailure?(error: Error & { code: string }, context: Readonly<C>, info: StepInfo): Partial<C> | void;
}

/** Options of {@link StateMachine}. */
export interface StateMachineOptions {
  readonly now?: () => Date;
}

/** Code persisted when a flow's deadline passes before it succeeds. */
export const EXPIRED_CODE = 'ERR_PERSISTENCE_TRANSACTION_EXPIRED';

/** Runs and resumes flows over a DataSource with `TransactionRecord` among its entities. */
export class StateMachine {
  private readonly flows = new Map<string, FlowDefinition>();
  private readonly now: () => Date;

  constructor(
    private readonly dataSource: DataSource,
    flows: ReadonlyArray<FlowDefinition<FlowContext>>,
    options: StateMachineOptions = {},
  ) {
    for (const flow of flows) this.flows.set(flow.name, flow);
    this.now = options.now ?? (() => new Date());
  }

  private get repository() {
    return this.dataSource.getRepository(TransactionRecord);
  }

  /**
   * Persists a new transaction (status running, step 0) and drives it until it succeeds, fails,
   * expires, or a non-RspError escapes a step (then the row stays running for {@link resume}, and
   * the error is rethrown).
   */
  async start<C extends FlowContext>(
    flowName: string,
    input: C,
    options: { id?: string; validityPeriodMs?: number } = {},
  ): Promise<TransactionRecord> {
    const flow = this.flow(flowName);
    const now = this.now();
    const validity = options.validityPeriodMs ?? flow.validityPeriodMs;
    const record = this.repository.create({
      id: options.id ?? randomUUID(),
      flow: flow.name,
      stepIndex: 0,
      stepName: flow.steps[0]?.name ?? null,
      status: 'running',
      context: input,
      attempts: 1,
      errorCode: null,
      errorMessage: null,
      deadline: validity === undefined ? null : new Date(now.getTime() + validity),
      createdAt: now,
      updatedAt: now,
    });
    await insertRow(this.dataSource, TransactionRecord, record);
    return this.drive(flow, record);
  }

  /** Continues a running transaction from its last persisted step; a finished one is returned as is. */
  async resume(id: string): Promise<TransactionRecord> {
    const record = await this.get(id);
    if (record.status !== 'running') return record;
    const attempts = record.attempts + 1;
    const claimed = await this.repository.update(
      { id, attempts: record.attempts, stepIndex: record.stepIndex, status: 'running' },
      { attempts, updatedAt: this.now() },
    );
    // Another worker resumed or advanced it meanwhile: report its state rather than run steps twice.
    if (!claimed.affected) return this.get(id);
    record.attempts = attempts;
    return this.drive(this.flow(record.flow), record);
  }

  /** The stored transaction; throws {@link PersistenceError.NotFound}. */
  async get(id: string): Promise<TransactionRecord> {
    const record = await this.repository.findOneBy({ id });
    if (!record) throw new PersistenceError.NotFound(`no transaction ${id}`);
    return record;
  }

  /** Running transactions of `flow`, oldest first: at start-up (one instance per database) every one was interrupted. */
  findRunning(flow: string, limit = 1000): Promise<TransactionRecord[]> {
    return this.repository.find({ where: { flow, status: 'running' }, order: { updatedAt: 'ASC' }, take: limit });
  }

  /** Transactions of `flow` that ended with one of `statuses` since `since`, oldest first (crash clean-up). */
  findEnded(flow: string, statuses: ReadonlyArray<'failed' | 'expired' | 'succeeded'>, since: Date, limit = 1000): Promise<TransactionRecord[]> {
    return this.repository.find({ where: { flow, status: In([...statuses]), updatedAt: MoreThanOrEqual(since) }, order: { updatedAt: 'ASC' }, take: limit });
  }

  /** Merges `patch` into the stored context of a finished transaction (e.g. "compensated"). */
  async annotate(id: string, patch: FlowContext): Promise<void> {
    const record = await this.get(id);
    if (record.status === 'running') throw new PersistenceError.InvalidOptions(`transaction ${id} is still running`);
    await updateRows(this.dataSource, TransactionRecord, { id, status: record.status }, { context: { ...record.context, ...patch } });
  }

  /** Running transactions not updated since `before` (candidates for resume after a crash). */
  findStale(before: Date, limit = 100): Promise<TransactionRecord[]> {
    return this.repository
      .createQueryBuilder('t')
      .where('t.status = :status', { status: 'running' })
      .andWhere('t.updatedAt < :before', { before: this.dataSource.driver.preparePersistentValue(before, this.updatedAtColumn()) })
      .orderBy('t.updatedAt', 'ASC')
      .take(limit)
      .getMany();
  }

  private async drive(flow: FlowDefinition, record: TransactionRecord): Promise<TransactionRecord> {
    /** The step index the stored row holds (steps after it may have run only in memory). */
    let persisted = record.stepIndex;
    // A resumed run: every step up to the first checkpointing one may have run before the crash.
    let repeating = record.attempts > 1;
    /** Writes that completed steps handed over (commitWithCheckpoint), for the next write of the row. */
    let pending: WriteStatement[] = [];
    /** The row's conditional UPDATE (on the step it holds: another worker may have advanced it), with `pending`. */
    const writeRow = (changes: Partial<TransactionRecord>): Promise<number> => {
      const writes = pending;
      pending = [];
      const row = updateRowsStatement(this.dataSource, TransactionRecord, { id: record.id, stepIndex: persisted, status: 'running' }, changes);
      return runWritesWithLast(this.dataSource, writes, row);
    };
    const finish = async (changes: Partial<TransactionRecord>): Promise<TransactionRecord> => {
      const all = { stepIndex: record.stepIndex, stepName: record.stepName, ...changes, updatedAt: this.now() };
      await writeRow(all);
      return Object.assign(record, all);
    };
    while (record.status === 'running') {
      if (record.deadline && this.now().getTime() >= record.deadline.getTime()) {
        return finish({ status: 'expired', errorCode: EXPIRED_CODE, errorMessage: 'validity period elapsed' });
      }
      const step = flow.steps[record.stepIndex];
      if (!step) return finish({ status: 'succeeded', stepName: null });
      let output: Partial<FlowContext> | void;
      const handed: WriteStatement[] = [];
      const info: StepInfo = {
        transactionId: record.id,
        flow: flow.name,
        step: step.name,
        attempt: record.attempts,
        repeat: repeating,
        commitWithCheckpoint: (write) => void handed.push(write),
      };
      if (step.checkpoint !== false) repeating = false;
      try {
        output = await step.run(record.context, info);
        pending.push(...handed);
      } catch (error) {
        if (!isRspError(error)) throw error; // a crash: the row stays running at its persisted step, for resume()
        const failureContext = flow.onFailure?.(error, record.context, info) ?? {};
        return finish({ status: 'failed', errorCode: error.code, errorMessage: error.message, context: { ...record.context, ...failureContext } });
      }
      const next = record.stepIndex + 1;
      const last = flow.steps[next] === undefined;
      const changes: Partial<TransactionRecord> = {
        stepIndex: next,
        stepName: flow.steps[next]?.name ?? null,
        context: { ...record.context, ...(output ?? {}) },
        updatedAt: this.now(),
        // The last step's write is also the end of the flow (no separate "succeeded" UPDATE).
        ...(last ? { status: 'succeeded' as const } : {}),
      };
      if (step.checkpoint === false && !last) {
        Object.assign(record, changes); // written with the next step's output
        continue;
      }
      // Conditional on the step the row holds: if another worker advanced it, stop and report its state.
      // (updateRowsStatement: the same UPDATE without the query builder, as it runs after every step.)
      const written = await writeRow(changes);
      if (!written) return this.get(record.id);
      Object.assign(record, changes);
      persisted = next;
    }
    return record;
  }

  private flow(name: string): FlowDefinition {
    const flow = this.flows.get(name);
    if (!flow) throw new PersistenceError.UnknownFlow(`no flow named "${name}"`);
    return flow;
  }

  private updatedAtColumn() {
    const column = this.dataSource.getMetadata(TransactionRecord).findColumnWithPropertyName('updatedAt');
    if (!column) throw new PersistenceError.InvalidOptions('TransactionRecord is not registered on this DataSource');
    return column;
  }
}
