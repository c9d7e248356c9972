import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AwsSettings, BaseServiceSettings, TracingSettings } from '../settings/schemas.js';
import type { XRayTracingSettings } from './tracing-settings.js';

/** What `configureTracing` reads: the base and tracing groups; sampling/export settings are optional. */
export type TracingSetup = Pick<BaseServiceSettings, 'SERVICE_NAME' | 'ENVIRONMENT'> &
  Partial<Pick<BaseServiceSettings, 'PROJECT_NAME'>> &
  TracingSettings &
  Partial<Omit<XRayTracingSettings, keyof TracingSettings>> &
  Partial<AwsSettings>;

/** A request's SERVER span, for a hook that starts it and a response listener that ends it. */
export interface RequestSpans {
  /**
   * Starts the request's span, first thing in an onRequest hook, and returns the trace context to
   * run the request in (opaque here); undefined for probes (/health, /ready, /stats), not traced.
   */
  start(request: FastifyRequest, reply: FastifyReply): unknown;
  /** Ends the request's span, if it has one to end: call it as (or from) a 'close' listener of `reply.raw`. */
  responseClosed(this: ServerResponse): void;
}

/** The process's tracing, as `configureTracing` set it up. */
export interface Tracing {
  readonly enabled: boolean;
  /**
   * Traces a fastify app's requests: a SERVER span per request (HTTP semantic conventions) that
   * continues the caller's trace from `traceparent` or `X-Amzn-Trace-Id` and is current in the
   * handler. `createService` calls it when given `tracing`; call it yourself only for a bare fastify
   * app, before its routes are added.
   */
  instrumentService(app: FastifyInstance): Promise<void>;
  /**
   * For the HTTP kit, which enters one context per request for its log fields and the trace
   * together, and listens for each response's end once: what `instrumentService` does but its hooks,
   * and the two functions those hooks would call. Absent where requests are not traced this way.
   */
  requestSpans?(app: FastifyInstance): Promise<RequestSpans>;
  /** Exports every finished span now (tests, and before a Lambda freezes). */
  forceFlush(): Promise<void>;
  /** Flushes, stops the exporters and unregisters the global tracer; configureTracing may run again. */
  shutdown(): Promise<void>;
}

const disabled: Tracing = {
  enabled: false,
  instrumentService: async () => {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

/**
 * Sets up OpenTelemetry tracing for the process, once, before the service is built. With
 * ENABLE_TRACING=false it returns a no-op handle and loads no SDK (the X-Ray helpers then act on
 * non-recording spans). Otherwise it starts the Node SDK with: X-Ray trace ids; W3C traceparent and
 * X-Amzn-Trace-Id extracted and injected; parent-based X-Ray sampling (local rules or the remote
 * sampler); a batch processor to OTLP/HTTP (JSON) at OTLP_ENDPOINT and/or a JSON-lines file; resource
 * attributes service.name, deployment.environment.name and cloud.*; instrumentation of outbound
 * fetch/undici and http, AWS SDK v3 (with X-Amzn-Trace-Id on each call) and pg. No metrics or logs
 * go to the collector. Log lines carry trace_id (and span_id when sampled) through the logger.
 *
 * Throws SamplingRulesError for an unreadable rules file, and an Error when tracing is already on.
 */
export async function configureTracing(settings: TracingSetup): Promise<Tracing> {
  if (!settings.ENABLE_TRACING) return disabled;
  const { startTracingSdk } = await import('./tracing-sdk.js');
  return startTracingSdk(settings);
}
