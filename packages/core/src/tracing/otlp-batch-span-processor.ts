import { diag, TraceFlags } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode, globalErrorHandler } from '@opentelemetry/core';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OtlpExportThread } from './otlp-export-thread.js';
import { OtlpJsonBatch } from './otlp-json.js';

/**
 * Ended spans are written into the batch a few at a time, in a tight loop that runs faster (warm
 * caches and code) than writing each one between two requests' work: 32 at a time, or whatever has
 * ended by the end of the event loop's turn (setImmediate). A span must be written while young: one
 * that survives a young-generation collection is promoted and costs far more. bench/tracing's server
 * at 100 %, side by side in one pinned run: 1 at a time kept 0.558 of untraced throughput, 16 0.598,
 * 32 0.610, and 128 was worse than 1. At 5 %, 32 spans take 640 requests to end, and waiting for them
 * kept 0.82 where one at a time kept 0.90: hence the end of the turn as well.
 */
const WRITE_EVERY = 32;

export interface OtlpBatchSpanProcessorOptions {
  /** The collector's traces URL, e.g. `http://127.0.0.1:4318/v1/traces`. */
  url: string;
  /** Per HTTP attempt; default 10 s. */
  timeoutMs?: number;
  /** Spans per export request; default 512, the SDK's. */
  maxExportBatchSize?: number;
  /** Longest a finished span waits for its batch to fill before it is sent anyway; default 1 s. */
  scheduledDelayMillis?: number;
  /** Finished spans held while a batch is sent; beyond it new spans are dropped. Default 8,192. */
  maxQueueSize?: number;
}

/** A batch closed and waiting to be sent (or being sent): its export request body and its outcome. */
interface SealedBatch {
  body: Buffer[];
  spans: number;
  outcome: Promise<ExportResult>;
  settle: (result: ExportResult) => void;
}

/**
 * The SDK's batch span processor and an OTLP/HTTP (JSON) exporter in one: sampled spans are sent in
 * batches (512 spans, or whatever is there after 1 s) over keep-alive connections, one request at a
 * time, from a thread of their own (`OtlpExportThread`), and a batch the collector refuses for now
 * (429/502/503/504, no connection) is sent again with backoff (1 s, x1.5, at most 5 attempts) while
 * the process runs.
 *
 * Unlike the stock pair it writes spans into their batch as OTLP/JSON bytes as they end (a few at a
 * time), instead of keeping them until the batch is serialized: a span then dies young, in V8's
 * cheap young-generation collection, where a kept one was promoted and collected in the old
 * generation, and no transformer object tree is built per batch (together about two thirds of what a
 * sampled request cost, see bench/tracing). And once `stopRetrying()` (or `shutdown()`) is called each
 * batch gets one last attempt and no timer is left behind (`OtlpHttpExport`).
 */
export class OtlpBatchSpanProcessor implements SpanProcessor {
  private readonly maxExportBatchSize: number;
  private readonly scheduledDelayMillis: number;
  private readonly maxQueueSize: number;
  private readonly exportThread: OtlpExportThread;

  /** Each scope's buffer size in the last batch, so the next starts big enough. */
  private readonly scopeBytes = new Map<string, number>();
  /** The batch being filled. */
  private open = new OtlpJsonBatch(this.scopeBytes);
  /** Spans of the open batch not written into it yet (fewer than WRITE_EVERY). */
  private readonly ended: ReadableSpan[] = [];
  /** Writes the ended spans at the end of this event loop turn; undefined when none is due. */
  private writeTurn: NodeJS.Immediate | undefined;
  private readonly writeEndedThisTurn = () => {
    this.writeTurn = undefined;
    this.writeEnded();
  };
  private openCount = 0;
  private openTimer: NodeJS.Timeout | undefined;
  /** Sealed batches in order; the first is being sent while `sending`. */
  private readonly sealed: SealedBatch[] = [];
  private sealedSpans = 0;
  private sending = false;
  private droppedSpans = 0;
  private shutDown = false;

  constructor(options: OtlpBatchSpanProcessorOptions) {
    this.maxExportBatchSize = options.maxExportBatchSize ?? 512;
    this.scheduledDelayMillis = options.scheduledDelayMillis ?? 1_000;
    this.maxQueueSize = options.maxQueueSize ?? 8_192;
    this.exportThread = new OtlpExportThread({ url: options.url, timeoutMs: options.timeoutMs ?? 10_000 });
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.shutDown || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.openCount + this.sealedSpans >= this.maxQueueSize) {
      if (this.droppedSpans++ === 0)
        diag.warn(`OTLP export falls behind: dropping spans beyond the queue of ${this.maxQueueSize}`);
      return;
    }
    this.ended.push(span);
    if (this.ended.length >= WRITE_EVERY) this.writeEnded();
    else if (this.writeTurn === undefined) {
      this.writeTurn = setImmediate(this.writeEndedThisTurn);
      this.writeTurn.unref();
    }
    if (++this.openCount >= this.maxExportBatchSize) this.seal();
    else if (this.openTimer === undefined) {
      this.openTimer = setTimeout(() => this.seal(), this.scheduledDelayMillis);
      this.openTimer.unref();
    }
  }

  /** Sends what is batched now and resolves once every batch so far is sent; rejects if one failed. */
  async forceFlush(): Promise<void> {
    this.seal();
    const results = await Promise.all(this.sealed.map((batch) => batch.outcome));
    const failed = results.find((result) => result.code !== ExportResultCode.SUCCESS);
    if (failed) throw failed.error ?? new Error('OTLP export failed');
  }

  /** From now on a failed batch is not sent again: shutdown must not wait on a backoff. */
  stopRetrying(): void {
    this.exportThread.stopRetrying();
  }

  async shutdown(): Promise<void> {
    this.stopRetrying();
    try {
      await this.forceFlush();
    } finally {
      this.shutDown = true;
      if (this.droppedSpans > 0) diag.warn(`OTLP export dropped ${this.droppedSpans} spans in all`);
      // Spans that ended during the last flush are not sent: nothing may start an export now.
      clearTimeout(this.openTimer);
      clearImmediate(this.writeTurn);
      await this.exportThread.close();
    }
  }

  /** Writes the ended spans into the open batch, each under its scope. */
  private writeEnded(): void {
    const ended = this.ended;
    for (let i = 0; i < ended.length; i++) this.open.add(ended[i] as ReadableSpan);
    ended.length = 0;
  }

  /** Closes the open batch into an export request body and queues it. */
  private seal(): void {
    this.writeEnded();
    clearTimeout(this.openTimer);
    this.openTimer = undefined;
    const body = this.open.body();
    if (body === undefined) return;
    let settle!: (result: ExportResult) => void;
    const outcome = new Promise<ExportResult>((resolve) => {
      settle = resolve;
    });
    this.sealed.push({ body, spans: this.openCount, outcome, settle });
    this.sealedSpans += this.openCount;
    this.open = new OtlpJsonBatch(this.scopeBytes);
    this.openCount = 0;
    this.sendNext();
  }

  /** One export request at a time, in order, as the SDK's batch processor does. */
  private sendNext(): void {
    const batch = this.sealed[0];
    if (this.sending || batch === undefined) return;
    this.sending = true;
    // As in the SDK's processor, the queue bound counts spans waiting, not the batch being sent.
    this.sealedSpans -= batch.spans;
    void this.exportThread.deliver(batch.body).then((result) => {
      this.sealed.shift();
      this.sending = false;
      if (result.code !== ExportResultCode.SUCCESS) globalErrorHandler(result.error ?? result);
      batch.settle(result);
      this.sendNext();
    });
  }
}
