import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Probes are polled every few seconds by load balancers and Kubernetes; tracing them is noise. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/stats']);

/** The request's trace context (its SERVER span current); null for requests that are not traced. */
const REQUEST_TRACE = Symbol('stratus.requestTrace');
/** What the handler threw, recorded on the span if the answer turns out to be a 5xx. */
const REQUEST_ERROR = Symbol('stratus.requestError');
type TracedRequest = FastifyRequest & { [REQUEST_TRACE]: Context | null; [REQUEST_ERROR]: Error | null };

/**
 * One SERVER span per request, the X-Ray segment: it continues the caller's trace from the headers
 * the configured propagators read (traceparent, X-Amzn-Trace-Id), is current while hooks and the
 * handler run (so subsegments, outbound calls and log lines belong to it), and ends with the
 * response. Attributes follow the HTTP semantic conventions.
 *
 * Every request pays for the sampling decision, so that path is kept to the attributes the sampler
 * reads; a request that is not sampled gets a non-recording span that only carries the ids on.
 */
export function traceRequests(app: FastifyInstance, options: { samplingReadsHost: boolean }): void {
  const { samplingReadsHost } = options;
  const tracer = trace.getTracer('@stratus/core');
  app.decorateRequest(REQUEST_TRACE, null);
  app.decorateRequest(REQUEST_ERROR, null);

  app.addHook('onRequest', (request, _reply, done) => {
    const url = request.url;
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (UNTRACED_PATHS.has(path)) return done();
    const method = request.method;
    const route = request.routeOptions.url;
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    // What the X-Ray rules match on (method, path, and the host if a rule looks at it); the rest
    // only once the span records.
    const attributes: Attributes = { 'http.request.method': method, 'url.path': path };
    if (samplingReadsHost) attributes['server.address'] = request.hostname;
    const span = tracer.startSpan(
      route === undefined ? method : `${method} ${route}`,
      { kind: SpanKind.SERVER, attributes },
      parent,
    );
    if (span.isRecording()) recordRequest(span, request, route);
    const active = trace.setSpan(parent, span);
    (request as TracedRequest)[REQUEST_TRACE] = active;
    context.with(active, done);
  });

  // Body parsing runs in stream callbacks outside the request's context: enter it again for the
  // handler, so its subsegments and outbound calls are children of the request span.
  app.addHook('preHandler', (request, _reply, done) => {
    const active = (request as TracedRequest)[REQUEST_TRACE];
    if (active === null || context.active() === active) done();
    else context.with(active, done);
  });

  app.addHook('onError', (request, _reply, error, done) => {
    (request as TracedRequest)[REQUEST_ERROR] = error;
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const span = spanOf(request);
    if (span?.isRecording()) {
      const status = reply.statusCode;
      span.setAttribute('http.response.status_code', status);
      // Client errors (4xx) are the caller's; the span records failures of the service.
      if (status >= 500) {
        const error = (request as TracedRequest)[REQUEST_ERROR];
        if (error) span.recordException(error);
        span.setAttribute('error.type', String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }
    done();
  });

  // The client went away before the answer: onResponse will not come.
  app.addHook('onRequestAbort', (request, done) => {
    const span = spanOf(request);
    if (span?.isRecording()) {
      span.setAttribute('error.type', 'request_aborted');
      span.end();
    }
    done();
  });
}

function spanOf(request: FastifyRequest): Span | undefined {
  const active = (request as TracedRequest)[REQUEST_TRACE];
  return active === null ? undefined : trace.getSpan(active);
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
