import { trace } from '@opentelemetry/api';

/**
 * `trace_id`, `span_id` and `trace_flags` of the current span, for every log line, so logs and traces
 * join up (the fields @opentelemetry/instrumentation-pino writes). Empty outside a recorded span;
 * with tracing off the OpenTelemetry API has no span to give, so this costs one lookup.
 */
export function traceLogFields(): Record<string, string> | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return {
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    trace_flags: `0${spanContext.traceFlags.toString(16)}`,
  };
}
