import { INVALID_TRACEID, TraceFlags, trace } from '@opentelemetry/api';

type TraceLogFields = { trace_id: string; span_id?: string };

/**
 * The trace fields of a log line, from the current span. A line inside a sampled trace gets
 * `trace_id` and `span_id`, so it joins the span it was written in. A line of a request that is not
 * sampled gets `trace_id` only: no span of it is exported to point at. (So a `span_id` says the trace
 * was sampled, and no `trace_flags` field is needed: each field on every line is a measurable share
 * of what tracing costs a request, see bench/tracing.) The trace id still joins the lines of one
 * request across services. Undefined outside a span, and with tracing off (one lookup).
 *
 * A new small object each call: short-lived objects are what the young generation collects for
 * free, where a cache keyed by span (a WeakMap entry per request) cost more in GC than it saved.
 * Ids come from our own SDK or a propagator that validated them; only the invalid (all-zero)
 * context of a suppressed or no-op span is left out.
 */
export function traceLogFields(): TraceLogFields | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || spanContext.traceId === INVALID_TRACEID) return undefined;
  return (spanContext.traceFlags & TraceFlags.SAMPLED) === 0
    ? { trace_id: spanContext.traceId }
    : { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
