import { ServiceError } from '@stratus/core';
import {
  completeJob,
  failJob,
  type Job,
  type JobChange,
  type JobError,
  type JobMetrics,
  type JobStatus,
  type NewJob,
  newJob,
  recordMetrics,
  startJob,
} from '../domain/job.js';
import type { Database, SqlExecutor } from './database.js';
import { quotedSchema } from './migrations.js';

/**
 * Sees every committed change of a job, inside the commit's transaction, and may add writes there
 * (`tx`). If it throws, the whole commit is rolled back, so an interceptor does only local database
 * work: anything remote (OpenSearch) happens later, from what it wrote (see FinalMetricsOutbox).
 */
export interface CommitInterceptor {
  readonly name: string;
  onCommit(change: JobChange, tx: SqlExecutor): Promise<void> | void;
}

export class JobNotFoundError extends ServiceError {
  constructor(id: string) {
    super(404, 'job_not_found', `No job with id ${id}`);
  }
}

export class JobExistsError extends ServiceError {
  constructor(id: string) {
    super(409, 'job_exists', `A job with id ${id} already exists`);
  }
}

export interface JobStoreOptions {
  /** The Postgres schema holding the tables (default `stratus_jobs`); one per test run keeps runs apart. */
  schema?: string;
  interceptors?: CommitInterceptor[];
  now?: () => Date;
  /** At most this many creates share one transaction (default 500). */
  maxCreateBatch?: number;
  /**
   * Create transactions in flight at once (default 4 on a Postgres server, where a batch waits for
   * its WAL flush and another can go meanwhile; 1 on PGlite, which runs one transaction at a time).
   */
  maxCreateBatchesInFlight?: number;
}

/** A create waiting for its group commit. */
interface QueuedCreate {
  job: Job;
  resolve(job: Job): void;
  reject(error: unknown): void;
}

interface JobRow {
  id: string;
  type: string;
  status: JobStatus;
  input: Record<string, unknown>;
  attempts: number;
  owner: string | null;
  metrics: JobMetrics;
  error: JobError | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const JOB_COLUMNS =
  'id, type, status, input, attempts, owner, metrics, error, version, created_at, updated_at, started_at, finished_at';
const JOB_RECORD =
  'id text, type text, status text, input jsonb, attempts integer, owner text, metrics jsonb, error jsonb, version integer, created_at timestamptz, updated_at timestamptz, started_at timestamptz, finished_at timestamptz';

/**
 * The job documents. Every write, whatever its kind, goes through one commit path: the place where the
 * row is written and the interceptors run, in one transaction.
 *
 * Creates are group-committed: the creates issued while a create transaction is in flight (or in the
 * same turn of the event loop) are written together, one multi-row INSERT and one COMMIT for all, so
 * many concurrent callers (an HTTP listener) pay for one durable commit instead of one each. Each
 * caller still gets its own job or error, and only once its row is committed.
 */
export class JobStore {
  readonly schema: string;
  private readonly table: string;
  private readonly interceptors: CommitInterceptor[];
  private readonly committedListeners: ((change: JobChange) => void)[] = [];
  private readonly now: () => Date;
  private readonly maxCreateBatch: number;
  private readonly maxCreateBatchesInFlight: number;
  private readonly createQueue: QueuedCreate[] = [];
  private createBatchScheduled = false;
  private createBatchesInFlight = 0;
  /** Ids of the creates in flight: a second create of one of them waits for the first to finish. */
  private readonly createIdsInFlight = new Set<string>();
  /** Settles once every batch taken so far has answered its callers: answers go out in call order. */
  private createsAnswered: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    options: JobStoreOptions = {},
  ) {
    this.schema = options.schema ?? 'stratus_jobs';
    this.table = `${quotedSchema(this.schema)}.jobs`;
    this.interceptors = [...(options.interceptors ?? [])];
    this.now = options.now ?? (() => new Date());
    this.maxCreateBatch = options.maxCreateBatch ?? 500;
    this.maxCreateBatchesInFlight = options.maxCreateBatchesInFlight ?? (db.kind === 'postgres' ? 4 : 1);
  }

  addInterceptor(interceptor: CommitInterceptor): void {
    this.interceptors.push(interceptor);
  }

  /**
   * Called after each commit is durable, outside the transaction (e.g. to wake the relay). Listeners
   * cannot fail or delay the commit: they run synchronously and their errors are ignored.
   */
  onCommitted(listener: (change: JobChange) => void): void {
    this.committedListeners.push(listener);
  }

