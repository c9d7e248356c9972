import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { BaseServiceSettings } from '../settings/schemas.js';
import { currentLogContext } from './log-context.js';
import { redactText, redactValue } from './redaction.js';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  /** Where lines go; default stdout. Tests and benchmarks pass a stream or a file destination. */
  destination?: DestinationStream;
  /** Human-readable lines; default only when run locally (ENVIRONMENT=local) in a terminal. */
  pretty?: boolean;
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
  const pretty = options.pretty ?? (settings.ENVIRONMENT === 'local' && process.stdout.isTTY === true);
  const config: LoggerOptions = {
    level: settings.LOG_LEVEL,
    base: { service: settings.SERVICE_NAME, environment: settings.ENVIRONMENT },
    messageKey: 'message',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => redactValue(bindings) as Record<string, unknown>,
      log: (fields) => redactValue(fields) as Record<string, unknown>,
    },
    // pino merges the line's fields into what mixin returns, so hand it a copy, never the context itself.
    mixin: () => ({ ...currentLogContext() }),
    serializers: { err: (error: Error) => redactValue(pino.stdSerializers.err(error)) },
    hooks: {
      // Messages are free text: scrub anything shaped like a token before it is formatted.
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) {
          if (typeof args[i] === 'string') args[i] = redactText(args[i] as string);
        }
        return method.apply(this, args as Parameters<typeof method>);
      },
    },
  };
  if (options.destination) return pino(config, options.destination);
  if (pretty)
    return pino({ ...config, transport: { target: 'pino-pretty', options: { messageKey: 'message' } } });
  return pino(config);
}
