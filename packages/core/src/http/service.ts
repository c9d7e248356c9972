import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import underPressure from '@fastify/under-pressure';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { type Logger, pino } from 'pino';
import { ServiceError } from '../errors.js';
import { currentLogContext, currentTraceContext, withRequestContext } from '../logging/log-context.js';
import { createLogger } from '../logging/logger.js';
import type { BaseServiceSettings, HttpSettings } from '../settings/schemas.js';
import type { RequestSpans, Tracing } from '../tracing/configure-tracing.js';
import { errorBodyOf, sendError, toServiceError } from './error-model.js';
import type { HealthBody } from './models.js';
import { type ReadinessCheck, runReadinessChecks } from './readiness.js';
import { StatsRegistry } from './stats.js';
import { type ZodTypeProvider, zodValidatorCompiler } from './zod-routes.js';

export type ServiceSettings = Pick<BaseServiceSettings, 'SERVICE_NAME' | 'ENVIRONMENT' | 'LOG_LEVEL'> &
  HttpSettings;

export type ServiceApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface CreateServiceOptions {
  settings: ServiceSettings;
  /** The service's own routes. They are load-shed (503) with /health when the process is under pressure. */
  routes?: (app: ServiceApp, kit: { stats: StatsRegistry; logger: Logger }) => void | Promise<void>;
  readinessChecks?: ReadinessCheck[];
  /** Default: a logger made from the settings. */
  logger?: Logger;
  /** From `configureTracing`: each request gets a span continuing the caller's trace; flushed on close. */
  tracing?: Tracing;
}

export interface Service {
  readonly app: ServiceApp;
  readonly logger: Logger;
  readonly stats: StatsRegistry;
  readonly settings: ServiceSettings;
  addReadinessCheck(check: ReadinessCheck): void;
  /** Runs at shutdown after in-flight requests finish: close pools, stop consumers. Errors are logged. */
  onShutdown(name: string, close: () => unknown | Promise<unknown>): void;
  /** Listens on HOST:PORT; resolves to the base URL. */
  listen(): Promise<string>;
  /** Stops accepting, waits for in-flight requests (bounded by SHUTDOWN_TIMEOUT_MS), runs shutdown hooks. */
  close(): Promise<void>;
  /** `listen()`, then on SIGTERM or SIGINT `close()` and exit 0 (1 if shutdown timed out or failed). */
  run(): Promise<string>;
}

/** How long a stopping process waits for its last log lines to be written. */
const EXIT_FLUSH_TIMEOUT_MS = 2_000;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Generated request ids are a random prefix per process and a counter (`hV3q9Xw2LmPa-2s1`): unique
 * across replicas without drawing random bytes per request, and under half the length of a UUID on
 * every log line and response.
 */
const GENERATED_ID_PREFIX = `${randomBytes(9).toString('base64url')}-`;
let requestsNumbered = 0;
const nextRequestId = () => GENERATED_ID_PREFIX + (++requestsNumbered).toString(36);

const PROBE_ROUTE = { logLevel: 'warn' as const };

/**
 * The fields of `request_started`, completed into those of `request_completed` when the response is
 * sent: one object per request, its fields computed once. `status` and `duration_ms` stay undefined
 * (pino leaves them out) until then. request_id is a field, not the log context, because
 * `request_completed` can be written after the request's context has ended. The lines have no
 * message: it would only repeat the event name, on the two lines written most.
 */
class RequestLogLine {
  event: 'request_started' | 'request_completed' = 'request_started';
  readonly method: string;
  readonly route: string | undefined;
  readonly path: string;
  status: number | undefined = undefined;
  duration_ms: number | undefined = undefined;
  readonly client_ip: string;
  readonly request_id: string;

  constructor(request: FastifyRequest) {
    this.method = request.method;
    this.route = request.routeOptions.url;
    this.path = pathOf(request);
    this.client_ip = request.ip;
    this.request_id = request.id;
  }
}

const REQUEST_LOG_LINE = Symbol('stratus.requestLogLine');
/** The trace context the request runs in, to enter again if body parsing lost it. */
const REQUEST_TRACE_CONTEXT = Symbol('stratus.requestTraceContext');
type LoggedRequest = FastifyRequest & {
  [REQUEST_LOG_LINE]: RequestLogLine | null;
  [REQUEST_TRACE_CONTEXT]: unknown;
};

/** Inside the request's context, so the line carries the trace ids. */
function logRequestStarted(request: FastifyRequest, line: RequestLogLine, done: () => void): void {
  request.log.info(line);
  done();
}

