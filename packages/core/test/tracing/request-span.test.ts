import {
  type Attributes,
  type AttributeValue,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestSpan, SPAN_LIMITS } from '../../src/tracing/request-span.js';

/**
 * RequestSpan stands in for the SDK's span on sampled requests, so each test makes the same calls
 * on an SDK span (BasicTracerProvider with the same limits) and on a RequestSpan, and compares what
 * the exporter gets.
 */
const resource = resourceFromAttributes({ 'service.name': 'orders' });
const parent = {
  traceId: '6757a5d2c4a4f1e0a1b2c3d4e5f60718',
  spanId: 'a1b2c3d4e5f60718',
  traceFlags: 1,
  isRemote: true,
};
const parentContext = trace.setSpanContext(ROOT_CONTEXT, parent);

type Call = (span: Span) => void;

function bothSpans(calls: Call[], attributes: Attributes = { 'http.request.method': 'GET' }) {
  const sdkSpans = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource,
    spanLimits: SPAN_LIMITS,
    spanProcessors: [new SimpleSpanProcessor(sdkSpans)],
  });
  const sdkSpan = provider
    .getTracer('@stratus/core')
    .startSpan('GET /orders/:id', { kind: SpanKind.SERVER, attributes }, parentContext);

  const ours = new InMemorySpanExporter();
  const started: ReadableSpan[] = [];
  const requestSpan = new RequestSpan(
    {
      resource,
      scope: { name: '@stratus/core' },
      processors: [
        {
          onStart: (span) => void started.push(span as ReadableSpan),
          onEnd: () => {},
          forceFlush: async () => {},
          shutdown: async () => {},
        },
        new SimpleSpanProcessor(ours),
      ],
    },
    'GET /orders/:id',
    { traceId: parent.traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED },
    parent,
    { ...attributes },
    parentContext,
  );
  for (const call of calls) {
    call(sdkSpan);
    call(requestSpan);
  }
  return {
    sdk: sdkSpans.getFinishedSpans()[0],
    ours: ours.getFinishedSpans()[0],
    requestSpan,
    sdkSpan,
    started,
  };
}

/** What an exporter reads of a span, but its ids and clock readings. */
function exported(span: ReadableSpan | undefined) {
  if (!span) return undefined;
  return {
    name: span.name,
    kind: span.kind,
    parent: span.parentSpanContext,
    attributes: span.attributes,
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map(({ name, attributes, droppedAttributesCount }) => ({
      name,
      attributes,
      droppedAttributesCount,
    })),
    droppedEventsCount: span.droppedEventsCount,
    links: span.links,
    droppedLinksCount: span.droppedLinksCount,
    status: span.status,
    ended: span.ended,
    resource: span.resource.attributes,
    scope: span.instrumentationScope.name,
  };
}

const error = Object.assign(new Error('card declined'), { name: 'PaymentError' });

