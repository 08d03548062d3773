/**
 * One pipelined PostgreSQL connection per DataSource, for the hot paths' single statements outside a
 * transaction ({@link runStatement} given the DataSource, not a transaction's manager).
 *
 * Why (docs/performance.md, round seven): through TypeORM's pool every statement has a connection to
 * itself, so each one wakes an idle backend, which on this host's scheduler then runs on the core of
 * the service that woke it and preempts it: about one preemption of the services' thread per statement.
 * In pipeline mode (pg 8.23, `pipeline: true`; node-postgres.com "Pipelining") the connection sends
 * each statement as soon as it is asked for, without waiting for the answers before it. Under load the
 * statements of the provisionings in flight reach one backend that is already awake and answers them in
 * turn. Measured in six alternating pairs: PostgreSQL's CPU per provisioning 3.2–3.5 ms against 3.8–4.8,
 * the process's involuntary context switches 14–17 against 19–23, and the rate higher in each pair.
 *
 * What stays as it was:
 * - each statement is its own implicit transaction: pg ends each with a Sync, which commits it or rolls it
 *   back (PostgreSQL 15 §55.2.3, §55.2.4 Pipelining), so a failing statement fails alone and the
 *   statements after it run;
 * - the statements of one caller keep their order (it awaits each, and a connection answers in order);
 * - transactions keep the pool: runStatement given a transaction's manager runs on its connection.
 *
 * The rule that keeps it safe: code holding a transaction open must not wait for a statement sent here,
 * as that statement may queue behind one that waits for the transaction's own row lock. Every
 * transaction here runs its statements on its manager (runWrites, Outbox.enqueue, the stores' units of
 * work), and the SM-SR's registry transactions collect their writes before BEGIN.
 *
 * Behind a pooler that cannot keep prepared statements (`RSP_DATABASE_PREPARED_STATEMENTS=0`), no pipeline
 * is opened: such a pooler may also hand consecutive statements to different server connections.
 */
import type { DataSource } from 'typeorm';

/** A statement as pg takes it: named (prepared once per connection) or unnamed. */
export interface PipelinedQuery {
  name?: string;
  text: string;
  values: unknown[];
}

/** What pg answers. */
export interface PipelinedResult {
  rows: Array<Record<string, unknown>>;
  rowCount: number | null;
}

/** The slice of pg's Client used here. */
export interface PipelineClient {
  query(query: PipelinedQuery): Promise<PipelinedResult>;
  connect(): Promise<void>;
  end(): Promise<void>;
  on(event: 'error' | 'end', listener: () => void): unknown;
}

/** A pipelined connection, opened at its first statement and again after it broke. */
export class StatementPipeline {
  private client: Promise<PipelineClient> | undefined;
  private closed = false;

  constructor(private readonly open: () => PipelineClient) {}

  async query(query: PipelinedQuery): Promise<PipelinedResult> {
    const opening = this.connected();
    const client = await opening;
    try {
      return await client.query(query);
    } catch (error) {
      // FATAL or PANIC ends the session (PostgreSQL 15, "Message Severity Levels"): the backend is gone,
      // though pg reports it to the statement in flight and learns of the closed socket only later. The
      // next statement must not be sent on it in between.
      if (endsSession(error)) this.retire(opening, client);
      throw error;
    }
  }

  /** Ends the connection (statements in flight fail, as the pool's do at close); no new one opens. */
  async close(): Promise<void> {
    this.closed = true;
    const client = await this.client?.catch(() => undefined);
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private connected(): Promise<PipelineClient> {
    if (this.closed) return Promise.reject(new Error('the DataSource was destroyed'));
    if (this.client) return this.client;
    const client = this.open();
    // A broken connection fails the statements it holds (pg rejects each); the next statement opens another.
    const forget = (): void => {
      if (this.client === opening) this.client = undefined;
    };
    client.on('error', forget);
    client.on('end', forget);
    const opening = client.connect().then(
      () => client,
      (error: unknown) => {
        forget();
        throw error;
      },
    );
    this.client = opening;
    return opening;
  }

  /** Stops using a connection whose session ended; its socket is closed by the server, or here. */
  private retire(opening: Promise<PipelineClient>, client: PipelineClient): void {
    if (this.client === opening) this.client = undefined;
    void client.end().catch(() => undefined);
  }
}

/** The severity PostgreSQL gives an error that ends the session (pg's DatabaseError carries it). */
function endsSession(error: unknown): boolean {
  const severity = (error as { severity?: unknown } | null)?.severity;
  return severity === 'FATAL' || severity === 'PANIC';
}

/** What TypeORM's PostgresDriver keeps: pg itself, and the pool whose settings the pipeline reuses. */
interface PostgresDriverInternals {
  postgres: { Client: new (config: Record<string, unknown>) => PipelineClient };
  master: { options: Record<string, unknown> };
}

const pipelines = new WeakMap<DataSource, StatementPipeline>();

/**
 * Gives an initialised PostgreSQL DataSource its pipeline, on the pool's own connection settings (URL,
 * TLS, application name, timeouts), closed by `destroy()` before the pool.
 */
export function attachStatementPipeline(dataSource: DataSource): void {
  const driver = dataSource.driver as unknown as PostgresDriverInternals;
  const pipeline = new StatementPipeline(() => new driver.postgres.Client({ ...driver.master.options, pipeline: true }));
  pipelines.set(dataSource, pipeline);
  const destroy = dataSource.destroy.bind(dataSource);
  dataSource.destroy = async () => {
    await pipeline.close();
    return destroy();
  };
}

/** The DataSource's pipeline: PostgreSQL DataSources opened by initializeDataSource that prepare statements. */
export function statementPipelineOf(dataSource: DataSource): StatementPipeline | undefined {
  return pipelines.get(dataSource);
}
