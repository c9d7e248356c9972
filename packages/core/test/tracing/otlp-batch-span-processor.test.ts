import { type Attributes, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  type OtlpReceiver,
  type OtlpReceiverOptions,
  startOtlpReceiver,
  withoutDefaultSpanFields,
} from '@stratus/test-peers';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  OtlpBatchSpanProcessor,
  type OtlpBatchSpanProcessorOptions,
} from '../../src/tracing/otlp-batch-span-processor.js';

const resource = resourceFromAttributes({ 'service.name': 'orders', 'deployment.environment.name': 'test' });
/** Spans named `record-only …` are recorded but not sampled: they must not be exported. */
const recordOnlySampler: Sampler = {
  shouldSample: (_context, _traceId, name) => ({
    decision: name.startsWith('record-only') ? SamplingDecision.RECORD : SamplingDecision.RECORD_AND_SAMPLED,
  }),
};

let receiver: OtlpReceiver | undefined;
let provider: BasicTracerProvider | undefined;
afterEach(async () => {
  await provider?.shutdown().catch(() => {});
  await receiver?.close();
  provider = undefined;
  receiver = undefined;
});

/** The processor under test, sending to a loopback OTLP receiver; `ended` also keeps every span. */
async function setUp(
  options: Partial<OtlpBatchSpanProcessorOptions> = {},
  receiverOptions: OtlpReceiverOptions = {},
) {
  const peer = await startOtlpReceiver(receiverOptions);
  const processor = new OtlpBatchSpanProcessor({ url: `${peer.url}/v1/traces`, ...options });
  const ended = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    resource,
    sampler: recordOnlySampler,
    spanProcessors: [new SimpleSpanProcessor(ended), processor],
  });
  receiver = peer;
  provider = tracerProvider;
  const tracer = tracerProvider.getTracer('@stratus/core', '0.1.0');
  const spans = (count: number, prefix = 'span') => {
    for (let i = 0; i < count; i++) tracer.startSpan(`${prefix} ${i}`).end();
  };
  return { peer, processor, ended, tracerProvider, tracer, spans };
}

/**
 * What the OpenTelemetry JS OTLP/JSON exporter would send for these spans, parsed, less the span
 * fields at their protobuf default (the processor leaves them out).
 */
function transformerRequest(spans: ReadableSpan[]): unknown {
  const bytes = JsonTraceSerializer.serializeRequest(spans);
  return withoutDefaultSpanFields(JSON.parse(new TextDecoder().decode(bytes)));
}

describe('OtlpBatchSpanProcessor: what goes on the wire', () => {
  it('sends the same OTLP/JSON as OpenTelemetry JS, for every kind of span content', async () => {
    const { peer, processor, ended, tracerProvider } = await setUp();
    const server = tracerProvider.getTracer('@stratus/core', '0.1.0');
    const http = tracerProvider.getTracer('@opentelemetry/instrumentation-http');
    const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '6757a5d2c4a4f1e0a1b2c3d4e5f60718',
      spanId: 'a1b2c3d4e5f60718',
      traceFlags: 1,
      isRemote: true,
      traceState: new TraceState('xray=1,vendor=a'),
    });
    const request = server.startSpan(
      'GET /orders/:id',
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': 'GET',
          'http.response.status_code': 500,
          ratio: 0.25,
          cached: false,
          tags: ['a', 'b'],
          counts: [1, 2, 3],
          'aws.xray.annotations': ['order_id'],
          note: 'quotes " and \\ and\nnew lines, café, 東京, 🚀',
        },
      },
      remoteParent,
    );
    request.addEvent('retry', { attempt: 2, 'peer.service': 'pricing' });
    request.recordException(new Error('pricing is down'));
    request.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream "pricing" failed' });
    const child = http.startSpan(
      'GET',
      {
        kind: SpanKind.CLIENT,
        links: [
          {
            context: { traceId: 'f'.repeat(32), spanId: 'e'.repeat(16), traceFlags: 0 },
            attributes: { reason: 'batch' },
          },
        ],
      },
      trace.setSpan(ROOT_CONTEXT, request),
    );
    child.setStatus({ code: SpanStatusCode.OK });
    child.end();
    request.end();
    server.startSpan('internal work').end();

    await processor.forceFlush();
    expect(peer.exportBodies()).toEqual([transformerRequest(ended.getFinishedSpans())]);
  });

  it('writes any attribute values and names as the transformer does (property)', async () => {
    const { peer, processor, ended, tracer } = await setUp();
    const scalar = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.integer(),
      fc.double({ noNaN: false }),
      fc.boolean(),
    );
    const attributeValue = fc.oneof(
      scalar,
      fc.array(fc.string({ unit: 'binary' }), { maxLength: 4 }),
      fc.array(fc.double(), { maxLength: 4 }),
      fc.array(fc.boolean(), { maxLength: 4 }),
    );
    const spanContent = fc.record({
      name: fc.string({ unit: 'binary', maxLength: 40 }),
      attributes: fc.dictionary(fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }), attributeValue, {
        maxKeys: 6,
      }),
      event: fc.option(fc.string({ unit: 'binary', maxLength: 20 })),
    });
    await fc.assert(
      fc.asyncProperty(spanContent, async ({ name, attributes, event }) => {
        peer.clear();
        ended.reset();
        const span = tracer.startSpan(name, { attributes: attributes as Attributes });
        if (event !== null) span.addEvent(event, attributes as Attributes);
        span.end();
        await processor.forceFlush();
        expect(peer.exportBodies()).toEqual([transformerRequest(ended.getFinishedSpans())]);
      }),
      { numRuns: 60 },
    );
  });
});

