import type { ServerResponse } from 'node:http';
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import {
  type IdGenerator,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
} from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Probes are polled every few seconds by load balancers and Kubernetes; tracing them is noise. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/stats']);

/** The request's trace context (its SERVER span current); null for requests that are not traced. */
const REQUEST_TRACE = Symbol('stratus.requestTrace');
/** What the handler threw, recorded on the span if the answer turns out to be a 5xx. */
const REQUEST_ERROR = Symbol('stratus.requestError');
type TracedRequest = FastifyRequest & { [REQUEST_TRACE]: Context | null; [REQUEST_ERROR]: Error | null };

/**
 * Starts a request's SERVER span and returns the trace context to run the request in (the span
 * current in it), or undefined for a probe (/health, /ready, /stats), which is not traced.
 */
export type RequestSpanStarter = (request: FastifyRequest, reply: FastifyReply) => Context | undefined;

/**
 * One SERVER span per request, the X-Ray segment: it continues the caller's trace from the headers
 * the configured propagators read (traceparent, X-Amzn-Trace-Id), is current while hooks and the
 * handler run (so subsegments, outbound calls and log lines belong to it; fastify carries the
 * request's async context across body parsing itself), and ends when the response closes.
 * Attributes follow the HTTP semantic conventions.
 *
 * For a bare fastify app: an onRequest hook that enters the span's context. The HTTP kit calls
 * `requestSpanStarter` instead and enters the trace context together with its log fields, in one
 * hook: a hook and a context entry more per request are a measurable share of what tracing costs.
 */
export function traceRequests(app: FastifyInstance, options: ServerSpanOptions): void {
  const startSpan = requestSpanStarter(app, options);
  app.addHook('onRequest', (request, reply, done) => {
    const active = startSpan(request, reply);
    if (active === undefined) done();
    else context.with(active, done);
  });
}

export interface ServerSpanOptions {
  samplingReadsHost: boolean;
  sampler: DecidedFirstSampler;
  idGenerator: IdGenerator;
}

/**
 * What a request's SERVER span needs of the app (an onError hook records what a failed handler
 * threw), and the function that starts the span, to be called first thing in an onRequest hook.
 *
 * Every request pays for the sampling decision, so that path is kept to the attributes the sampler
 * reads. The starter asks the sampler itself: a request that is not sampled gets only its ids (a
 * non-recording span from the API, as the SDK would make, without the SDK's work per span), and only
 * a sampled one goes through the SDK's tracer, which is handed the decision already made.
 */
export function requestSpanStarter(app: FastifyInstance, options: ServerSpanOptions): RequestSpanStarter {
  const { samplingReadsHost, sampler, idGenerator } = options;
  const tracer = trace.getTracer('@stratus/core');
  app.decorateRequest(REQUEST_TRACE, null);
  app.decorateRequest(REQUEST_ERROR, null);
  app.addHook('onError', (request, _reply, error, done) => {
    (request as TracedRequest)[REQUEST_ERROR] = error;
    done();
  });

  return (request, reply) => {
    const url = request.url;
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (UNTRACED_PATHS.has(path)) return undefined;
    const method = request.method;
    const route = request.routeOptions.url;
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    // What the X-Ray rules match on (method, path, and the host if a rule looks at it); the rest
    // only once the span records.
    const attributes: Attributes = { 'http.request.method': method, 'url.path': path };
    if (samplingReadsHost) attributes['server.address'] = request.hostname;
    const name = route === undefined ? method : `${method} ${route}`;
    const parentIds = trace.getSpanContext(parent);
    const traceId =
      parentIds && trace.isSpanContextValid(parentIds) ? parentIds.traceId : idGenerator.generateTraceId();
    const decision = sampler.shouldSample(parent, traceId, name, SpanKind.SERVER, attributes, []);
    let span: Span;
    if (decision.decision === SamplingDecision.NOT_RECORD) {
      span = trace.wrapSpanContext({
        traceId,
        spanId: idGenerator.generateSpanId(),
        traceFlags: TraceFlags.NONE,
        traceState: decision.traceState ?? parentIds?.traceState,
      });
    } else {
      span = sampler.startSpanDecided(decision, () =>
        tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent),
      );
      recordRequest(span, request, route);
      const response = reply.raw as TracedResponse;
      response[TRACED_REQUEST] = request as TracedRequest;
      response.on('close', endServerSpan);
    }
    const active = trace.setSpan(parent, span);
    (request as TracedRequest)[REQUEST_TRACE] = active;
    return active;
  };
}

/** On a sampled request's raw response: the request, for the 'close' listener that ends its span. */
const TRACED_REQUEST = Symbol('stratus.tracedRequest');
type TracedResponse = ServerResponse & { [TRACED_REQUEST]?: TracedRequest };

/**
 * Ends a sampled request's span when its response closes: sent in full (the status is recorded) or
 * not (the client went away first). One listener function for every such response, added only to
 * sampled ones: an `onResponse` and an `onRequestAbort` hook would cost every request a hook call,
 * and the abort hook a closure and a 'close' listener.
 */
function endServerSpan(this: TracedResponse): void {
  const request = this[TRACED_REQUEST];
  const active = request?.[REQUEST_TRACE];
  const span = active ? trace.getSpan(active) : undefined;
  if (!request || !span) return;
  if (!this.writableFinished) {
    span.setAttribute('error.type', 'request_aborted');
    span.end();
    return;
  }
  const status = this.statusCode;
  span.setAttribute('http.response.status_code', status);
  // Client errors (4xx) are the caller's; the span records failures of the service.
  if (status >= 500) {
    const error = request[REQUEST_ERROR];
    if (error) span.recordException(error);
    span.setAttribute('error.type', String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

// No url.query: query strings carry tokens often enough that they stay out of traces.
function recordRequest(span: Span, request: FastifyRequest, route: string | undefined) {
  span.setAttributes({
    'server.address': request.hostname,
    'url.scheme': request.protocol,
    'client.address': request.ip,
  });
  if (route !== undefined) span.setAttribute('http.route', route);
  const port = request.port;
  if (port !== null) span.setAttribute('server.port', port);
  const userAgent = request.headers['user-agent'];
  if (userAgent !== undefined) span.setAttribute('user_agent.original', userAgent);
}

/**
 * The SDK's sampler, which can be handed a decision made just before: the request hook decides
 * first, and only a sampled request's span is built by the SDK, whose sampler must then not decide
 * again (a second draw would sample 5 % of 5 %, and a reservoir would count the request twice).
 * Every other span (subsegments, outbound calls, spans outside a request) is decided as usual.
 */
export class DecidedFirstSampler implements Sampler {
  private decided: SamplingResult | undefined;

  constructor(private readonly sampler: Sampler) {}

  shouldSample(...args: Parameters<Sampler['shouldSample']>): SamplingResult {
    const decided = this.decided;
    if (decided === undefined) return this.sampler.shouldSample(...args);
    this.decided = undefined;
    return decided;
  }

  /** Runs `start` (which starts one span, synchronously) with `decision` as that span's sampling result. */
  startSpanDecided(decision: SamplingResult, start: () => Span): Span {
    this.decided = decision;
    try {
      return start();
    } finally {
      this.decided = undefined;
    }
  }

  toString(): string {
    return this.sampler.toString();
  }
}