describe('RequestSpan', () => {
  it('is exported as the SDK span is, through the same calls', () => {
    const { sdk, ours, started } = bothSpans([
      (span) => span.setAttribute('http.route', '/orders/:id'),
      (span) => span.setAttributes({ 'server.port': 8080, tags: ['a', 'b'], ok: true, none: undefined }),
      (span) => span.setAttribute('', 'empty key'),
      (span) => span.setAttribute('bad', { nested: 1 } as unknown as AttributeValue),
      (span) => span.setAttribute('mixed', [1, 'two'] as unknown as AttributeValue),
      (span) => span.addEvent('cache.miss', { key: 'o-1', bad: { x: 1 } as unknown as AttributeValue }),
      (span) => span.addEvent('at a time', [1_700_000_000, 5]),
      (span) => span.recordException(error),
      (span) => span.recordException('plain text'),
      (span) => span.recordException({ code: 'ECONNRESET', message: 'socket hang up' }),
      (span) => span.recordException({} as Error),
      (span) => span.addLink({ context: parent, attributes: { reason: 'retry' } }),
      (span) => span.addLinks([{ context: parent }]),
      (span) => span.setStatus({ code: SpanStatusCode.UNSET, message: 'ignored' }),
      (span) => span.setStatus({ code: SpanStatusCode.ERROR, message: 'payment failed' }),
      (span) => span.updateName('POST /orders'),
      (span) => span.end(),
      (span) => span.setAttribute('after.end', 1),
      (span) => span.end(),
    ]);
    expect(exported(ours)).toEqual(exported(sdk));
    expect(ours?.events.find((event) => event.name === 'at a time')?.time).toEqual([1_700_000_000, 5]);
    expect(started).toHaveLength(1);
  });

  it('keeps OK final, and a message for ERROR only', () => {
    const { sdk, ours } = bothSpans([
      (span) => span.setStatus({ code: SpanStatusCode.OK, message: 'dropped' }),
      (span) => span.setStatus({ code: SpanStatusCode.ERROR, message: 'too late' }),
      (span) => span.end(),
    ]);
    expect(ours?.status).toEqual({ code: SpanStatusCode.OK });
    expect(exported(ours)).toEqual(exported(sdk));
  });

  it('drops what is over the limits as the SDK does, and counts it', () => {
    const many = Array.from({ length: 140 }, (_, i) => i);
    const { sdk, ours } = bothSpans([
      (span) => {
        for (const i of many) span.setAttribute(`key.${i}`, i);
      },
      (span) => span.setAttribute('key.3', 'replaced, not dropped'),
      (span) => {
        for (const i of many) span.addEvent(`event ${i}`);
      },
      (span) => {
        for (const i of many) span.addLink({ context: { ...parent, spanId: `${i}`.padStart(16, '0') } });
      },
      (span) => span.end(),
    ]);
    expect(ours?.droppedAttributesCount).toBe(13);
    expect(ours?.droppedEventsCount).toBe(12);
    expect(ours?.events[0]?.name).toBe('event 12');
    expect(exported(ours)).toEqual(exported(sdk));
  });

  it('times events and the end on the monotonic clock from its start, as the SDK does', async () => {
    const { requestSpan } = bothSpans([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    requestSpan.addEvent('later');
    requestSpan.addEvent('at a performance time', performance.now() - 10);
    requestSpan.addEvent('at an epoch time', new Date(1_700_000_000_123));
    requestSpan.end();
    const ms = ([seconds, nanos]: readonly number[]) => (seconds ?? 0) * 1000 + (nanos ?? 0) / 1e6;
    const start = ms(requestSpan.startTime);
    expect(ms(requestSpan.events[0]?.time ?? [0, 0]) - start).toBeGreaterThanOrEqual(19);
    expect(ms(requestSpan.events[1]?.time ?? [0, 0])).toBeLessThan(ms(requestSpan.events[0]?.time ?? [0, 0]));
    expect(requestSpan.events[2]?.time).toEqual([1_700_000_000, 123_000_000]);
    expect(ms(requestSpan.endTime) - start).toBeGreaterThanOrEqual(19);
    expect(ms(requestSpan.duration)).toBeCloseTo(ms(requestSpan.endTime) - start, 3);
    expect(requestSpan.isRecording()).toBe(false);
  });

  it('gives any sequence of attribute, event and status calls the SDK span result (property)', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(undefined),
      fc.constant(null),
      fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxLength: 3 }),
      fc.constant({ nested: true }),
    );
    const call: fc.Arbitrary<Call> = fc.oneof(
      fc.tuple(fc.string({ maxLength: 6 }), value).map(
        ([key, v]) =>
          (span: Span) =>
            void span.setAttribute(key, v as AttributeValue),
      ),
      fc
        .tuple(
          fc.constantFrom(SpanStatusCode.UNSET, SpanStatusCode.OK, SpanStatusCode.ERROR),
          fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
        )
        .map(
          ([code, message]) =>
            (span: Span) =>
              void span.setStatus({ code, message }),
        ),
      fc
        .tuple(fc.string({ maxLength: 6 }), fc.dictionary(fc.string({ maxLength: 4 }), value, { maxKeys: 3 }))
        .map(
          ([name, attributes]) =>
            (span: Span) =>
              void span.addEvent(name, attributes as Attributes),
        ),
      fc.constant((span: Span) => void span.updateName('renamed')),
      fc.constant((span: Span) => {
        if (span.isRecording()) span.end();
      }),
    );
    fc.assert(
      fc.property(fc.array(call, { maxLength: 20 }), (calls) => {
        const { sdk, ours } = bothSpans([
          ...calls,
          (span) => {
            if (span.isRecording()) span.end();
          },
        ]);
        expect(exported(ours)).toEqual(exported(sdk));
      }),
      { numRuns: 200 },
    );
  });
});
