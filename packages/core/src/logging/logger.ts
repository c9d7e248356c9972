import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { BaseServiceSettings } from '../settings/schemas.js';
import { traceLogJson } from '../tracing/trace-log-fields.js';
import { currentLogContext } from './log-context.js';
import { redactText, redactValue } from './redaction.js';

export type { Logger } from 'pino';

const NO_CONTEXT = Object.freeze({});

export interface CreateLoggerOptions {
  /** Where lines go; default stdout. Tests and benchmarks pass a stream or a file destination. */
  destination?: DestinationStream;
  /** Human-readable lines; default only when run locally (ENVIRONMENT=local) in a terminal. */
  pretty?: boolean;
}

/** Human-readable lines only for a person running the service locally in a terminal; JSON everywhere else. */
export function prefersPrettyOutput(
  environment: BaseServiceSettings['ENVIRONMENT'],
  stdoutIsTerminal: boolean,
): boolean {
  return environment === 'local' && stdoutIsTerminal;
}

/**
 * One logger per process. Each line is JSON with `time` (ISO 8601), `level` (its name), `service`,
 * `environment` and `message`, plus the fields of the current log context (request or job id), with
 * secrets redacted. Pass child loggers (`logger.child({ component })`) for parts of the service.
 */
export function createLogger(
  settings: Pick<BaseServiceSettings, 'SERVICE_NAME' | 'ENVIRONMENT' | 'LOG_LEVEL'>,
  options: CreateLoggerOptions = {},
): Logger {
  const pretty = options.pretty ?? prefersPrettyOutput(settings.ENVIRONMENT, process.stdout.isTTY === true);
  const config: LoggerOptions = {
    level: settings.LOG_LEVEL,
    base: { service: settings.SERVICE_NAME, environment: settings.ENVIRONMENT },
    messageKey: 'message',
    // The time, then trace_id/span_id of the current span (nothing when tracing is off or outside a
    // span): pino splices this text into every line as is, so the ids join log lines to traces
    // without an object per line or a merge into the line's fields.
    timestamp: () => isoTimeField() + traceLogJson(),
    formatters: {
      level: (label) => ({ level: label }),
      log: (fields) => redactValue(fields) as Record<string, unknown>,
    },
    mixin: () => currentLogContext() ?? NO_CONTEXT,
    // pino's default merges the line's fields into the mixin object, which here is the shared context:
    // build one new object instead, and none at all outside a context or when the line has every
    // context field already (request lines carry request_id): its own values would win the merge.
    // (Object.assign, not object spread: spread is several times slower here, on the hottest path.)
    mixinMergeStrategy: (fields, context) =>
      context === NO_CONTEXT || hasEveryKeyOf(fields, context) ? fields : Object.assign({}, context, fields),
    serializers: {
      err: (error: Error) => redactValue(pino.stdSerializers.err(error)),
      // pino passes the message (after any %s interpolation) through the serializer of its key.
      // Messages are free text: scrub anything shaped like a token.
      message: (message: unknown) => (typeof message === 'string' ? redactText(message) : message),
    },
  };
  const logger = options.destination
    ? pino(config, options.destination)
    : pretty
      ? pino({ ...config, transport: { target: 'pino-pretty', options: { messageKey: 'message' } } })
      : pino(config);
  return withRedactedChildBindings(logger);
}

function hasEveryKeyOf(fields: object, context: object): boolean {
  for (const key in context) {
    if ((fields as Record<string, unknown>)[key] === undefined) return false;
  }
  return true;
}

let isoTimeMs = Number.NaN;
let isoTimeText = '';

/**
 * pino's `isoTime`, formatted once per millisecond rather than once per line: under load many lines
 * share a millisecond, and formatting the date was the costliest step of serializing a line.
 */
function isoTimeField(): string {
  const now = Date.now();
  if (now !== isoTimeMs) {
    isoTimeMs = now;
    isoTimeText = `,"time":"${new Date(now).toISOString()}"`;
  }
  return isoTimeText;
}

/**
 * pino runs `formatters.bindings` only for the root logger's base fields, never for child bindings,
 * so children are made through a `child` that redacts first. Children inherit it from their parent.
 */
function withRedactedChildBindings(logger: Logger): Logger {
  const createChild = logger.child;
  logger.child = function child(this: Logger, bindings, childOptions) {
    return createChild.call(this, redactValue(bindings) as typeof bindings, childOptions);
  } as typeof logger.child;
  return logger;
}
