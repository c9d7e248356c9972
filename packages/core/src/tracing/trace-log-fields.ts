import { type Context, INVALID_TRACEID, type SpanContext, TraceFlags, trace } from '@opentelemetry/api';
import { currentTraceContext } from '../logging/log-context.js';

type TraceLogFields = { trace_id: string; span_id?: string };

/**
 * The trace fields of a log line, from the current span. A line inside a sampled trace gets
 * `trace_id` and `span_id`, so it joins the span it was written in. A line of a request that is not
 * sampled gets `trace_id` only: no span of it is exported to point at. (So a `span_id` says the trace
 * was sampled, and no `trace_flags` field is needed: each field on every line is a measurable share
 * of what tracing costs a request, see bench/tracing.) The trace id still joins the lines of one
 * request across services. Undefined outside a span, and with tracing off (one lookup).
 */
export function traceLogFields(): TraceLogFields | undefined {
  const spanContext = loggedSpanContext();
  if (!spanContext) return undefined;
  return (spanContext.traceFlags & TraceFlags.SAMPLED) === 0
    ? { trace_id: spanContext.traceId }
    : { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/**
 * The same fields as JSON text to splice into a line (`,"trace_id":"…"`), or '' outside a span. The
 * logger writes them this way rather than as fields: ids are hex, so they need no escaping and no
 * redaction, and no object is built or merged into the line's fields for them (measured at about
 * 1 µs per request with two request lines, see bench/tracing).
 */
export function traceLogJson(): string {
  const spanContext = loggedSpanContext();
  if (!spanContext) return '';
  return (spanContext.traceFlags & TraceFlags.SAMPLED) === 0
    ? `,"trace_id":"${spanContext.traceId}"`
    : `,"trace_id":"${spanContext.traceId}","span_id":"${spanContext.spanId}"`;
}

/**
 * The current span's ids, read from the log context's storage, where the SDK's context manager keeps
 * OpenTelemetry's context (shared-context-manager.ts): two lookups, where the API's getActiveSpan
 * goes through its global registry first. Ids come from our own SDK or a propagator that validated
 * them; only the invalid (all-zero) context of a suppressed or no-op span is left out.
 */
function loggedSpanContext(): SpanContext | undefined {
  const active = currentTraceContext() as Context | undefined;
  const spanContext = active && trace.getSpan(active)?.spanContext();
  return spanContext && spanContext.traceId !== INVALID_TRACEID ? spanContext : undefined;
}
