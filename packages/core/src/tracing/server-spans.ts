import type { ServerResponse } from 'node:http';
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { sanitizeAttributes } from '@opentelemetry/core';
import { type IdGenerator, type Sampler, SamplingDecision } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestSpans } from './configure-tracing.js';
import { RequestSpan, type RequestSpanSource } from './request-span.js';

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
 * handler run (so subsegments, outbound calls and log lines belong to it; fastify carries the
 * request's async context across body parsing itself), and ends when the response closes.
 * Attributes follow the HTTP semantic conventions.
 *
 * For a bare fastify app: an onRequest hook that enters the span's context. The HTTP kit calls
 * `requestSpans` instead and enters the trace context together with its log fields, in one
 * hook: a hook and a context entry more per request are a measurable share of what tracing costs.
 */
export function traceRequests(app: FastifyInstance, options: ServerSpanOptions): void {
  const spans = requestSpans(app, options);
  app.addHook('onRequest', (request, reply, done) => {
    const active = spans.start(request, reply) as Context | undefined;
    if (active !== undefined && trace.getSpan(active)?.isRecording())
      reply.raw.on('close', spans.responseClosed);
    if (active === undefined) done();
    else context.with(active, done);
  });
}

export interface ServerSpanOptions {
  samplingReadsHost: boolean;
  /** The process's root sampler, the one the SDK's tracers use. */
  sampler: Sampler;
  idGenerator: IdGenerator;
  spans: RequestSpanSource;
}

/**
 * What a request's SERVER span needs of the app (an onError hook records what a failed handler
 * threw), and the functions that start and end it: `start` first thing in an onRequest hook,
 * `responseClosed` as a 'close' listener of the response.
 *
 * Every request pays for the sampling decision, so that path is kept short: the propagators read
 * the headers only when one of theirs is there, and the sampler sees only the attributes it matches
 * on. A request that is not sampled gets only its ids (a non-recording span from the API, as the SDK
 * would make); a sampled one gets a `RequestSpan`, an SDK span made here with the decision and ids
 * already drawn.
 */
export function requestSpans(app: FastifyInstance, options: ServerSpanOptions): RequestSpans {
  const { samplingReadsHost, sampler, idGenerator, spans } = options;
  // The headers the configured propagators read (traceparent, tracestate, x-amzn-trace-id, baggage).
  const propagationHeaders = propagation.fields();
  app.decorateRequest(REQUEST_TRACE, null);
  app.decorateRequest(REQUEST_ERROR, null);
  app.addHook('onError', (request, _reply, error, done) => {
    (request as TracedRequest)[REQUEST_ERROR] = error;
    done();
  });

  const start = (request: FastifyRequest, reply: FastifyReply): Context | undefined => {
    const url = request.url;
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    // Every response gets the property, traced or not, sampled or not: one added to some responses
    // only would give ServerResponse two shapes, and every inline cache in the response path of
    // node:http and fastify would turn polymorphic (at 5 % sampled that cost more than the spans).
    const response = reply.raw as TracedResponse;
    if (UNTRACED_PATHS.has(path)) {
      response[TRACED_REQUEST] = null;
      return undefined;
    }
    response[TRACED_REQUEST] = request as TracedRequest;
    const method = request.method;
    const route = request.routeOptions.url;
    const headers = request.headers;
    const parent = carriesAny(headers, propagationHeaders)
      ? propagation.extract(ROOT_CONTEXT, headers)
      : ROOT_CONTEXT;
    const parentIds = parent === ROOT_CONTEXT ? undefined : trace.getSpanContext(parent);
    const remoteParent = parentIds && trace.isSpanContextValid(parentIds) ? parentIds : undefined;
    const traceId = remoteParent ? remoteParent.traceId : idGenerator.generateTraceId();
    // What the X-Ray rules match on (method, path, and the host if a rule looks at it); the rest
    // only once the span records.
    const attributes: Attributes = { 'http.request.method': method, 'url.path': path };
    if (samplingReadsHost) attributes['server.address'] = serverAddressOf(request.host);
    const name = route === undefined ? method : `${method} ${route}`;
    const decision = sampler.shouldSample(parent, traceId, name, SpanKind.SERVER, attributes, []);
    const ids: SpanContext = {
      traceId,
      spanId: idGenerator.generateSpanId(),
      traceFlags:
        decision.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
      traceState: decision.traceState ?? remoteParent?.traceState,
    };
    let span: Span;
    if (decision.decision === SamplingDecision.NOT_RECORD) span = trace.wrapSpanContext(ids);
    else {
      recordRequest(attributes, request, route);
      if (decision.attributes) Object.assign(attributes, sanitizeAttributes(decision.attributes));
      span = new RequestSpan(spans, name, ids, remoteParent, attributes, parent);
    }
    const active = new RequestContext(parent, span);
    (request as TracedRequest)[REQUEST_TRACE] = active;
    return active;
  };
  return { start, responseClosed: endServerSpan };
}

/** The key the API keeps a context's span under (`createContextKey` is `Symbol.for`). */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');

/**
 * The context a request runs in: its parent's with the request's span set, as `trace.setSpan` would
 * make it, but one small object where the API's context copies its parent's Map. Every request
 * makes one, sampled or not, and reads it back for each log line. A context derived from it (a
 * child span's, a value set) is the API's own.
 */
export class RequestContext implements Context {
  constructor(
    private readonly parent: Context,
    private readonly span: Span,
  ) {}

  getValue(key: symbol): unknown {
    return key === SPAN_KEY ? this.span : this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return trace.setSpan(this.parent, this.span).setValue(key, value);
  }

  deleteValue(key: symbol): Context {
    return trace.setSpan(this.parent, this.span).deleteValue(key);
  }
}

/** Whether a request carries any of the headers trace context is propagated in. */
function carriesAny(headers: FastifyRequest['headers'], names: readonly string[]): boolean {
  for (const name of names) if (headers[name] !== undefined) return true;
  return false;
}

/** On a raw response: its request if traced (for the 'close' listener that ends its span), else null. */
const TRACED_REQUEST = Symbol('stratus.tracedRequest');
type TracedResponse = ServerResponse & { [TRACED_REQUEST]?: TracedRequest | null };

/**
 * Ends a sampled request's span when its response closes: sent in full (the status is recorded) or
 * not (the client went away first); does nothing for other responses. One listener function for
 * every response (the HTTP kit calls it from its own): an `onResponse` and an `onRequestAbort` hook
 * would cost every request a hook call, and the abort hook a closure and a listener.
 */
function endServerSpan(this: TracedResponse): void {
  const request = this[TRACED_REQUEST];
  const active = request?.[REQUEST_TRACE];
  const span = active ? trace.getSpan(active) : undefined;
  if (!request || !span?.isRecording()) return;
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
function recordRequest(attributes: Attributes, request: FastifyRequest, route: string | undefined) {
  // The Host header (X-Forwarded-Host behind a trusted proxy), read once: fastify's hostname and
  // port getters would each read it again and parse it (a split and a regex), about 1 % of a
  // sampled request in place.
  const host = request.host;
  attributes['server.address'] = serverAddressOf(host);
  attributes['url.scheme'] = request.protocol;
  attributes['client.address'] = request.ip;
  if (route !== undefined) attributes['http.route'] = route;
  const port = serverPortOf(host);
  if (port !== null) attributes['server.port'] = port;
  const userAgent = request.headers['user-agent'];
  if (userAgent !== undefined) attributes['user_agent.original'] = userAgent;
}

/** The host name of a Host header, as fastify's `request.hostname`: `[::1]` of `[::1]:8080`. */
export function serverAddressOf(host: string): string {
  if (host[0] === '[') return host.slice(0, host.indexOf(']') + 1);
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** The port of a Host header, as fastify's `request.port`: the digits after its last colon, if it ends so. */
export function serverPortOf(host: string): number | null {
  let start = host.length;
  while (start > 0) {
    const code = host.charCodeAt(start - 1);
    if (code < 0x30 || code > 0x39) break;
    start--;
  }
  return start < host.length && host[start - 1] === ':' ? Number(host.slice(start)) : null;
}
