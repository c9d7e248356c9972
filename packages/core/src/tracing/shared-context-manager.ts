import { type Context, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { currentTraceContext, withTraceContext } from '../logging/log-context.js';

/**
 * OpenTelemetry's context manager, keeping the active context in the log context's
 * AsyncLocalStorage rather than a second one of its own (see logging/log-context.ts for why). The
 * stock manager's `bind` (functions and event emitters) is kept: it goes through `with`.
 */
export class SharedContextManager extends AsyncLocalStorageContextManager {
  override active(): Context {
    return (currentTraceContext() as Context | undefined) ?? ROOT_CONTEXT;
  }

  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return withTraceContext(context, thisArg == null ? fn : fn.bind(thisArg), ...args);
  }

  /** Nothing here to switch off: the storage is the log context's, which outlives tracing. */
  override disable(): this {
    return this;
  }

  /** Not supported: nothing in use calls it, and it would leak the context into the caller's chain. */
  override attach(): never {
    throw new Error('SharedContextManager does not support attach(); use context.with()');
  }
}
