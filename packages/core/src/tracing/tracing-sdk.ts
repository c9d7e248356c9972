import { readFileSync } from 'node:fs';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import {
  type Context,
  context,
  type ProxyTracerProvider,
  propagation,
  type Span,
  trace,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AWSXRayIdGenerator } from '@opentelemetry/id-generator-aws-xray';
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AWSXRayRemoteSampler } from '@opentelemetry/sampler-aws-xray';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Tracing, TracingSetup } from './configure-tracing.js';
import { JsonLinesSpanExporter } from './json-lines-exporter.js';
import { parseSamplingRules, type SamplingRule } from './sampling/sampling-rules.js';
import { SAMPLING_HOST_KEY, XRayRulesSampler } from './sampling/xray-rules-sampler.js';
import { XRAY_SERVICE_TYPES } from './tracing-settings.js';

/** Probes are polled every few seconds by load balancers and Kubernetes; tracing them is noise. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/stats']);

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

  const fastifyInstrumentation = new FastifyOtelInstrumentation({
    // One span per request: the SERVER span is the X-Ray segment, and annotations made in the
    // handler land on it, where X-Ray indexes them. Spans per hook or for the handler would multiply
    // the cost of every request for little insight; captureSubsegment adds children where they help.
    instrumentHooks: false,
    instrumentHandler: false,
    ignorePaths: ({ url }) => {
      const query = url.indexOf('?');
      return UNTRACED_PATHS.has(query === -1 ? url : url.slice(0, query));
    },
    requestHook: (span: Span, request: FastifyRequest) => {
      span.updateName(`${request.method} ${request.routeOptions.url ?? request.url}`);
      span.setAttribute('server.address', request.host);
      span.setAttribute('http.request.header.x-request-id', request.id);
    },
  });

  const rules = samplingRulesOf(settings);
  const needsHost = settings.TRACING_SAMPLER === 'xray-remote' || rules.some((rule) => rule.Host !== '*');
  const sampler = samplerOf(settings, resource, rules);
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    idGenerator: new AWSXRayIdGenerator(),
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new AWSXRayPropagator(), new W3CBaggagePropagator()],
    }),
    sampler,
    spanProcessors: spanProcessorsOf(settings),
    // Logs stay with pino (trace ids are added to each line); no OTLP log export.
    logRecordProcessors: [],
    instrumentations: [
      fastifyInstrumentation,
      new UndiciInstrumentation(),
      // Inbound requests are traced by @fastify/otel; http covers outbound http.request (AWS SDK).
      // (Not ignoreIncomingRequestHook: ignoring a request suppresses tracing for all of it.)
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }),
      new AwsInstrumentation({ suppressInternalInstrumentation: true }),
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();

  const tracing: Tracing = {
    enabled: true,
    async instrumentService(app: FastifyInstance) {
      // The sampler sees the span's start attributes only; the Host header reaches it via the
      // context, when a rule looks at it.
      if (needsHost) {
        app.addHook('onRequest', (request, _reply, done) => {
          const withHost: Context = context.active().setValue(SAMPLING_HOST_KEY, request.host);
          context.with(withHost, done);
        });
      }
      await app.register(fastifyInstrumentation.plugin());
      // Body parsing runs in stream callbacks that lose the async context the request span was made
      // current in; enter it again for the handler, so its subsegments and outbound calls are children.
      app.addHook('preHandler', (request, _reply, done) => {
        const otel = request.opentelemetry();
        if (otel.context) context.with(otel.context, done);
        else done();
      });
    },
    async forceFlush() {
      const provider = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate() as {
        forceFlush?: () => Promise<void>;
      };
      await provider.forceFlush?.();
    },
    async shutdown() {
      if (active !== tracing) return;
      active = undefined;
      if (sampler instanceof AWSXRayRemoteSampler) sampler.stopPollers();
      await sdk.shutdown();
      fastifyInstrumentation.disable();
      trace.disable();
      context.disable();
      propagation.disable();
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
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: url.href })));
  }
  if (exporter === 'file' || exporter === 'otlp-and-file') {
    processors.push(
      new BatchSpanProcessor(new JsonLinesSpanExporter(settings.TRACES_FILE ?? '.stratus/traces.jsonl')),
    );
  }
  return processors;
}
