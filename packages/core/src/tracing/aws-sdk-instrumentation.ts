import { context, defaultTextMapSetter, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';

/** The parts of an AWS SDK v3 (smithy) client and its middleware stack used here; core imports no AWS SDK. */
type Handler = (args: { request?: { headers?: Record<string, string> } }) => Promise<unknown>;
interface MiddlewareStack {
  add(middleware: (next: Handler) => Handler, options: Record<string, unknown>): void;
}
interface SmithyClient {
  middlewareStack: MiddlewareStack;
}
interface SmithyClientModule {
  Client: { prototype: { send(this: SmithyClient, ...args: unknown[]): unknown } };
}

const xray = new AWSXRayPropagator();

/**
 * Puts the current span (the call's CLIENT span) into the request as X-Amzn-Trace-Id, so AWS
 * services and the X-Ray service map link the call to the caller's trace. Runs in the build step,
 * before signing and ahead of the SDK's own recursion-detection middleware, which only fills the
 * header on Lambda and leaves one that is present alone.
 */
const xrayTraceHeader = (next: Handler): Handler => {
  return (args) => {
    const headers = args.request?.headers;
    const span = trace.getSpan(context.active());
    // The stock instrumentation marks the call's context as suppressed (no extra HTTP span) and
    // propagators inject nothing into a suppressed context: hand over the span alone.
    if (headers && span) xray.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
    return next(args);
  };
};

/**
 * AWS SDK v3 calls as CLIENT spans (the stock instrumentation, with no extra HTTP span beneath) that
 * also carry X-Amzn-Trace-Id on the wire. The stock instrumentation relies on the HTTP
 * instrumentation to inject trace headers, which its own suppression of that span turns off.
 */
export class AwsSdkInstrumentation extends AwsInstrumentation {
  private readonly stacksWithHeader = new WeakSet<MiddlewareStack>();
  /** `send` as the stock instrumentation left it, per patched Client class, for unpatching. */
  private readonly stockSends = new WeakMap<object, SmithyClientModule['Client']['prototype']['send']>();

  constructor() {
    super({ suppressInternalInstrumentation: true });
  }

  // Chained by hand: `_wrap` would first unwrap the stock instrumentation's own `send` wrapper.
  protected override patchV3SmithyClient(moduleExports: SmithyClientModule, moduleVersion?: string) {
    super.patchV3SmithyClient(moduleExports, moduleVersion);
    const prototype = moduleExports.Client.prototype;
    const send = prototype.send;
    const stacksWithHeader = this.stacksWithHeader;
    this.stockSends.set(prototype, send);
    prototype.send = function sendWithTraceHeader(this: SmithyClient, ...args: unknown[]) {
      const stack = this.middlewareStack;
      if (!stacksWithHeader.has(stack)) {
        stack.add(xrayTraceHeader, {
          step: 'build',
          priority: 'high',
          name: 'stratusXRayTraceHeader',
          override: true,
        });
        stacksWithHeader.add(stack);
      }
      return send.apply(this, args);
    };
    return moduleExports;
  }

  protected override unpatchV3SmithyClient(moduleExports: SmithyClientModule) {
    const prototype = moduleExports.Client.prototype;
    const send = this.stockSends.get(prototype);
    if (send) prototype.send = send;
    this.stockSends.delete(prototype);
    return super.unpatchV3SmithyClient(moduleExports);
  }
}
