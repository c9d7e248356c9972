import type { Logger } from '@stratus/core';
import type { GroundTruthCache } from '../adapters/ground-truth-cache.js';
import { LangfuseCallError, PAGE_LIMITS, type TraceSource } from '../adapters/langfuse.js';
import { LeaseLostError, type PollStore, type TraceOutcomeRecord } from '../adapters/poll-store.js';
import { evaluateTrace, type SkipReason, type TraceOutcome, type TraceRecord } from '../domain/evaluate.js';
import type { GroundTruthTable } from '../domain/ground-truth.js';
import { type ScoreToWrite, scoresOf } from '../domain/scores.js';
import type { EvaluationSpec } from '../domain/spec.js';
import type { EvalTelemetry } from './telemetry.js';

export interface PollerOptions {
  spec: EvaluationSpec;
  source: TraceSource;
  store: PollStore;
  groundTruth: GroundTruthCache;
  telemetry: EvalTelemetry;
  logger: Logger;
  replicaId: string;
  maxTracesPerPoll: number;
  ingestionDelayMs: number;
  pollIntervalMs: number;
  leaseTtlMs: number;
  scoreWriteConcurrency: number;
  /** Where a stream that was never polled begins. */
  startAt: Date;
  now?: () => number;
}

export type PollResult =
  | { status: 'standby'; holder: string | undefined }
  | { status: 'waiting'; reason: 'ground_truth_unavailable' }
  | {
      status: 'polled';
      read: number;
      scored: number;
      skipped: number;
      alreadyHandled: number;
      caughtUp: boolean;
    };

const SCORES_IN_FLIGHT_PER_TRACE = 4;

/** Skips decided by the service rather than by the domain: Langfuse refused the scores, or evaluation threw. */
type OutcomeReason = SkipReason | 'score_rejected' | 'evaluation_failed';

