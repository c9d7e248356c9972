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
}

interface JobRow {
  id: string;
  type: string;
  status: JobStatus;
  input: Record<string, unknown>;
  attempts: number;
  metrics: JobMetrics;
  error: JobError | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const JOB_COLUMNS =
  'id, type, status, input, attempts, metrics, error, version, created_at, updated_at, started_at, finished_at';

/**
 * The job documents. Every write, whatever its kind, goes through `commit`: the one place where the
 * row is written and the interceptors run, in one transaction.
 */
export class JobStore {
  readonly schema: string;
  private readonly table: string;
  private readonly interceptors: CommitInterceptor[];
  private readonly committedListeners: ((change: JobChange) => void)[] = [];
  private readonly now: () => Date;

  constructor(
    private readonly db: Database,
    options: JobStoreOptions = {},
  ) {
    this.schema = options.schema ?? 'stratus_jobs';
    this.table = `${quotedSchema(this.schema)}.jobs`;
    this.interceptors = [...(options.interceptors ?? [])];
    this.now = options.now ?? (() => new Date());
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

  async list(filter: { status?: JobStatus; limit?: number } = {}): Promise<Job[]> {
    const rows = await this.db.query<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM ${this.table} WHERE ($1::text IS NULL OR status = $1) ORDER BY created_at, id LIMIT $2`,
      [filter.status ?? null, filter.limit ?? 1000],
    );
    return rows.map(jobOf);
  }

  create(draft: NewJob): Promise<Job> {
    return this.commit(draft.id, (before) => {
      if (before) throw new JobExistsError(draft.id);
      return newJob(draft, this.now());
    });
  }

  start(id: string): Promise<Job> {
    return this.commit(id, (job) => startJob(existing(id, job), this.now()));
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
    const change = await this.db.transaction(async (tx) => {
      const [row] = await tx.query<JobRow>(
        `SELECT ${JOB_COLUMNS} FROM ${this.table} WHERE id = $1 FOR UPDATE`,
        [id],
      );
      const before = row ? jobOf(row) : null;
      const after = decide(before);
      if (after.id !== id) throw new Error(`commit for job ${id} produced job ${after.id}`);
      await this.write(tx, before, after);
      const change: JobChange = { before, after };
      for (const interceptor of this.interceptors) await interceptor.onCommit(change, tx);
      return change;
    });
    for (const listener of this.committedListeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own; the commit has already succeeded.
      }
    }
    return change.after;
  }

  private async write(tx: SqlExecutor, before: Job | null, job: Job): Promise<void> {
    const values = [
      job.id,
      job.type,
      job.status,
      job.input,
      job.attempts,
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
        `INSERT INTO ${this.table} (${JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        values,
      );
      if (inserted.length === 0) throw new JobExistsError(job.id);
      return;
    }
    await tx.query(
      `UPDATE ${this.table} SET type = $2, status = $3, input = $4, attempts = $5, metrics = $6, error = $7,
         version = $8, created_at = $9, updated_at = $10, started_at = $11, finished_at = $12
       WHERE id = $1`,
      values,
    );
  }
}

function existing(id: string, job: Job | null): Job {
  if (!job) throw new JobNotFoundError(id);
  return job;
}

function jobOf(row: JobRow): Job {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    input: row.input,
    attempts: row.attempts,
    metrics: row.metrics,
    error: row.error,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