describe('OtlpBatchSpanProcessor: batching', () => {
  it('sends full batches as they fill and the rest on flush, every span once and in order', async () => {
    const { peer, processor, spans } = await setUp({ maxExportBatchSize: 100 });
    spans(250);
    await peer.waitForSpans((received) => received.length === 200);
    expect(peer.exportCount()).toBe(2);
    await processor.forceFlush();
    expect(peer.exportCount()).toBe(3);
    expect(peer.spans().map((span) => span.name)).toEqual(Array.from({ length: 250 }, (_, i) => `span ${i}`));
  });

  it('sends a batch that does not fill once the scheduled delay has passed, with no flush', async () => {
    const { peer, spans } = await setUp({ scheduledDelayMillis: 50 });
    spans(3);
    const received = await peer.waitForSpans((all) => all.length === 3, 2_000);
    expect(received.map((span) => span.name)).toEqual(['span 0', 'span 1', 'span 2']);
    expect(peer.exportCount()).toBe(1);
  });

  it('leaves out spans that are recorded but not sampled', async () => {
    const { peer, processor, spans } = await setUp();
    spans(2, 'record-only');
    spans(1, 'sampled');
    await processor.forceFlush();
    expect(peer.spans().map((span) => span.name)).toEqual(['sampled 0']);
  });

  it('keeps spans of several instrumentation scopes in one request, each under its scope', async () => {
    const { peer, processor, tracerProvider } = await setUp();
    tracerProvider.getTracer('scope-a').startSpan('a').end();
    tracerProvider.getTracer('scope-b', '2.0.0').startSpan('b').end();
    tracerProvider.getTracer('scope-a').startSpan('a again').end();
    await processor.forceFlush();
    expect(peer.exportCount()).toBe(1);
    expect(peer.spans().map((span) => `${span.scope}:${span.name}`)).toEqual([
      'scope-a:a',
      'scope-a:a again',
      'scope-b:b',
    ]);
  });
});

describe('OtlpBatchSpanProcessor: a collector in trouble', () => {
  it('sends a refused batch again (503, then accepted): nothing lost, nothing twice', async () => {
    const { peer, processor, spans } = await setUp(
      {},
      { refuse: (request) => (request === 1 ? 503 : undefined) },
    );
    spans(5);
    await processor.forceFlush();
    expect(peer.spans().map((span) => span.name)).toEqual(['span 0', 'span 1', 'span 2', 'span 3', 'span 4']);
    expect(peer.exportCount()).toBe(1);
  }, 10_000);

  it('drops spans beyond the queue while the collector is slow, and sends the rest once it answers', async () => {
    let answer: () => void = () => {};
    const answered = new Promise<undefined>((resolve) => {
      answer = () => resolve(undefined);
    });
    const { peer, processor, spans } = await setUp(
      { maxExportBatchSize: 10, maxQueueSize: 30 },
      { refuse: (request) => (request === 1 ? answered : undefined) },
    );
    spans(10, 'first'); // the batch in flight, held by the collector
    await new Promise((resolve) => setTimeout(resolve, 50));
    spans(40, 'queued'); // 30 wait, 10 are dropped
    answer();
    await processor.forceFlush();
    const names = peer.spans().map((span) => span.name);
    expect(names).toHaveLength(40);
    expect(names.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `first ${i}`));
    expect(names.slice(10)).toEqual(Array.from({ length: 30 }, (_, i) => `queued ${i}`));
  });

  it('fails the flush with the collector status when a batch is refused for good (400)', async () => {
    const { processor, spans } = await setUp({}, { refuse: () => 400 });
    spans(1);
    await expect(processor.forceFlush()).rejects.toThrow(/answered 400/);
  });

  it('gives a batch one last attempt, and no retry, once shutting down', async () => {
    let attempts = 0;
    const refuseEvery = () => {
      attempts++;
      return 503;
    };
    const { processor, spans } = await setUp({}, { refuse: refuseEvery });
    spans(1);
    await expect(processor.shutdown()).rejects.toThrow(/answered 503/);
    expect(attempts).toBe(1);
  });
});
