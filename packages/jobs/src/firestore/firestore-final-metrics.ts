import {
  type DocumentReference,
  type DocumentSnapshot,
  FieldPath,
  FieldValue,
  Firestore,
  type Settings,
} from '@google-cloud/firestore';
import { type Counter, type Logger, StatsRegistry } from '@stratus/core';
import { type FinalMetricsDocument, finalMetricsDocument } from '../domain/final-metrics-document.js';
import { isTerminal, type JobError, type JobStatus, jobStatuses } from '../domain/job.js';
import { type BackoffPolicy, retryDelayMs } from '../domain/retry-backoff.js';
import type { FinalMetricsSink } from '../final-metrics/opensearch-sink.js';
import { commitObserver, type SucceededCommit } from './commit-interception.js';
import { terminalJobWrites } from './terminal-job-writes.js';

export interface FirestoreFinalMetricsOptions {
  sink: FinalMetricsSink;
  logger: Logger;
  stats?: StatsRegistry;
  /** The collection of job documents, as a path: `jobs` (default) or `tenants/acme/jobs`. */
  collection?: string;
  /** The field marking a delivered job. Default `metricsFinalizedAt`. */
  finalizedField?: string;
  backoff?: BackoffPolicy;
  /** In-process delivery attempts per job; after them the job is left to the sweep. */
  maxAttempts?: number;
}

/**
 * Final metrics for jobs kept in Firestore. Every Commit the client makes is observed at the gRPC
 * transport; jobs the commit moved into Done or Failed are read back, upserted into the metrics store
 * and marked `metricsFinalizedAt`. The mark is what makes it durable: `sweep()` finds terminal jobs
 * without it (process died, metrics store down past the retries, a writer without this client).
 */
export class FirestoreFinalMetrics {
  /** For the Firestore settings, as `grpc.callInvocationTransformer` (see createFirestoreWithFinalMetrics). */
  readonly invocationTransformer = commitObserver((commit) => this.observe(commit));

  private readonly options: Required<Omit<FirestoreFinalMetricsOptions, 'stats'>>;
  private readonly log: Logger;
  private firestore: Firestore | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  private readonly attempts = new Map<string, number>();
  private readonly commitsSeen: Counter;
  private readonly delivered: Counter;
  private readonly retries: Counter;

  constructor(options: FirestoreFinalMetricsOptions) {
    this.options = {
      collection: 'jobs',
      finalizedField: 'metricsFinalizedAt',
      backoff: { baseMs: 1_000, maxMs: 60_000 },
      maxAttempts: 8,
      ...options,
    };
    this.log = options.logger.child({ component: 'firestore-final-metrics' });
    // Without a service's registry the counters live in one of our own (its event-loop monitor off).
    const stats = options.stats ?? new StatsRegistry('firestore-final-metrics');
    if (!options.stats) stats.stop();
    this.commitsSeen = stats.counter('firestore_commits_seen');
    this.delivered = stats.counter('firestore_final_metrics_delivered');
    this.retries = stats.counter('firestore_final_metrics_retries');
    stats.gauge('firestore_final_metrics_pending', () => this.scheduled.size + this.inFlight.size);
  }

  /** The client whose documents are read back and marked; set by createFirestoreWithFinalMetrics. */
  attach(firestore: Firestore): void {
    this.firestore = firestore;
  }

  snapshot(): { commitsSeen: number; delivered: number; retries: number; pending: number } {
    return {
      commitsSeen: this.commitsSeen.value(),
      delivered: this.delivered.value(),
      retries: this.retries.value(),
      pending: this.scheduled.size + this.inFlight.size,
    };
  }

  /** Called for each successful Commit (after the caller got its answer). */
  observe(commit: SucceededCommit): void {
    this.commitsSeen.inc();
    let paths: string[];
    try {
      paths = terminalJobWrites(commit.request, this.options.collection);
    } catch (error) {
      this.log.warn({ event: 'firestore_commit_unreadable', err: error }, 'could not read a Commit request');
      return;
    }
    if (paths.length === 0) return;
    this.log.debug({ event: 'firestore_terminal_jobs_seen', count: paths.length }, 'terminal jobs committed');
    this.track(this.deliverPaths(paths));
  }

  /**
   * Finds terminal jobs without the finalized mark and delivers them. Firestore cannot query for a
   * missing field, so this pages through terminal jobs (by document id) and skips marked ones.
   */
  async sweep(pageSize = 300): Promise<number> {
    const firestore = this.client();
    const { collection, finalizedField } = this.options;
    let found = 0;
    let last: DocumentSnapshot | undefined;
    for (;;) {
      let query = firestore
        .collection(collection)
        .where('status', 'in', ['Done', 'Failed'])
        .orderBy(FieldPath.documentId())
        .limit(pageSize);
      if (last) query = query.startAfter(last);
      const page = await query.get();
      const unmarked = page.docs.filter((doc) => doc.get(finalizedField) === undefined);
      found += unmarked.length;
      if (unmarked.length > 0) await this.deliverSnapshots(unmarked);
      if (page.docs.length < pageSize) break;
      last = page.docs.at(-1);
    }
    if (found > 0)
      this.log.warn(
        { event: 'firestore_final_metrics_swept', count: found },
        `${found} terminal job(s) lacked final metrics`,
      );
    return found;
  }

  /** Resolves when no delivery is running (scheduled retries excluded). For tests and shutdown. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Cancels scheduled retries; the sweep will find those jobs. */
  close(): void {
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
  }