  async get(id: string): Promise<Job> {
    const [row] = await this.db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM ${this.table} WHERE id = $1`, [id]);
    if (!row) throw new JobNotFoundError(id);
    return jobOf(row);
  }

  /** Jobs oldest first (the order to resume them in), or newest first (the order to show them in). */
  async list(filter: { status?: JobStatus; limit?: number; newestFirst?: boolean } = {}): Promise<Job[]> {
    const order = filter.newestFirst ? 'created_at DESC, id DESC' : 'created_at, id';
    const rows = await this.db.query<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM ${this.table} WHERE ($1::text IS NULL OR status = $1) ORDER BY ${order} LIMIT $2`,
      [filter.status ?? null, filter.limit ?? 1000],
    );
    return rows.map(jobOf);
  }

  /**
   * A new Pending job, resolved once its row is committed; JobExistsError when the id is taken (the
   * deduplication of redeliveries). Joins the next group commit (see the class comment).
   */
  create(draft: NewJob): Promise<Job> {
    let job: Job;
    try {
      job = newJob(draft, this.now());
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.createQueue.push({ job, resolve, reject });
      this.scheduleCreateBatch();
    });
  }

  /**
   * Pending -> Running. With an `owner`, a job already Running under that same owner is started again
   * (attempts + 1): how a retried Kubernetes pod resumes the job its crashed predecessor held.
   */
  start(id: string, options: { owner?: string } = {}): Promise<Job> {
    return this.commit(id, (job) => startJob(existing(id, job), this.now(), options.owner ?? null));
  }

  recordMetrics(id: string, metrics: Partial<JobMetrics>): Promise<Job> {
    return this.commit(id, (job) => recordMetrics(existing(id, job), metrics, this.now()));
  }

  complete(id: string, metrics: Partial<JobMetrics> = {}): Promise<Job> {
    return this.commit(id, (job) => completeJob(existing(id, job), metrics, this.now()));
  }

  fail(id: string, error: JobError, metrics: Partial<JobMetrics> = {}): Promise<Job> {
    return this.commit(id, (job) => failJob(existing(id, job), error, metrics, this.now()));
  }

  /**
   * The one write path. Locks the job's row, computes the next state from the current one (null when
   * the job does not exist yet), writes it and runs every interceptor with before and after, all in one
   * transaction. A rejected transition or a failing interceptor leaves nothing written.
   */
  async commit(id: string, decide: (before: Job | null) => Job): Promise<Job> {
    const change = await this.commitChange(id, decide);
    this.notifyCommitted(change);
    return change.after;
  }

  /** `commit` without telling the onCommitted listeners. */
  private commitChange(id: string, decide: (before: Job | null) => Job): Promise<JobChange> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<JobRow>(
        `SELECT ${JOB_COLUMNS} FROM ${this.table} WHERE id = $1 FOR UPDATE`,
        [id],
      );
      const before = row ? jobOf(row) : null;
      const after = decide(before);
      if (after.id !== id) throw new Error(`commit for job ${id} produced job ${after.id}`);
      await this.write(tx, before, after);
      const change: JobChange = { before, after };
      await this.intercept(change, tx);
      return change;
    });
  }

  /**
   * Takes the queued creates as one batch at the end of this turn of the event loop (so the creates
   * issued in it, and the requests read meanwhile, go together), when a transaction slot is free.
   * While every slot is busy, creates wait and the next free slot takes them all.
   */
  private scheduleCreateBatch(): void {
    if (this.createBatchScheduled) return;
    if (this.createQueue.length === 0 || this.createBatchesInFlight >= this.maxCreateBatchesInFlight) return;
    this.createBatchScheduled = true;
    setImmediate(() => {
      this.createBatchScheduled = false;
      if (this.createBatchesInFlight >= this.maxCreateBatchesInFlight) return;
      const batch = this.nextCreateBatch();
      if (batch.length === 0) return;
      this.createBatchesInFlight++;
      const outcomes = this.commitCreates(batch);
      void outcomes.then(() => {
        this.createBatchesInFlight--;
        for (const { job } of batch) this.createIdsInFlight.delete(job.id);
        this.scheduleCreateBatch();
      });
      // A later batch may commit first; its callers and listeners hear of it after the earlier ones.
      const earlier = this.createsAnswered;
      this.createsAnswered = earlier.then(async () => (await outcomes)());
      this.scheduleCreateBatch();
    });
  }

  /**
   * The oldest queued creates, in call order. A second create of one id waits until the first has
   * finished, so the first wins (or, if the first failed, the second may succeed).
   */
  private nextCreateBatch(): QueuedCreate[] {
    const batch: QueuedCreate[] = [];
    for (let i = 0; i < this.createQueue.length && batch.length < this.maxCreateBatch; ) {
      const queued = this.createQueue[i] as QueuedCreate;
      if (this.createIdsInFlight.has(queued.job.id)) {
        i++;
        continue;
      }
      this.createIdsInFlight.add(queued.job.id);
      batch.push(queued);
      this.createQueue.splice(i, 1);
    }
    return batch;
  }

  /**
   * One transaction: a multi-row INSERT that skips ids already taken, then the interceptors for each
   * created job in call order. If the transaction fails (one job's interceptor refused it, the
   * database went away), each job is committed again on its own, so each caller gets its own outcome.
   * Never rejects: resolves to the function that answers the callers and tells the listeners.
   */
  private async commitCreates(batch: QueuedCreate[]): Promise<() => void> {
    const outcomes: ({ change: JobChange } | { error: unknown })[] = [];
    try {
      const created = await this.db.transaction(async (tx) => {
        const inserted = new Set(
          (
            await tx.query<{ id: string }>(
              `INSERT INTO ${this.table} (${JOB_COLUMNS})
               SELECT ${JOB_COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS r(${JOB_RECORD})
               ON CONFLICT (id) DO NOTHING RETURNING id`,
              [JSON.stringify(batch.map(({ job }) => rowOf(job)))],
            )
          ).map((row) => row.id),
        );
        const changes = new Map<string, JobChange>();
        for (const { job } of batch) {
          if (!inserted.has(job.id)) continue;
          const change: JobChange = { before: null, after: job };
          await this.intercept(change, tx);
          changes.set(job.id, change);
        }
        return changes;
      });
      for (const { job } of batch) {
        const change = created.get(job.id);
        outcomes.push(change ? { change } : { error: new JobExistsError(job.id) });
      }
    } catch (error) {
      outcomes.length = 0;
      if (batch.length === 1) outcomes.push({ error });
      else
        for (const { job } of batch)
          outcomes.push(
            await this.commitChange(job.id, (before) => {
              if (before) throw new JobExistsError(job.id);
              return job;
            }).then(
              (change) => ({ change }),
              (failure: unknown) => ({ error: failure }),
            ),
          );
    }
    return () => {
      for (const [index, outcome] of outcomes.entries()) {
        const queued = batch[index] as QueuedCreate;
        if ('error' in outcome) queued.reject(outcome.error);
        else {
          this.notifyCommitted(outcome.change);
          queued.resolve(outcome.change.after);
        }
      }
    };
  }

  private async intercept(change: JobChange, tx: SqlExecutor): Promise<void> {
    for (const interceptor of this.interceptors) await interceptor.onCommit(change, tx);
  }

  private notifyCommitted(change: JobChange): void {
    for (const listener of this.committedListeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own; the commit has already succeeded.
      }
    }
  }

  private async write(tx: SqlExecutor, before: Job | null, job: Job): Promise<void> {
    const values = [
      job.id,
      job.type,
      job.status,
      job.input,
      job.attempts,
      job.owner,
      job.metrics,
      job.error,
      job.version,
      job.createdAt,
      job.updatedAt,
      job.startedAt,
      job.finishedAt,
    ];
    if (before === null) {
      // A concurrent create of the same id loses on the primary key; report it as the caller's conflict.
      const inserted = await tx.query(
        `INSERT INTO ${this.table} (${JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        values,
      );
      if (inserted.length === 0) throw new JobExistsError(job.id);
      return;
    }
    await tx.query(
      `UPDATE ${this.table} SET type = $2, status = $3, input = $4, attempts = $5, owner = $6, metrics = $7,
         error = $8, version = $9, created_at = $10, updated_at = $11, started_at = $12, finished_at = $13
       WHERE id = $1`,
      values,
    );
  }
}

function existing(id: string, job: Job | null): Job {
  if (!job) throw new JobNotFoundError(id);
  return job;
}

/** The row of a job, as `jsonb_to_recordset` reads it (timestamps as ISO text). */
function rowOf(job: Job): JobRow {
  return {
    id: job.id,
    type: job.type,
    status: job.status,
    input: job.input,
    attempts: job.attempts,
    owner: job.owner,
    metrics: job.metrics,
    error: job.error,
    version: job.version,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    started_at: job.startedAt,
    finished_at: job.finishedAt,
  };
}

function jobOf(row: JobRow): Job {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    input: row.input,
    attempts: row.attempts,
    owner: row.owner,
    metrics: row.metrics,
    error: row.error,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
