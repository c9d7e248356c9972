import { ServiceError } from '@stratus/core';

export const jobStatuses = ['Pending', 'Running', 'Done', 'Failed'] as const;
export type JobStatus = (typeof jobStatuses)[number];
export const terminalStatuses: readonly JobStatus[] = ['Done', 'Failed'];

/** What a job measured: counts (rows read, rejects) and durations in milliseconds (parse, load). */
export interface JobMetrics {
  counters: Record<string, number>;
  durationsMs: Record<string, number>;
}

export interface JobError {
  code: string;
  message: string;
}

export interface Job {
  id: string;
  type: string;
  status: JobStatus;
  input: Record<string, unknown>;
  /** How many times the job was started. */
  attempts: number;
  /**
   * Who started the current attempt (e.g. a Kubernetes Job's uid), or null. A Running job can be
   * started again only by the same owner: its retried pod, after the previous one crashed.
   */
  owner: string | null;
  metrics: JobMetrics;
  error: JobError | null;
  /** Incremented by every commit; lets readers tell two states of one job apart. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** One committed change: `before` is null when the job was created by this commit. */
export interface JobChange {
  before: Job | null;
  after: Job;
}

export class IllegalJobTransitionError extends ServiceError {
  readonly from: JobStatus;
  readonly to: JobStatus;

  constructor(jobId: string, from: JobStatus, to: JobStatus) {
    super(409, 'illegal_job_transition', `Job ${jobId} cannot go from ${from} to ${to}`);
    this.from = from;
    this.to = to;
  }
}

export class InvalidJobError extends ServiceError {
  constructor(message: string) {
    super(400, 'invalid_job', message);
  }
}

const allowedTransitions: Record<JobStatus, readonly JobStatus[]> = {
  Pending: ['Running'],
  Running: ['Done', 'Failed'],
  Done: [],
  Failed: [],
};

export function isTerminal(status: JobStatus): boolean {
  return terminalStatuses.includes(status);
}

/** True when this change is the one that moved the job into Done or Failed. */
export function entersTerminalState(change: JobChange): boolean {
  return isTerminal(change.after.status) && (change.before === null || !isTerminal(change.before.status));
}

export function emptyMetrics(): JobMetrics {
  return { counters: {}, durationsMs: {} };
}

const JOB_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const JOB_TYPE = /^[a-z][a-z0-9._-]{0,62}$/;

export interface NewJob {
  id: string;
  type: string;
  input?: Record<string, unknown>;
}

export function newJob(draft: NewJob, now: Date): Job {
  if (!JOB_ID.test(draft.id))
    throw new InvalidJobError(
      `Job id must be 1-128 letters, digits or ._:- (got ${JSON.stringify(draft.id)})`,
    );
  if (!JOB_TYPE.test(draft.type))
    throw new InvalidJobError(
      `Job type must be lower-case letters, digits or ._- starting with a letter (got ${JSON.stringify(draft.type)})`,
    );
  return {
    id: draft.id,
    type: draft.type,
    status: 'Pending',
    input: draft.input ?? {},
    attempts: 0,
    owner: null,
    metrics: emptyMetrics(),
    error: null,
    version: 1,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
  };
}

function moveTo(job: Job, to: JobStatus): void {
  if (!allowedTransitions[job.status].includes(to))
    throw new IllegalJobTransitionError(job.id, job.status, to);
}

function validMetrics(metrics: Partial<JobMetrics>): JobMetrics {
  const out = emptyMetrics();
  for (const [group, values] of [
    ['counters', metrics.counters],
    ['durationsMs', metrics.durationsMs],
  ] as const) {
    for (const [name, value] of Object.entries(values ?? {})) {
      if (!Number.isFinite(value) || value < 0)
        throw new InvalidJobError(`Metric ${group}.${name} must be a finite number >= 0 (got ${value})`);
      out[group][name] = value;
    }
  }
  return out;
}

function mergeMetrics(current: JobMetrics, update: Partial<JobMetrics>): JobMetrics {
  const valid = validMetrics(update);
  return {
    counters: { ...current.counters, ...valid.counters },
    durationsMs: { ...current.durationsMs, ...valid.durationsMs },
  };
}

function next(job: Job, now: Date, fields: Partial<Job>): Job {
  return { ...job, ...fields, version: job.version + 1, updatedAt: now };
}

/**
 * Pending -> Running, recording `owner`. A Running job is taken over only by a start with the same
 * non-null owner: the attempt that was running it died (its pod crashed) and this one resumes it.
 */
export function startJob(job: Job, now: Date, owner: string | null = null): Job {
  const retaken = job.status === 'Running' && owner !== null && job.owner === owner;
  if (!retaken) moveTo(job, 'Running');
  return next(job, now, { status: 'Running', attempts: job.attempts + 1, owner, startedAt: now });
}

/** Progress while running: merges metrics, keeps the status. */
export function recordMetrics(job: Job, metrics: Partial<JobMetrics>, now: Date): Job {
  if (job.status !== 'Running') throw new IllegalJobTransitionError(job.id, job.status, job.status);
  return next(job, now, { metrics: mergeMetrics(job.metrics, metrics) });
}

export function completeJob(job: Job, metrics: Partial<JobMetrics>, now: Date): Job {
  moveTo(job, 'Done');
  return next(job, now, { status: 'Done', metrics: mergeMetrics(job.metrics, metrics), finishedAt: now });
}

export function failJob(job: Job, error: JobError, metrics: Partial<JobMetrics>, now: Date): Job {
  moveTo(job, 'Failed');
  if (!error.code || !error.message)
    throw new InvalidJobError('A failed job needs an error code and message');
  return next(job, now, {
    status: 'Failed',
    error: { code: error.code, message: error.message },
    metrics: mergeMetrics(job.metrics, metrics),
    finishedAt: now,
  });
}
