import { type SpanContext, trace } from '@opentelemetry/api';

type TraceLogFields = Readonly<{ trace_id: string; span_id: string; trace_flags: string }>;

// A span logs many lines: build its fields once. Callers must not change the object.
const fieldsBySpan = new WeakMap<SpanContext, TraceLogFields>();

/**
 * `trace_id`, `span_id` and `trace_flags` of the current span, for every log line, so logs and traces
 * join up (the fields @opentelemetry/instrumentation-pino writes). Undefined outside a span; with
 * tracing off the OpenTelemetry API has no span to give, so this costs one lookup.
 */
export function traceLogFields(): TraceLogFields | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext) return undefined;
  let fields = fieldsBySpan.get(spanContext);
  if (fields === undefined) {
    if (!trace.isSpanContextValid(spanContext)) return undefined;
    fields = Object.freeze({
      trace_id: spanContext.traceId,
      span_id: spanContext.spanId,
      trace_flags: `0${spanContext.traceFlags.toString(16)}`,
    });
    fieldsBySpan.set(spanContext, fields);
  }
  return fields;
}
