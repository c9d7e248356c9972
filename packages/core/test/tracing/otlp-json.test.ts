import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { withoutDefaultSpanFields } from '@stratus/test-peers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonBytes, OtlpJsonBatch } from '../../src/tracing/otlp-json.js';

const textOf = (out: JsonBytes) => out.written().toString('utf8');

describe('JsonBytes', () => {
  it('writes any string as JSON.stringify does: ASCII byte by byte, the rest escaped or UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme-ascii' }), (any, ascii) => {
        // A small buffer, so writes also cross its growth.
        const out = new JsonBytes(4);
        out.string(ascii);
        out.ascii(',');
        out.string(any);
        expect(textOf(out)).toBe(`${JSON.stringify(ascii)},${JSON.stringify(any)}`);
      }),
    );
    const out = new JsonBytes(1);
    for (const value of ['a"b', 'back\\slash', 'tab\there', 'é', '😀', '\ud800 lone', '\u007f'])
      out.string(value);
    expect(textOf(out)).toBe(
      ['a"b', 'back\\slash', 'tab\there', 'é', '😀', '\ud800 lone', '\u007f']
        .map((v) => JSON.stringify(v))
        .join(''),
    );
  });

  it('writes non-negative integers in decimal, zero-padded to a width', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 1, max: 20 }),
        (value, width) => {
          const out = new JsonBytes(2);
          out.digits(value, width);
          expect(textOf(out)).toBe(String(value).padStart(width, '0'));
        },
      ),
    );
  });
});

describe('OtlpJsonBatch', () => {
  it('writes the schema URLs of the resource and of each scope as the transformer does', () => {
    const ended = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes(
        { 'service.name': 'orders' },
        { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' },
      ),
      spanProcessors: [new SimpleSpanProcessor(ended)],
    });
    provider.getTracer('@stratus/core', '0.1.0').startSpan('no schema').end();
    provider
      .getTracer('@opentelemetry/instrumentation-http', '0.223.0', {
        schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
      })
      .startSpan('with schema')
      .end();
    const spans = ended.getFinishedSpans();
    const batch = new OtlpJsonBatch(new Map());
    for (const span of spans) batch.add(span);
    const decode = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString('utf8'));
    const body = decode(Buffer.concat(batch.body() ?? []));
    expect(body).toEqual(
      withoutDefaultSpanFields(decode(JsonTraceSerializer.serializeRequest(spans) as Uint8Array)),
    );
    expect(body.resourceSpans[0].schemaUrl).toBe('https://opentelemetry.io/schemas/1.30.0');
    expect(body.resourceSpans[0].scopeSpans.map((scope: { schemaUrl?: string }) => scope.schemaUrl)).toEqual([
      undefined,
      'https://opentelemetry.io/schemas/1.27.0',
    ]);
  });

  it('writes attribute keys past the bound of kept key heads as it writes the kept ones', () => {
    const ended = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'orders' }),
      spanProcessors: [new SimpleSpanProcessor(ended)],
    });
    const tracer = provider.getTracer('@stratus/core');
    // 640 keys made from data, more than the 512 heads kept: the later ones are written as they come.
    for (let span = 0; span < 5; span++) {
      const attributes = Object.fromEntries(
        Array.from({ length: 128 }, (_, i) => [`tenant.${span}.field_${i}`, i % 2 ? i : `v"${i}`]),
      );
      tracer.startSpan(`span ${span}`, { attributes }).end();
    }
    const spans = ended.getFinishedSpans();
    const batch = new OtlpJsonBatch(new Map());
    for (const span of spans) batch.add(span);
    const decode = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString('utf8'));
    expect(decode(Buffer.concat(batch.body() ?? []))).toEqual(
      withoutDefaultSpanFields(decode(JsonTraceSerializer.serializeRequest(spans) as Uint8Array)),
    );
  });
});