/**
 * The polling loop. Each poll, under the stream's lease:
 * 1. reads the window [watermark, now - INGESTION_DELAY) page by page, resuming at the saved page cursor;
 * 2. scores each trace not yet handled, writes its scores (deterministic ids: a replay upserts) and
 *    records its outcome; a trace that cannot be scored is recorded as skipped with its reason;
 * 3. saves the cursor after every page and moves the watermark when the window is done.
 * A retriable Langfuse failure ends the poll with nothing recorded for the traces it hit: the next
 * poll reads the same page again and handles only what is still missing.
 */
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PollResult | undefined> | undefined;
  private stopped = false;
  private lastPollAt: number | undefined;
  private lastWatermark: Date | undefined;
  private readonly now: () => number;
  private readonly pageLimit: number;

  constructor(private readonly options: PollerOptions) {
    this.now = options.now ?? Date.now;
    // A fixed page size keeps page numbers meaning the same offsets across polls and restarts.
    this.pageLimit = Math.min(PAGE_LIMITS[options.source.api], options.maxTracesPerPoll);
  }

  start(): void {
    this.stopped = false;
    const tick = async () => {
      await this.pollOnce();
      if (!this.stopped) this.timer = setTimeout(tick, this.options.pollIntervalMs);
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops polling after the poll in progress; gives the lease up so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.options.store.releaseLease(this.options.replicaId).catch(() => {});
  }

  /** Seconds from the watermark to now: how far behind the newest traces the service is. */
  lagSeconds(): number | undefined {
    return this.lastWatermark ? Math.max(0, (this.now() - this.lastWatermark.getTime()) / 1000) : undefined;
  }

  status() {
    return {
      replica_id: this.options.replicaId,
      stream: this.options.store.stream,
      read_api: this.options.source.api,
      last_poll_at: this.lastPollAt === undefined ? undefined : new Date(this.lastPollAt).toISOString(),
      watermark: this.lastWatermark?.toISOString(),
      lag_s: this.lagSeconds(),
    };
  }

  /** One poll; concurrent calls share it. Errors are counted and logged, never thrown. */
  pollOnce(): Promise<PollResult | undefined> {
    this.running ??= this.poll()
      .catch((error: unknown) => {
        this.recordError(error);
        return undefined;
      })
      .finally(() => {
        this.running = undefined;
        this.lastPollAt = this.now();
        this.options.telemetry.pollCompleted();
      });
    return this.running;
  }

  private async poll(): Promise<PollResult> {
    const { store, replicaId, telemetry } = this.options;
    if (!(await store.acquireLease(replicaId, this.options.leaseTtlMs))) {
      const holder = await store.leaseHolder();
      return { status: 'standby', holder: holder?.holder };
    }
    let table: GroundTruthTable | undefined;
    if (this.options.spec.mode === 'ground_truth') {
      table = await this.options.groundTruth.current();
      // Without ground truth every trace would be skipped for good; wait for it instead.
      if (!table) {
        telemetry.error('ground_truth_unavailable');
        return { status: 'waiting', reason: 'ground_truth_unavailable' };
      }
    }
    let state = (await store.state()) ?? (await store.initialise(this.options.startAt));
    this.lastWatermark = state.watermark;
    const result = {
      status: 'polled' as const,
      read: 0,
      scored: 0,
      skipped: 0,
      alreadyHandled: 0,
      caughtUp: false,
    };
    while (result.read + this.pageLimit <= this.options.maxTracesPerPoll) {
      const windowEnd = state.windowEnd ?? new Date(this.now() - this.options.ingestionDelayMs);
      if (windowEnd <= state.watermark) {
        result.caughtUp = true;
        break;
      }
      const page = await this.options.source.readPage(
        { from: state.watermark, to: windowEnd },
        state.pageCursor,
        this.pageLimit,
      );
      result.read += page.traces.length;
      telemetry.polled(page.traces.length);
      const handled = await store.handled(page.traces.map((trace) => trace.id));
      result.alreadyHandled += handled.size;
      const outcomes = await this.handleTraces(
        page.traces.filter((trace) => !handled.has(trace.id)),
        table,
      );
      result.scored += outcomes.filter((outcome) => outcome.outcome === 'scored').length;
      result.skipped += outcomes.filter((outcome) => outcome.outcome === 'skipped').length;
      if (page.next) {
        await store.saveProgress(replicaId, { windowEnd, pageCursor: page.next });
        state = { ...state, windowEnd, pageCursor: page.next };
      } else {
        await store.completeWindow(replicaId, windowEnd);
        state = { watermark: windowEnd, windowEnd: undefined, pageCursor: undefined };
        this.lastWatermark = windowEnd;
        // The window reached (almost) now: what arrives next is for the next poll.
        result.caughtUp = true;
        break;
      }
      // Keep the lease for as long as the poll runs.
      if (!(await store.acquireLease(replicaId, this.options.leaseTtlMs)))
        throw new LeaseLostError('lease lost during the poll');
    }
    return result;
  }

  /**
   * Scores traces with at most SCORE_WRITE_CONCURRENCY score writes in flight. Each trace's outcome is
   * recorded as soon as all its scores are written. A retriable failure stops the page (rethrown after
   * the traces already done are recorded).
   */
  private async handleTraces(
    traces: readonly TraceRecord[],
    table: GroundTruthTable | undefined,
  ): Promise<TraceOutcomeRecord[]> {
    const { telemetry, logger } = this.options;
    const done: TraceOutcomeRecord[] = [];
    let failure: unknown;
    let next = 0;
    const worker = async () => {
      while (failure === undefined && next < traces.length) {
        const trace = traces[next++]!;
        const started = performance.now();
        try {
          const record = await this.handleTrace(trace, table);
          await this.options.store.record([record]);
          done.push(record);
          if (record.outcome === 'scored') telemetry.scored(performance.now() - started);
          else {
            telemetry.skipped(record.reason ?? 'unknown');
            logger.info(
              { event: 'trace_skipped', trace_id: trace.id, reason: record.reason, detail: record.detail },
              'trace skipped',
            );
          }
        } catch (error) {
          failure ??= error;
        }
      }
    };
    // Each trace writes up to SCORES_IN_FLIGHT_PER_TRACE scores at once; together about SCORE_WRITE_CONCURRENCY.
    const workers = Math.max(
      1,
      Math.min(traces.length, Math.ceil(this.options.scoreWriteConcurrency / SCORES_IN_FLIGHT_PER_TRACE)),
    );
    await Promise.all(Array.from({ length: workers }, worker));
    if (failure !== undefined) throw failure;
    return done;
  }

  private async handleTrace(
    trace: TraceRecord,
    table: GroundTruthTable | undefined,
  ): Promise<TraceOutcomeRecord> {
    const { spec, source } = this.options;
    let enriched = trace;
    if (spec.mode === 'judge') enriched = { ...trace, scores: await source.evalScoresOf(trace.id) };
    else if (spec.output.from !== 'trace_output')
      enriched = { ...trace, generations: await source.generationsOf(trace.id) };
    let outcome: TraceOutcome;
    try {
      outcome = evaluateTrace(spec, enriched, table);
    } catch (error) {
      // A value the domain did not foresee must not stop the loop on this trace forever.
      const reason: OutcomeReason = 'evaluation_failed';
      return {
        traceId: trace.id,
        outcome: 'skipped',
        reason,
        detail: (error as Error).message ?? String(error),
      };
    }
    if (outcome.status === 'skipped')
      return { traceId: trace.id, outcome: 'skipped', reason: outcome.reason, detail: outcome.detail };
    const scores = scoresOf(spec, trace.id, outcome.evaluation, {
      groundTruthVersion: table?.version,
      groundTruthKey: outcome.groundTruthKey,
    });
    try {
      await writeAll(scores, (score) => source.writeScore(score), SCORES_IN_FLIGHT_PER_TRACE);
    } catch (error) {
      if (error instanceof LangfuseCallError && error.type === 'rejected') {
        const reason: OutcomeReason = 'score_rejected';
        return { traceId: trace.id, outcome: 'skipped', reason, detail: error.message };
      }
      throw error;
    }
    return { traceId: trace.id, outcome: 'scored' };
  }

  private recordError(error: unknown): void {
    const type =
      error instanceof LangfuseCallError
        ? `langfuse_${error.type}`
        : error instanceof LeaseLostError
          ? 'lease_lost'
          : 'internal';
    this.options.telemetry.error(type);
    this.options.logger.error({ event: 'poll_failed', error_type: type, err: error }, 'poll failed');
  }
}

async function writeAll(
  scores: readonly ScoreToWrite[],
  write: (score: ScoreToWrite) => Promise<void>,
  concurrency: number,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < scores.length) await write(scores[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, scores.length) }, worker));
}