/** Builds a fastify 5 service with the Stratus request logging, error model, health, readiness and stats. */
export async function createService(options: CreateServiceOptions): Promise<Service> {
  const { settings } = options;
  const logger = options.logger ?? createLogger(settings);
  const stats = new StatsRegistry(settings.SERVICE_NAME);
  const readinessChecks = [...(options.readinessChecks ?? [])];
  const shutdownHooks: { name: string; close: () => unknown }[] = [];
  let shuttingDown = false;
  // The request span is started by the kit's onRequest hook and ended by its one 'close' listener.
  let requestSpans: RequestSpans | undefined;
  // One listener for every response (not a closure per request): 'close' comes once per response,
  // whether it was sent or the client went away.
  function requestEnded(this: ServerResponse): void {
    stats.requestEnded();
    requestSpans?.responseClosed.call(this);
  }

  const app = Fastify({
    loggerInstance: logger,
    // The log context (AsyncLocalStorage) puts request_id on every line, so a request logs through
    // the service's logger itself; only a route with its own log level (the probes) needs a child.
    childLoggerFactory: (parent, _bindings, childOptions) =>
      childOptions.level === undefined && childOptions.serializers === undefined
        ? parent
        : parent.child({}, childOptions),
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (raw) => {
      const given = raw.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : nextRequestId();
    },
    bodyLimit: settings.BODY_LIMIT_BYTES,
    trustProxy: settings.TRUST_PROXY,
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>() as unknown as ServiceApp;

  app.setValidatorCompiler(zodValidatorCompiler);
  app.decorateRequest(REQUEST_LOG_LINE, null);
  app.decorateRequest(REQUEST_TRACE_CONTEXT, null);

  // The request span starts first thing in the kit's onRequest hook, so it is current in every hook
  // after it and log lines carry its trace id. (A Tracing without requestSpans adds its own hook,
  // first, and the kit keeps the context that hook entered.)
  if (options.tracing?.enabled) {
    const tracing = options.tracing;
    const traced = app as unknown as FastifyInstance;
    if (tracing.requestSpans) requestSpans = await tracing.requestSpans(traced);
    else await tracing.instrumentService(traced);
    // First registered, so it runs last: spans of the final requests and shutdown hooks are exported.
    shutdownHooks.push({ name: 'tracing', close: () => tracing.forceFlush() });
  }

  // Everything after onRequest runs inside the request's context: its log fields and its trace,
  // entered together (one AsyncLocalStorage run). Should body parsing leave it (stream events),
  // preValidation enters it again.
  app.addHook('onRequest', (request, reply, done) => {
    stats.requestStarted();
    reply.raw.on('close', requestEnded);
    reply.header('x-request-id', request.id);
    const line = new RequestLogLine(request);
    const logged = request as LoggedRequest;
    logged[REQUEST_LOG_LINE] = line;
    const traceContext = requestSpans ? requestSpans.start(request, reply) : currentTraceContext();
    logged[REQUEST_TRACE_CONTEXT] = traceContext;
    withRequestContext({ request_id: request.id }, traceContext, logRequestStarted, request, line, done);
  });
  app.addHook('preValidation', (request, _reply, done) => {
    if (currentLogContext()?.request_id === request.id) done();
    else
      withRequestContext({ request_id: request.id }, (request as LoggedRequest)[REQUEST_TRACE_CONTEXT], done);
  });
  // A keep-alive connection would hold the closing server open after its last response.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (shuttingDown) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    stats.responseSent(status);
    // Null when an onRequest hook that runs before the kit's (tracing) failed and the request was answered.
    const line = (request as LoggedRequest)[REQUEST_LOG_LINE] ?? new RequestLogLine(request);
    line.event = 'request_completed';
    line.status = status;
    line.duration_ms = Math.round(reply.elapsedTime * 100) / 100;
    if (status >= 500) request.log.error(line);
    else request.log.info(line);
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const serviceError = toServiceError(error);
    if (serviceError.status >= 500)
      request.log.error({ event: 'request_failed', err: error, request_id: request.id }, 'unexpected error');
    return sendError(request, reply, serviceError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new ServiceError(404, 'not_found', `No route for ${request.method} ${pathOf(request)}`),
    ),
  );

  app.get('/stats', { logLevel: PROBE_ROUTE.logLevel }, async () => stats.snapshot());

  app.get('/ready', { logLevel: PROBE_ROUTE.logLevel }, async (_request, reply) => {
    const body = await runReadinessChecks(readinessChecks, settings.READY_CHECK_TIMEOUT_MS);
    return reply.status(body.status === 'ready' ? 200 : 503).send(body);
  });

  // /health and the service's routes sit in one scope that is load-shed under pressure.
  await app.register(async (scope) => {
    await scope.register(underPressure, {
      maxEventLoopDelay: settings.HEALTH_MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: settings.HEALTH_MAX_HEAP_USED_BYTES,
      maxRssBytes: settings.HEALTH_MAX_RSS_BYTES,
      retryAfter: settings.HEALTH_RETRY_AFTER_SECONDS,
      pressureHandler: (request, reply, type, value) => {
        reply.status(503).header('retry-after', String(settings.HEALTH_RETRY_AFTER_SECONDS));
        const body = errorBodyOf(
          'service_unavailable',
          `Service under pressure: ${type} at ${Math.round(Number(value ?? 0))}`,
          request.id,
        );
        // under-pressure sends what the handler returns; its types only admit void.
        return body as unknown as undefined;
      },
    });
    const health: HealthBody = { status: 'ok', service: settings.SERVICE_NAME };
    scope.route({
      method: ['GET', 'HEAD'],
      url: '/health',
      logLevel: PROBE_ROUTE.logLevel,
      handler: async () => health,
    });
    if (options.routes) await options.routes(scope as ServiceApp, { stats, logger });
  });

  let closing: Promise<void> | undefined;
  const service: Service = {
    app,
    logger,
    stats,
    settings,
    addReadinessCheck: (check) => void readinessChecks.push(check),
    onShutdown(name, close) {
      shutdownHooks.push({ name, close });
    },
    async listen() {
      await app.listen({ host: settings.HOST, port: settings.PORT });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : settings.PORT;
      const url = `http://${settings.HOST.includes(':') ? `[${settings.HOST}]` : settings.HOST}:${port}`;
      logger.info({ event: 'service_started', url }, `${settings.SERVICE_NAME} listening on ${url}`);
      return url;
    },
    close() {
      closing ??= closeGracefully();
      return closing;
    },
    async run() {
      const url = await service.listen();
      const onSignal = (signal: NodeJS.Signals) => {
        logger.info({ event: 'shutdown_started', signal }, `${signal} received, shutting down`);
        service.close().then(
          () => exit(0),
          (error: unknown) => {
            logger.error({ event: 'shutdown_failed', err: error }, 'shutdown failed');
            exit(1);
          },
        );
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      return url;
    },
  };

  async function closeGracefully(): Promise<void> {
    shuttingDown = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        app.server.closeAllConnections();
        reject(new Error(`in-flight requests did not finish within ${settings.SHUTDOWN_TIMEOUT_MS} ms`));
      }, settings.SHUTDOWN_TIMEOUT_MS);
    });
    try {
      await Promise.race([drainThenRunShutdownHooks(), timedOut]);
      logger.info({ event: 'shutdown_completed' }, 'shutdown completed');
    } finally {
      clearTimeout(timer);
    }
  }

  // Hooks run only once no request is in flight, last registered first (what opened last closes first).
  async function drainThenRunShutdownHooks(): Promise<void> {
    await app.close();
    stats.stop();
    for (const hook of shutdownHooks.toReversed()) {
      try {
        await hook.close();
        logger.info({ event: 'shutdown_hook_completed', hook: hook.name }, `closed ${hook.name}`);
      } catch (error) {
        logger.error(
          { event: 'shutdown_hook_failed', hook: hook.name, err: error },
          `closing ${hook.name} failed`,
        );
      }
    }
  }

  function exit(code: number) {
    process.exitCode = code;
    // pino writes asynchronously: leaving at once could drop the last lines, or let the exit-time
    // flush of what is buffered overtake the write in flight (lines seen out of order). The stream
    // is ended instead, which writes what it holds in order; the timer bounds the wait.
    setTimeout(() => process.exit(code), EXIT_FLUSH_TIMEOUT_MS).unref();
    const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
      | { end?: () => void; once?: (event: string, listener: () => void) => void }
      | undefined;
    if (typeof stream?.end === 'function' && typeof stream.once === 'function') {
      stream.once('close', () => process.exit(code));
      stream.end();
    } else setImmediate(() => process.exit(code));
  }

  return service;
}

function pathOf(request: FastifyRequest): string {
  const query = request.url.indexOf('?');
  return query === -1 ? request.url : request.url.slice(0, query);
}
