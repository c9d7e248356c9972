import type { SpanLine } from '@stratus/core';

export interface WaterfallSpan {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  service: string;
  kind: string;
  /** Milliseconds from the start of the trace. */
  offsetMs: number;
  durationMs: number;
  status: 'UNSET' | 'OK' | 'ERROR';
  /** X-Ray annotations: the attributes named by `aws.xray.annotations`. */
  annotations: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

export interface TraceWaterfall {
  traceId: string;
  rootName: string;
  service: string;
  start: string;
  durationMs: number;
  spans: WaterfallSpan[];
}

const SPAN_KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS_CODES = ['UNSET', 'OK', 'ERROR'] as const;
const ANNOTATIONS_ATTRIBUTE = 'aws.xray.annotations';

/** Parses the lines of traces files; lines that are not spans (a torn last line, say) are skipped. */
export function parseSpanLines(text: string): SpanLine[] {
  const spans: SpanLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const span = JSON.parse(line) as SpanLine;
      if (typeof span.traceId === 'string' && typeof span.spanId === 'string') spans.push(span);
    } catch {
      // torn or foreign line
    }
  }
  return spans;
}

/**
 * Spans grouped into traces, newest first, each ordered by start time with offsets from its first
 * span: what a waterfall draws. A trace whose spans came from several services is one trace.
 */
export function traceWaterfalls(spans: readonly SpanLine[], limit: number): TraceWaterfall[] {
  const byTrace = new Map<string, SpanLine[]>();
  for (const span of spans) {
    const group = byTrace.get(span.traceId);
    if (group) group.push(span);
    else byTrace.set(span.traceId, [span]);
  }
  const traces: TraceWaterfall[] = [];
  for (const [traceId, group] of byTrace) {
    const starts = group.map((span) => Date.parse(span.startTime));
    const start = Math.min(...starts);
    const end = Math.max(...group.map((span, index) => (starts[index] ?? start) + span.durationMs));
    const ids = new Set(group.map((span) => span.spanId));
    // The root is the span without a parent here (a caller outside the local platform counts as none).
    const root = group.find((span) => span.parentSpanId === null || !ids.has(span.parentSpanId)) ?? group[0];
    const ordered = group
      .map((span, index) => ({ span, startMs: starts[index] ?? start }))
      .sort((a, b) => a.startMs - b.startMs);
    traces.push({
      traceId,
      rootName: root?.name ?? '',
      service: String(root?.service ?? ''),
      start: new Date(start).toISOString(),
      durationMs: end - start,
      spans: ordered.map(({ span, startMs }) => waterfallSpanOf(span, startMs - start)),
    });
  }
  return traces.sort((a, b) => b.start.localeCompare(a.start)).slice(0, limit);
}

function waterfallSpanOf(span: SpanLine, offsetMs: number): WaterfallSpan {
  const annotationKeys = span.attributes[ANNOTATIONS_ATTRIBUTE];
  const annotations: Record<string, unknown> = {};
  if (Array.isArray(annotationKeys))
    for (const key of annotationKeys) if (typeof key === 'string') annotations[key] = span.attributes[key];
  return {
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    service: String(span.service ?? ''),
    kind: SPAN_KINDS[span.kind] ?? 'INTERNAL',
    offsetMs,
    durationMs: span.durationMs,
    status: STATUS_CODES[span.status?.code ?? 0] ?? 'UNSET',
    annotations,
    attributes: span.attributes,
  };
}
