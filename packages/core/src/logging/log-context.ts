import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields every log line carries while a request is served or a job runs, e.g. `request_id`, `job_id`. */
export type LogContext = Readonly<Record<string, string | number>>;

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `fields` added to the current log context; every log line inside carries them. */
export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  const current = storage.getStore();
  return storage.run(current ? { ...current, ...fields } : fields, fn);
}

export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}
