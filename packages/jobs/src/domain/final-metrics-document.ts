import type { Job, JobError, JobMetrics, JobStatus } from './job.js';

/**
 * The job's metrics document in OpenSearch (document id = job id). Flat snake_case fields so
 * dashboards can aggregate on them without nested mappings.
 */
export interface FinalMetricsDocument {
  job_id: string;
  job_type: string;
  status: JobStatus;
  attempts: number;
  created_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  counters: Record<string, number>;
  durations_ms: Record<string, number>;
  error_code: string | null;
  error_message: string | null;
}

export interface TerminalJobFacts {
  id: string;
  type: string;
  status: JobStatus;
  attempts: number;
  metrics: JobMetrics;
  error: JobError | null;
  createdAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export function finalMetricsDocument(job: TerminalJobFacts | Job): FinalMetricsDocument {
  const durationMs =
    job.startedAt && job.finishedAt ? Math.max(0, job.finishedAt.getTime() - job.startedAt.getTime()) : null;
  return {
    job_id: job.id,
    job_type: job.type,
    status: job.status,
    attempts: job.attempts,
    created_at: job.createdAt?.toISOString() ?? null,
    started_at: job.startedAt?.toISOString() ?? null,
    finished_at: job.finishedAt?.toISOString() ?? null,
    duration_ms: durationMs,
    counters: { ...job.metrics.counters },
    durations_ms: { ...job.metrics.durationsMs },
    error_code: job.error?.code ?? null,
    error_message: job.error?.message ?? null,
  };
}
