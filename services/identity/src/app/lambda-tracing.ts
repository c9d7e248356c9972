import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AWSXRayIdGenerator } from '@opentelemetry/id-generator-aws-xray';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { awsRegionOf, type FullSettings, type Tracing } from '@stratus/core';

/**
 * Tracing for the Lambda bundles: the same X-Ray ids, propagation and OTLP export as core's
 * `configureTracing`, without the Node SDK. The Node SDK brings metrics, logs, gRPC, YAML
 * configuration and instrumentations that patch modules as they load, which never see into a bundle
 * and would triple its size and its cold start. Spans are the function's own (`inInvocationSpan`,
 * `captureSubsegment`).
 *
 * The sampling decision is X-Ray's: Lambda passes it in `_X_AMZN_TRACE_ID` (Sampled=0/1), made with
 * the account's sampling rules, and the parent-based sampler follows it. Without a parent (an
 * invocation outside Lambda) the span is sampled.
 */
export function configureLambdaTracing(
  settings: Pick<
    FullSettings,
    'SERVICE_NAME' | 'ENVIRONMENT' | 'PROJECT_NAME' | 'ENABLE_TRACING' | 'OTLP_ENDPOINT'
  > &
    Pick<FullSettings, 'AWS_REGION' | 'AWS_DEFAULT_REGION'>,
): Tracing {
  const noop = { instrumentService: async () => {}, forceFlush: async () => {}, shutdown: async () => {} };
  if (!settings.ENABLE_TRACING) return { enabled: false, ...noop };
  const region = awsRegionOf(settings);
  const endpoint = settings.OTLP_ENDPOINT.endsWith('/')
    ? settings.OTLP_ENDPOINT
    : `${settings.OTLP_ENDPOINT}/`;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': settings.SERVICE_NAME,
      'service.namespace': settings.PROJECT_NAME,
      'deployment.environment.name': settings.ENVIRONMENT,
      'cloud.provider': 'aws',
      'cloud.platform': 'aws_lambda',
      ...(region ? { 'cloud.region': region } : {}),
    }),
    idGenerator: new AWSXRayIdGenerator(),
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: new URL('v1/traces', endpoint).href })),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new AWSXRayPropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  return {
    enabled: true,
    instrumentService: async () => {},
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
