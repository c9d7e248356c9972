import {
  type Attributes,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Tracing } from '@stratus/core';

/**
 * The X-Ray trace header of the current Lambda invocation. The Lambda runtime sets `_X_AMZN_TRACE_ID`
 * anew for every invocation (from API Gateway's header or the EventBridge event's TraceHeader), so it
 * is read here, per invocation, and not once with the settings. Outside Lambda, `fallback` (the
 * request's own X-Amzn-Trace-Id header) continues the caller's trace.
 */
export function lambdaTraceHeader(fallback?: string): string | undefined {
  return process.env._X_AMZN_TRACE_ID || fallback || undefined;
}

/**
 * Runs one invocation inside a SERVER span (the function's segment) whose parent is the trace header,
 * then flushes the spans: Lambda may freeze the process as soon as the handler returns. The
 * instrumentations that patch modules at load time do not see into a bundle, which is why the
 * function opens its own span.
 */
export interface InvocationSpan<T> {
  name: string;
  traceHeader: string | undefined;
  attributes: Attributes;
  /** Default SERVER (a Lambda invocation); CONSUMER for the local bus's deliveries. */
  kind?: SpanKind;
  /** The HTTP status of a result, recorded on the span (5xx marks it as an error). */
  statusOf?: (result: T) => number;
  /** Flushed after each invocation; locally the batch processor is left to its own pace. */
  flush?: Tracing;
}

export async function inInvocationSpan<T>(span: InvocationSpan<T>, work: () => Promise<T>): Promise<T> {
  const { name, traceHeader, attributes, statusOf } = span;
  const parent = traceHeader
    ? propagation.extract(ROOT_CONTEXT, { 'x-amzn-trace-id': traceHeader })
    : ROOT_CONTEXT;
  try {
    return await trace
      .getTracer('@stratus/identity')
      .startActiveSpan(name, { kind: span.kind ?? SpanKind.SERVER, attributes }, parent, async (active) => {
        try {
          const result = await work();
          const status = statusOf?.(result);
          if (status !== undefined) {
            active.setAttribute('http.response.status_code', status);
            if (status >= 500) active.setStatus({ code: SpanStatusCode.ERROR });
          }
          return result;
        } catch (error) {
          active.recordException(error instanceof Error ? error : String(error));
          active.setStatus({
            code: SpanStatusCode.ERROR,
            message: error instanceof Error ? error.message : String(error),
          });
          throw error;
        } finally {
          active.end();
        }
      });
  } finally {
    await span.flush?.forceFlush();
  }
}
