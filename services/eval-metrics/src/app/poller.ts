import type { Logger } from '@stratus/core';
import type { GroundTruthCache } from '../adapters/ground-truth-cache.js';
import { LangfuseCallError, PAGE_LIMITS, type TracePage, type TraceSource } from '../adapters/langfuse.js';
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
    // The next page of the window is read while this one is scored: reads change nothing, so a page
    // read ahead and never used (the poll failed or stopped) costs one request and nothing else.
    let ahead: { cursor: string; page: Promise<TracePage> } | undefined;
    while (result.read + this.pageLimit <= this.options.maxTracesPerPoll) {
      const windowEnd = state.windowEnd ?? new Date(this.now() - this.options.ingestionDelayMs);
      if (windowEnd <= state.watermark) {
        result.caughtUp = true;
        break;
      }
      const window = { from: state.watermark, to: windowEnd };
      const page = await (ahead !== undefined && ahead.cursor === state.pageCursor
        ? ahead.page
        : this.options.source.readPage(window, state.pageCursor, this.pageLimit));
      ahead = undefined;
      result.read += page.traces.length;
      telemetry.polled(page.traces.length);
      if (page.next !== undefined && result.read + this.pageLimit <= this.options.maxTracesPerPoll) {
        ahead = { cursor: page.next, page: this.options.source.readPage(window, page.next, this.pageLimit) };
        // Awaited when its turn comes; until then a failure must not count as unhandled.
        ahead.page.catch(() => {});
      }
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
   * Scores traces with at most SCORE_WRITE_CONCURRENCY score writes in flight, shared by all the
   * traces of the page. A trace's outcome is recorded once all its scores are written; outcomes that
   * finish while a record is being written go together in the next one (one INSERT for many traces).
   * A retriable failure stops the page: no new write starts, the traces already done are recorded,
   * then it is rethrown. A trace with only some scores written is not recorded, so the next poll
   * writes them all again under the same ids (an upsert).
   */
  private async handleTraces(
    traces: readonly TraceRecord[],
    table: GroundTruthTable | undefined,
  ): Promise<TraceOutcomeRecord[]> {
    const { telemetry, logger, store } = this.options;
    let failure: unknown;
    const writes = new WriteSlots(this.options.scoreWriteConcurrency);
    const writeScore = async (score: ScoreToWrite) => {
      await writes.acquire();
      try {
        if (failure !== undefined) throw failure;
        await this.options.source.writeScore(score);
      } finally {
        writes.release();
      }
    };
    const outcomes = new OutcomeRecorder(store, (record, latencyMs) => {
      if (record.outcome === 'scored') telemetry.scored(latencyMs);
      else {
        telemetry.skipped(record.reason ?? 'unknown');
        logger.info(
          { event: 'trace_skipped', trace_id: record.traceId, reason: record.reason, detail: record.detail },
          'trace skipped',
        );
      }
    });
    let next = 0;
    const worker = async () => {
      while (failure === undefined && next < traces.length) {
        const trace = traces[next++]!;
        const started = performance.now();
        try {
          outcomes.add(await this.handleTrace(trace, table, writeScore), started);
        } catch (error) {
          failure ??= error;
        }
      }
    };
    // Enough traces at once to keep every write slot busy while others are being evaluated.
    const workers = Math.max(1, Math.min(traces.length, this.options.scoreWriteConcurrency));
    await Promise.all(Array.from({ length: workers }, worker));
    const done = await outcomes.drain();
    if (failure !== undefined) throw failure;
    return done;
  }

  private async handleTrace(
    trace: TraceRecord,
    table: GroundTruthTable | undefined,
    writeScore: (score: ScoreToWrite) => Promise<void>,
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
    const written = await Promise.allSettled(scores.map(writeScore));
    const failed = written.find((result) => result.status === 'rejected');
    if (failed) {
      const error = failed.reason;
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

/** A counting semaphore: at most `size` holders at once, the others wait in order. */
class WriteSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/**
 * Records outcomes in batches: one INSERT at a time, carrying every outcome that arrived while the
 * previous one ran. `onRecorded` runs for each outcome once it is stored.
 */
class OutcomeRecorder {
  private pending: { record: TraceOutcomeRecord; started: number }[] = [];
  private writing: Promise<void> | undefined;
  private error: unknown;
  private readonly recorded: TraceOutcomeRecord[] = [];

  constructor(
    private readonly store: PollStore,
    private readonly onRecorded: (record: TraceOutcomeRecord, latencyMs: number) => void,
  ) {}

  add(record: TraceOutcomeRecord, started: number): void {
    this.pending.push({ record, started });
    this.writing ??= this.writeAll().finally(() => {
      this.writing = undefined;
    });
  }

  /** Waits for every outcome added so far; returns those stored, or throws the store's error. */
  async drain(): Promise<TraceOutcomeRecord[]> {
    while (this.writing) await this.writing;
    if (this.error !== undefined) throw this.error;
    return this.recorded;
  }

  private async writeAll(): Promise<void> {
    while (this.pending.length > 0 && this.error === undefined) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.store.record(batch.map((item) => item.record));
      } catch (error) {
        this.error = error;
        return;
      }
      const now = performance.now();
      for (const { record, started } of batch) {
        this.recorded.push(record);
        this.onRecorded(record, now - started);
      }
    }
  }
}
