import type { Counter, Logger, StatsRegistry } from '@stratus/core';
import { type BackoffPolicy, retryDelayMs } from '../domain/retry-backoff.js';
import type { FinalMetricsSink } from './opensearch-sink.js';
import type { FinalMetricsOutbox } from './outbox.js';

export interface FinalMetricsRelayOptions {
  outbox: FinalMetricsOutbox;
  sink: FinalMetricsSink;
  logger: Logger;
  /** Where the counters and gauges appear in `/stats`; optional for CLIs and tests. */
  stats?: StatsRegistry;
  /** Documents per bulk request. */
  batchSize?: number;
  /** How long a claimed row is reserved for this relay; a relay that dies frees its rows after it. */
  leaseMs?: number;
  /** How often the relay looks for due rows when idle. */
  pollIntervalMs?: number;
  /** How often the reconcile sweep runs. */
  reconcileIntervalMs?: number;
  backoff?: BackoffPolicy;
}

export interface RelayRound {
  claimed: number;
  delivered: number;
  failed: number;
}

/**
 * Moves final metrics from the outbox to the sink: claims due rows, delivers them in bulk, marks them
 * delivered or schedules a retry with backoff. Nothing it does can fail or slow a JobStore commit: it
 * only reads what committed transactions left in the outbox. Run one per process (or several across
 * processes: claims are leases taken with SKIP LOCKED).
 */
export class FinalMetricsRelay {
  private readonly options: Required<Omit<FinalMetricsRelayOptions, 'stats'>> & { stats?: StatsRegistry };
  private readonly log: Logger;
  private delivered = 0;
  private retries = 0;
  private pending = 0;
  private oldestPendingAgeS = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private wokenDuringRound = false;
  private timer: NodeJS.Timeout | undefined;
  private lastReconcileAt = 0;
  private readonly deliveredCounter: Counter | undefined;
  private readonly retriesCounter: Counter | undefined;

  constructor(options: FinalMetricsRelayOptions) {
    this.options = {
      batchSize: 500,
      leaseMs: 60_000,
      pollIntervalMs: 1_000,
      reconcileIntervalMs: 5 * 60_000,
      backoff: { baseMs: 1_000, maxMs: 5 * 60_000 },
      ...options,
    };
    this.log = options.logger.child({ component: 'final-metrics-relay' });
    const { stats } = options;
    if (stats) {
      stats.gauge('final_metrics_pending', () => this.pending);
      stats.gauge('final_metrics_oldest_pending_age_s', () => this.oldestPendingAgeS);
    }
    this.deliveredCounter = stats?.counter('final_metrics_delivered');
    this.retriesCounter = stats?.counter('final_metrics_retries');
  }

  /** Counters since start, and the outbox backlog as of the last round. */
  snapshot(): { pending: number; delivered: number; retries: number; oldestPendingAgeS: number } {
    return {
      pending: this.pending,
      delivered: this.delivered,
      retries: this.retries,
      oldestPendingAgeS: this.oldestPendingAgeS,
    };
  }

  /** One round: claim up to a batch of due rows, deliver them, record the outcome. */
  async deliverDue(): Promise<RelayRound> {
    const { outbox, sink, batchSize, leaseMs, backoff } = this.options;
    const entries = await outbox.claimDue(batchSize, leaseMs);
    let delivered = 0;
    if (entries.length > 0) {
      const outcome = await sink.deliver(entries.map((entry) => entry.document));
      const ok: string[] = [];
      const failures: { jobId: string; error: string; retryInMs: number }[] = [];
      for (const entry of entries) {
        const failure = outcome.has(entry.jobId)
          ? (outcome.get(entry.jobId) ?? null)
          : { reason: 'no outcome reported', status: undefined };
        if (failure === null) ok.push(entry.jobId);
        else
          failures.push({
            jobId: entry.jobId,
            error: failure.reason,
            retryInMs: retryDelayMs(entry.attempts + 1, backoff),
          });
      }
      await outbox.markDelivered(ok);
      await outbox.markFailed(failures);
      delivered = ok.length;
      this.delivered += ok.length;
      this.retries += failures.length;
      this.deliveredCounter?.inc(ok.length);
      this.retriesCounter?.inc(failures.length);
      if (ok.length > 0)
        this.log.debug({ event: 'final_metrics_delivered', count: ok.length }, 'final metrics delivered');
      if (failures.length > 0) {
        const first = failures[0]!;
        this.log.warn(
          {
            event: 'final_metrics_delivery_failed',
            count: failures.length,
            job_id: first.jobId,
            reason: first.error,
            retry_in_ms: first.retryInMs,
          },
          `final metrics delivery failed for ${failures.length} job(s); will retry`,
        );
      }
    }
    await this.refreshBacklog();
    return { claimed: entries.length, delivered, failed: entries.length - delivered };
  }

  /** Rounds until no row is due (retries scheduled later are left to later rounds). */
  async drain(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const round = await this.deliverDue();
      delivered += round.delivered;
      if (round.claimed === 0 || round.delivered === 0) return delivered;
    }
  }

  /** The reconcile sweep, then a refresh of the backlog figures. */
  async reconcile(): Promise<number> {
    const enqueued = await this.options.outbox.reconcile();
    this.lastReconcileAt = Date.now();
    if (enqueued > 0)
      this.log.warn(
        { event: 'final_metrics_reconciled', count: enqueued },
        `${enqueued} terminal job(s) had no final metrics queued; queued them`,
      );
    await this.refreshBacklog();
    return enqueued;
  }

  /** Starts the background loop: reconcile at start and then periodically, deliver whenever due. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Wakes an idle loop now, e.g. right after a job ended. */
  notify(): void {
    if (this.wake) this.wake();
    // Mid-round: the next sleep returns at once, so a job ended during the round is not left to the poll.
    else this.wokenDuringRound = true;
  }

  /** Stops the loop after the round in progress; undelivered rows stay in the outbox for the next start. */
  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let busy = false;
      try {
        if (Date.now() - this.lastReconcileAt >= this.options.reconcileIntervalMs) await this.reconcile();
        const round = await this.deliverDue();
        busy = round.claimed === this.options.batchSize && round.delivered > 0;
      } catch (error) {
        this.log.warn({ event: 'final_metrics_relay_error', err: error }, 'final metrics relay round failed');
      }
      if (!busy && this.running) await this.sleep(this.options.pollIntervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.wokenDuringRound) {
      this.wokenDuringRound = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wake = () => {
        clearTimeout(this.timer);
        this.wake = undefined;
        resolve();
      };
      this.timer = setTimeout(this.wake, ms);
    });
  }

  private async refreshBacklog(): Promise<void> {
    const backlog = await this.options.outbox.backlog();
    this.pending = backlog.pending;
    this.oldestPendingAgeS = backlog.oldestEnqueuedAt
      ? Math.max(0, Math.round((Date.now() - backlog.oldestEnqueuedAt.getTime()) / 1000))
      : 0;
  }
}
