import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields every log line carries while a request is served or a job runs, e.g. `request_id`, `job_id`. */
export type LogContext = Readonly<Record<string, string | number>>;

/**
 * One AsyncLocalStorage for the log context and, when tracing is on, OpenTelemetry's context (its
 * context manager keeps it here, see tracing/shared-context-manager.ts): each storage in use costs
 * every promise and callback of every request a copy of its store (about 1.7 µs per request with a
 * second one, measured in bench/tracing). Opaque here, so logging loads nothing of OpenTelemetry.
 */
interface ContextStore {
  readonly fields: LogContext | undefined;
  readonly trace: unknown;
}

const storage = new AsyncLocalStorage<ContextStore>();

/** Runs `fn` with `fields` added to the current log context; every log line inside carries them. */
export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  return withRequestContext(fields, storage.getStore()?.trace, fn);
}

export function currentLogContext(): LogContext | undefined {
  return storage.getStore()?.fields;
}

/** The trace context kept beside the log context (OpenTelemetry's, to its context manager). */
export function currentTraceContext(): unknown {
  return storage.getStore()?.trace;
}

/**
 * Runs `fn(...args)` with `fields` added to the current log context and `trace` as the trace
 * context: the HTTP kit enters both for a request at once.
 */
export function withRequestContext<A extends unknown[], R>(
  fields: LogContext,
  trace: unknown,
  fn: (...args: A) => R,
  ...args: A
): R {
  const current = storage.getStore()?.fields;
  return storage.run({ fields: current ? { ...current, ...fields } : fields, trace }, fn, ...args);
}

/** Runs `fn(...args)` with `trace` as the trace context, in the current log context. */
export function withTraceContext<A extends unknown[], R>(
  trace: unknown,
  fn: (...args: A) => R,
  ...args: A
): R {
  return storage.run({ fields: storage.getStore()?.fields, trace }, fn, ...args);
}