  private client(): Firestore {
    if (!this.firestore) throw new Error('FirestoreFinalMetrics is not attached to a Firestore client');
    return this.firestore;
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => {
      this.log.warn({ event: 'firestore_final_metrics_failed', err: error }, 'final metrics delivery failed');
    });
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private async deliverPaths(paths: string[]): Promise<void> {
    const firestore = this.client();
    const refs = paths.map((path) => firestore.doc(path));
    let snapshots: DocumentSnapshot[];
    try {
      snapshots = await firestore.getAll(...refs);
    } catch (error) {
      this.log.warn(
        { event: 'firestore_read_failed', err: error },
        'reading terminal jobs failed; will retry',
      );
      for (const ref of refs) this.scheduleRetry(ref, String(error));
      return;
    }
    await this.deliverSnapshots(
      snapshots.filter((doc) => doc.exists && doc.get(this.options.finalizedField) === undefined),
    );
  }

  private async deliverSnapshots(snapshots: DocumentSnapshot[]): Promise<void> {
    const documents = new Map<string, { ref: DocumentReference; document: FinalMetricsDocument }>();
    for (const snapshot of snapshots) {
      const document = metricsDocumentOf(snapshot);
      if (document) documents.set(document.job_id, { ref: snapshot.ref, document });
    }
    if (documents.size === 0) return;
    const outcome = await this.options.sink.deliver([...documents.values()].map((entry) => entry.document));
    const batch = this.client().batch();
    let marked = 0;
    for (const [jobId, { ref }] of documents) {
      const failure = outcome.has(jobId)
        ? (outcome.get(jobId) ?? null)
        : { reason: 'no outcome reported', status: undefined };
      if (failure === null) {
        batch.update(ref, { [this.options.finalizedField]: FieldValue.serverTimestamp() });
        this.attempts.delete(ref.path);
        marked++;
      } else this.scheduleRetry(ref, failure.reason);
    }
    if (marked === 0) return;
    // Delivered but unmarked (this commit failing) means one more idempotent upsert by the sweep; nothing lost.
    await batch.commit();
    this.delivered.inc(marked);
    this.log.debug({ event: 'firestore_final_metrics_delivered', count: marked }, 'final metrics delivered');
  }

  private scheduleRetry(ref: DocumentReference, reason: string): void {
    const attempt = (this.attempts.get(ref.path) ?? 0) + 1;
    this.attempts.set(ref.path, attempt);
    if (attempt >= this.options.maxAttempts) {
      this.attempts.delete(ref.path);
      this.log.warn(
        { event: 'firestore_final_metrics_given_up', job_id: ref.id, attempts: attempt, reason },
        'final metrics not delivered; left to the sweep',
      );
      return;
    }
    if (this.scheduled.has(ref.path)) return;
    const delay = retryDelayMs(attempt, this.options.backoff);
    this.retries.inc();
    this.log.warn(
      { event: 'firestore_final_metrics_retry', job_id: ref.id, attempt, retry_in_ms: delay, reason },
      'final metrics delivery failed; will retry',
    );
    const timer = setTimeout(() => {
      this.scheduled.delete(ref.path);
      this.track(this.deliverPaths([ref.path]));
    }, delay);
    timer.unref();
    this.scheduled.set(ref.path, timer);
  }
}

/**
 * A real @google-cloud/firestore client whose Commit calls feed `finalMetrics`. FIRESTORE_EMULATOR_HOST
 * points it at an emulator or a test server, as for any Firestore client.
 */
export function createFirestoreWithFinalMetrics(
  settings: Settings,
  finalMetrics: FirestoreFinalMetrics,
): Firestore {
  const firestore = new Firestore({
    ...settings,
    'grpc.callInvocationTransformer': finalMetrics.invocationTransformer,
  });
  finalMetrics.attach(firestore);
  return firestore;
}

function metricsDocumentOf(snapshot: DocumentSnapshot): FinalMetricsDocument | undefined {
  const data = snapshot.data();
  const status = data?.status;
  if (!data || typeof status !== 'string' || !(jobStatuses as readonly string[]).includes(status))
    return undefined;
  if (!isTerminal(status as JobStatus)) return undefined;
  const metrics = (data.metrics ?? {}) as { counters?: unknown; durationsMs?: unknown };
  const error = data.error as Partial<JobError> | undefined;
  return finalMetricsDocument({
    id: snapshot.id,
    type: typeof data.type === 'string' ? data.type : 'unknown',
    status: status as JobStatus,
    attempts: typeof data.attempts === 'number' ? data.attempts : 0,
    metrics: { counters: numbersOf(metrics.counters), durationsMs: numbersOf(metrics.durationsMs) },
    error: error?.code && error.message ? { code: String(error.code), message: String(error.message) } : null,
    createdAt: dateOf(data.createdAt),
    startedAt: dateOf(data.startedAt),
    finishedAt: dateOf(data.finishedAt),
  });
}

function numbersOf(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [name, inner] of Object.entries(value))
    if (typeof inner === 'number' && Number.isFinite(inner)) out[name] = inner;
  return out;
}

/** Firestore Timestamps, Dates and ISO strings alike. */
function dateOf(value: unknown): Date | null {
  if (value instanceof Date) return value;
  if (typeof value === 'string') {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  if (typeof (value as { toDate?: unknown })?.toDate === 'function')
    return (value as { toDate(): Date }).toDate();
  return null;
}
