import type { FinalMetricsDocument } from '../domain/final-metrics-document.js';
import { finalMetricsDocument } from '../domain/final-metrics-document.js';
import { entersTerminalState, type JobError, type JobMetrics, type JobStatus } from '../domain/job.js';
import type { Database } from '../store/database.js';
import type { CommitInterceptor } from '../store/job-store.js';
import { quotedSchema } from '../store/migrations.js';

export interface OutboxEntry {
  jobId: string;
  document: FinalMetricsDocument;
  /** Delivery attempts made before this claim. */
  attempts: number;
  enqueuedAt: Date;
}

export interface OutboxBacklog {
  pending: number;
  oldestEnqueuedAt: Date | null;
}

/**
 * Final metrics waiting for delivery, kept in the job store's own database. The row is written by the
 * commit that ends the job (same transaction), so a job cannot be Done or Failed without it; the relay
 * claims rows, delivers them and marks them delivered.
 */
export class FinalMetricsOutbox {
  private readonly table: string;
  private readonly jobs: string;

  constructor(
    private readonly db: Database,
    options: { schema?: string; now?: () => Date } = {},
  ) {
    const schema = quotedSchema(options.schema ?? 'stratus_jobs');
    this.table = `${schema}.final_metrics_outbox`;
    this.jobs = `${schema}.jobs`;
    this.now = options.now ?? (() => new Date());
  }

  private readonly now: () => Date;

  /** Register on the JobStore: enqueues the final metrics of every job that enters Done or Failed. */
  readonly interceptor: CommitInterceptor = {
    name: 'final-metrics-outbox',
    onCommit: async (change, tx) => {
      if (!entersTerminalState(change)) return;
      const now = change.after.updatedAt;
      await tx.query(
        `INSERT INTO ${this.table} (job_id, document, enqueued_at, next_attempt_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (job_id) DO NOTHING`,
        [change.after.id, finalMetricsDocument(change.after), now],
      );
    },
  };

  /**
   * Claims up to `limit` due rows for `leaseMs`: another relay skips them until the lease ends, and a
   * relay that dies mid-delivery leaves them to be claimed again when it does.
   */
  async claimDue(limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    const now = this.now();
    const rows = await this.db.query<{
      job_id: string;
      document: FinalMetricsDocument;
      attempts: number;
      enqueued_at: Date;
    }>(
      `UPDATE ${this.table} SET next_attempt_at = $2
       WHERE job_id IN (
         SELECT job_id FROM ${this.table}
         WHERE delivered_at IS NULL AND next_attempt_at <= $1
         ORDER BY next_attempt_at LIMIT $3
         FOR UPDATE SKIP LOCKED)
       RETURNING job_id, document, attempts, enqueued_at`,
      [now, new Date(now.getTime() + leaseMs), limit],
    );
    return rows
      .map((row) => ({
        jobId: row.job_id,
        document: row.document,
        attempts: row.attempts,
        enqueuedAt: row.enqueued_at,
      }))
      .sort((a, b) => a.enqueuedAt.getTime() - b.enqueuedAt.getTime());
  }

  async markDelivered(jobIds: readonly string[]): Promise<void> {
    if (jobIds.length === 0) return;
    await this.db.query(
      `UPDATE ${this.table} SET delivered_at = $2, attempts = attempts + 1, last_error = NULL
       WHERE job_id = ANY($1::text[]) AND delivered_at IS NULL`,
      [jobIds, this.now()],
    );
  }

  async markFailed(failures: readonly { jobId: string; error: string; retryInMs: number }[]): Promise<void> {
    if (failures.length === 0) return;
    const now = this.now().getTime();
    // One statement for the whole batch: an outage fails every row of every round.
    await this.db.query(
      `UPDATE ${this.table} AS o SET attempts = o.attempts + 1, last_error = f.error, next_attempt_at = f.retry_at
       FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS f(job_id, error, retry_at)
       WHERE o.job_id = f.job_id AND o.delivered_at IS NULL`,
      [
        failures.map((failure) => failure.jobId),
        failures.map((failure) => failure.error.slice(0, 1000)),
        failures.map((failure) => new Date(now + failure.retryInMs)),
      ],
    );
  }

  async backlog(): Promise<OutboxBacklog> {
    const [row] = await this.db.query<{ pending: number; oldest: Date | null }>(
      `SELECT count(*)::int AS pending, min(enqueued_at) AS oldest FROM ${this.table} WHERE delivered_at IS NULL`,
    );
    return { pending: row?.pending ?? 0, oldestEnqueuedAt: row?.oldest ?? null };
  }

  /**
   * The reconcile sweep: enqueues terminal jobs that have no outbox row, i.e. jobs ended by a writer
   * that bypassed JobStore.commit (a migration, a manual fix, an older service). Returns how many.
   */
  async reconcile(limit = 1000): Promise<number> {
    const rows = await this.db.query<{
      id: string;
      type: string;
      status: JobStatus;
      attempts: number;
      metrics: JobMetrics;
      error: JobError | null;
      created_at: Date;
      started_at: Date | null;
      finished_at: Date | null;
    }>(
      `SELECT j.id, j.type, j.status, j.attempts, j.metrics, j.error, j.created_at, j.started_at, j.finished_at
       FROM ${this.jobs} j
       WHERE j.status IN ('Done', 'Failed')
         AND NOT EXISTS (SELECT 1 FROM ${this.table} o WHERE o.job_id = j.id)
       ORDER BY j.finished_at NULLS FIRST LIMIT $1`,
      [limit],
    );
    const now = this.now();
    let enqueued = 0;
    for (const row of rows) {
      const document = finalMetricsDocument({
        id: row.id,
        type: row.type,
        status: row.status,
        attempts: row.attempts,
        metrics: row.metrics,
        error: row.error,
        createdAt: row.created_at,
        startedAt: row.started_at,
        finishedAt: row.finished_at,
      });
      const inserted = await this.db.query(
        `INSERT INTO ${this.table} (job_id, document, enqueued_at, next_attempt_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (job_id) DO NOTHING RETURNING job_id`,
        [row.id, document, now],
      );
      enqueued += inserted.length;
    }
    return enqueued;
  }
}
