import { readFileSync } from 'node:fs';
import { context, DiagConsoleLogger, diag, propagation, trace } from '@opentelemetry/api';
import {
  CompositePropagator,
  diagLogLevelFromString,
  getStringFromEnv,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AWSXRayRemoteSampler } from '@opentelemetry/sampler-aws-xray';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import { AwsSdkInstrumentation } from './aws-sdk-instrumentation.js';
import type { Tracing, TracingSetup } from './configure-tracing.js';
import { JsonLinesSpanExporter } from './json-lines-exporter.js';
import { OtlpBatchSpanProcessor } from './otlp-batch-span-processor.js';
import { SPAN_LIMITS } from './request-span.js';
import { parseSamplingRules, type SamplingRule } from './sampling/sampling-rules.js';
import { XRayRulesSampler } from './sampling/xray-rules-sampler.js';
import { requestSpans, type ServerSpanOptions, traceRequests } from './server-spans.js';
import { SharedContextManager } from './shared-context-manager.js';
import { XRAY_SERVICE_TYPES } from './tracing-settings.js';
import { XRayIdGenerator } from './xray-id-generator.js';
import { STRATUS_TRACER_NAME } from './xray-vocabulary.js';

/**
 * Batches of the SDK's default size (512; larger ones measured no cheaper per span), a queue deep
 * enough to ride out a slow collector for a second at 8,000 spans/s without dropping any, and at
 * most 1 s before a quiet service's spans go out, so a developer sees a request's spans right away.
 */
const BATCHING = { maxExportBatchSize: 512, maxQueueSize: 8192, scheduledDelayMillis: 1000 };

let active: Tracing | undefined;

/** The enabled half of configureTracing, loaded only when ENABLE_TRACING is on. */
export function startTracingSdk(settings: TracingSetup): Tracing {
  if (active) throw new Error('tracing is already configured in this process; call shutdown() first');

  const region = settings.AWS_REGION ?? settings.AWS_DEFAULT_REGION;
  const resource = resourceFromAttributes({
    'service.name': settings.SERVICE_NAME,
    'service.namespace': settings.PROJECT_NAME ?? 'stratus',
    'deployment.environment.name': settings.ENVIRONMENT,
    'cloud.provider': 'aws',
    ...(region ? { 'cloud.region': region } : {}),
    ...(settings.CLOUD_PLATFORM ? { 'cloud.platform': settings.CLOUD_PLATFORM } : {}),
    ...(settings.XRAY_RESOURCE_ARN ? { 'cloud.resource_id': settings.XRAY_RESOURCE_ARN } : {}),
  });

  const rules = samplingRulesOf(settings);
  const sampler = samplerOf(settings, resource, rules);
  const idGenerator = new XRayIdGenerator();
  const spanProcessors = spanProcessorsOf(settings);
  // The SDK's parts, put together here rather than by NodeSDK, which loads every exporter it can
  // configure from the environment (OTLP over gRPC, http and proto for traces, metrics and logs,
  // Zipkin, Prometheus): about 7 MB of heap and 180 ms of start-up for nothing used. Logs stay with
  // pino (trace ids are added to each line), and no metrics or logs go to the collector.

  // OpenTelemetry's own messages (a collector falling behind, an invalid attribute) to the console,
  // at the level OTEL_LOG_LEVEL asks for, as NodeSDK did.
  const diagLevel = getStringFromEnv('OTEL_LOG_LEVEL');
  if (diagLevel) diag.setLogger(new DiagConsoleLogger(), { logLevel: diagLogLevelFromString(diagLevel) });
  registerInstrumentations({
    instrumentations: [
      new UndiciInstrumentation(),
      // Inbound requests get their span from instrumentService; http covers outbound http.request.
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }),
      new AwsSdkInstrumentation(),
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  context.setGlobalContextManager(new SharedContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new AWSXRayPropagator(), new W3CBaggagePropagator()],
    }),
  );
  const provider = new BasicTracerProvider({
    resource,
    idGenerator,
    sampler,
    spanLimits: SPAN_LIMITS,
    spanProcessors,
  });
  trace.setGlobalTracerProvider(provider);

  const serverSpans: ServerSpanOptions = {
    samplingReadsHost: settings.TRACING_SAMPLER === 'xray-remote' || rules.some((rule) => rule.Host !== '*'),
    sampler,
    idGenerator,
    spans: { resource, scope: { name: STRATUS_TRACER_NAME }, processors: spanProcessors },
  };
  const tracing: Tracing = {
    enabled: true,
    async instrumentService(app: FastifyInstance) {
      traceRequests(app, serverSpans);
    },
    async requestSpans(app: FastifyInstance) {
      return requestSpans(app, serverSpans);
    },
    async forceFlush() {
      await provider.forceFlush();
    },
    async shutdown() {
      if (active !== tracing) return;
      active = undefined;
      if (sampler instanceof AWSXRayRemoteSampler) sampler.stopPollers();
      try {
        // The OTLP processor gives what is still queued one last attempt, with no retry backoff.
        await provider.shutdown();
      } finally {
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
  active = tracing;
  return tracing;
}

function samplerOf(
  settings: TracingSetup,
  resource: ReturnType<typeof resourceFromAttributes>,
  rules: SamplingRule[],
): Sampler {
  switch (settings.TRACING_SAMPLER ?? 'xray-local') {
    case 'always-on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'xray-remote':
      // Rules and reservoir quotas come from X-Ray through the collector's sampling proxy.
      return new AWSXRayRemoteSampler({ resource, endpoint: settings.XRAY_SAMPLING_ENDPOINT });
    case 'xray-local':
      return new ParentBasedSampler({
        root: new XRayRulesSampler({
          rules,
          serviceName: settings.SERVICE_NAME,
          serviceType: settings.CLOUD_PLATFORM ? XRAY_SERVICE_TYPES[settings.CLOUD_PLATFORM] : '',
          resourceArn: settings.XRAY_RESOURCE_ARN ?? '',
        }),
      });
  }
}

function samplingRulesOf(settings: TracingSetup): SamplingRule[] {
  if (settings.XRAY_SAMPLING_RULES_FILE) {
    const path = settings.XRAY_SAMPLING_RULES_FILE;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(`XRAY_SAMPLING_RULES_FILE: cannot read ${path}: ${(error as Error).message}`);
    }
    return parseSamplingRules(text, `XRAY_SAMPLING_RULES_FILE ${path}`);
  }
  if (settings.XRAY_SAMPLING_RULES)
    return parseSamplingRules(settings.XRAY_SAMPLING_RULES, 'XRAY_SAMPLING_RULES');
  return parseSamplingRules('[]', 'default rules');
}

function spanProcessorsOf(settings: TracingSetup): SpanProcessor[] {
  const exporter = settings.TRACING_EXPORTER ?? 'otlp';
  const processors: SpanProcessor[] = [];
  if (exporter === 'otlp' || exporter === 'otlp-and-file') {
    const url = new URL(
      'v1/traces',
      settings.OTLP_ENDPOINT.endsWith('/') ? settings.OTLP_ENDPOINT : `${settings.OTLP_ENDPOINT}/`,
    );
    processors.push(new OtlpBatchSpanProcessor({ url: url.href, ...BATCHING }));
  }
  if (exporter === 'file' || exporter === 'otlp-and-file') {
    const file = new JsonLinesSpanExporter(settings.TRACES_FILE ?? '.stratus/traces.jsonl');
    processors.push(new BatchSpanProcessor(file, BATCHING));
  }
  return processors;
}
