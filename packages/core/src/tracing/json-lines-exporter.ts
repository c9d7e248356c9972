import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type ExportResult, ExportResultCode, hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** One finished span as a line of the traces file. */
export interface SpanLine {
  traceId: string;
  /** The same id as X-Ray writes it, for searching the console or the logs. */
  xrayTraceId: string;
  spanId: string;
  /** null for a root span. */
  parentSpanId: string | null;
  name: string;
  kind: number;
  service: unknown;
  startTime: string;
  durationMs: number;
  status: { code: number; message?: string };
  attributes: Record<string, unknown>;
  events: { name: string; time: string; attributes: Record<string, unknown> }[];
}

/**
 * Appends finished spans to a file, one JSON object per line, so a developer can read traces with
 * `tail -f` or `jq` and no collector. Meant for local use behind a batch processor.
 */
export class JsonLinesSpanExporter implements SpanExporter {
  private ready: Promise<unknown> | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.ready ??= mkdir(dirname(this.path), { recursive: true });
    const text = spans.map((span) => `${JSON.stringify(spanLineOf(span))}\n`).join('');
    this.pending = this.pending
      .then(() => this.ready)
      .then(() => appendFile(this.path, text))
      .then(
        () => resultCallback({ code: ExportResultCode.SUCCESS }),
        (error: Error) => resultCallback({ code: ExportResultCode.FAILED, error }),
      );
  }

  async forceFlush(): Promise<void> {
    await this.pending;
  }

  async shutdown(): Promise<void> {
    await this.pending;
  }
}

export function spanLineOf(span: ReadableSpan): SpanLine {
  const { traceId, spanId } = span.spanContext();
  return {
    traceId,
    xrayTraceId: `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    kind: span.kind,
    service: span.resource.attributes['service.name'],
    startTime: new Date(hrTimeToMilliseconds(span.startTime)).toISOString(),
    durationMs: hrTimeToMilliseconds(span.duration),
    status: span.status,
    attributes: { ...span.attributes },
    events: span.events.map((event) => ({
      name: event.name,
      time: new Date(hrTimeToMilliseconds(event.time)).toISOString(),
      attributes: { ...event.attributes },
    })),
  };
}
