import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { type OtlpReceiver, startOtlpReceiver } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureTracing, type Tracing } from '../../src/tracing/configure-tracing.js';
import {
  annotate,
  captureSubsegment,
  currentXRayTraceId,
  putMetadata,
  setUser,
  TracingUsageError,
} from '../../src/tracing/xray-vocabulary.js';
import { type RunningService, startTestService } from '../support/service-under-test.js';

describe('X-Ray vocabulary on a traced service', () => {
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  let service: RunningService;
  let url: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    tracing = await configureTracing({
      SERVICE_NAME: 'orders',
      ENVIRONMENT: 'test',
      ENABLE_TRACING: true,
      OTLP_ENDPOINT: receiver.url,
      TRACING_SAMPLER: 'always-on',
      AWS_REGION: 'eu-west-1',
    });
    service = await startTestService({
      env: { SERVICE_NAME: 'orders', ENVIRONMENT: 'test', LOG_LEVEL: 'info' },
      tracing,
      routes: (app) => {
        app.get('/orders/:id', async (request) => {
          const { id } = request.params as { id: string };
          annotate('order_id', id);
          annotate('priority', 3);
          annotate('express', true);
          putMetadata('request', { path: request.url });
          putMetadata('lines', [1, 2], 'pricing');
          putMetadata('attempt', 1);
          putMetadata('attempt', 2);
          annotate('priority', 4);
          setUser('user-42');
          const total = await captureSubsegment('price_order', async () => {
            annotate('currency', 'EUR');
            return 12.5;
          });
          await captureSubsegment('reserve_stock', async () => {
            throw new Error('out of stock');
          }).catch(() => undefined);
          return { id, total, xrayTraceId: currentXRayTraceId() };
        });
        app.post('/orders', async (request) =>
          captureSubsegment('store_order', async () => ({ stored: (request.body as { id: string }).id })),
        );
      },
    });
    url = service.url;
  });

  afterAll(async () => {
    await service?.close();
    await tracing?.shutdown();
    await receiver?.close();
  });

  it('continues the caller trace from X-Amzn-Trace-Id and records annotations, metadata, user and subsegments', async () => {
    const root = '1-6743a1b2-0123456789abcdef01234567';
    const parent = '53995c3f42cd8ad8';
    // The test is the caller here, not a traced client: its own fetch must not add a traceparent.
    const response = await context.with(suppressTracing(context.active()), () =>
      fetch(`${url}/orders/o-7`, {
        headers: { 'x-amzn-trace-id': `Root=${root};Parent=${parent};Sampled=1` },
      }),
    );
    const body = (await response.json()) as { xrayTraceId: string };
    expect(response.status).toBe(200);
    expect(body.xrayTraceId).toBe(root);

    await tracing.forceFlush();
    const spans = await receiver.waitForSpans((all) => all.some((span) => span.name === 'reserve_stock'));
    const traceId = '6743a1b20123456789abcdef01234567';
    const server = spans.find((span) => span.name === 'GET /orders/:id');
    expect(server).toMatchObject({ traceId, parentSpanId: parent, kind: 2, serviceName: 'orders' });
    expect(server?.resource).toMatchObject({
      'deployment.environment.name': 'test',
      'cloud.provider': 'aws',
      'cloud.region': 'eu-west-1',
    });
    // Annotations made in the handler land on the request's SERVER span: the X-Ray segment.
    expect(server?.attributes).toMatchObject({
      order_id: 'o-7',
      priority: 4,
      express: true,
      'aws.xray.annotations': ['order_id', 'priority', 'express'],
      'enduser.id': 'user-42',
    });
    expect(JSON.parse(String(server?.attributes['aws.xray.metadata.default']))).toEqual({
      request: { path: '/orders/o-7' },
      attempt: 2,
    });
    expect(JSON.parse(String(server?.attributes['aws.xray.metadata.pricing']))).toEqual({ lines: [1, 2] });

    const price = spans.find((span) => span.name === 'price_order');
    expect(price).toMatchObject({ traceId, parentSpanId: server?.spanId, status: { code: 0 } });
    expect(price?.attributes['aws.xray.annotations']).toEqual(['currency']);
    const reserve = spans.find((span) => span.name === 'reserve_stock');
    expect(reserve?.status).toEqual({ code: 2, message: 'out of stock' });
    // Log lines of the request carry its trace.
    const completed = service.logs.events('request_completed').find((line) => line.path === '/orders/o-7');
    expect(completed).toMatchObject({ trace_id: traceId, span_id: server?.spanId });
    expect(reserve?.events[0]).toMatchObject({
      name: 'exception',
      attributes: { 'exception.message': 'out of stock' },
    });
  });

  it('keeps the request span current in handlers of requests with a body', async () => {
    receiver.clear();
    const response = await context.with(suppressTracing(context.active()), () =>
      fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'o-9' }),
      }),
    );
    expect(await response.json()).toEqual({ stored: 'o-9' });
    await tracing.forceFlush();
    const spans = await receiver.waitForSpans((all) => all.some((span) => span.name === 'POST /orders'));
    const server = spans.find((span) => span.name === 'POST /orders');
    const store = spans.find((span) => span.name === 'store_order');
    expect(store).toMatchObject({ traceId: server?.traceId, parentSpanId: server?.spanId });
  });

  it('does not trace health probes', async () => {
    receiver.clear();
    await fetch(`${url}/health`);
    await fetch(`${url}/orders/o-8`);
    await tracing.forceFlush();
    const spans = await receiver.waitForSpans((all) => all.some((span) => span.name === 'reserve_stock'));
    expect(spans.map((span) => span.name)).not.toContain('GET /health');
  });

  it('rejects annotation keys X-Ray cannot index and values of other types', () => {
    expect(() => annotate('order-id', 'x')).toThrow(TracingUsageError);
    expect(() => annotate('order.id', 'x')).toThrow(/letters, digits or underscores/);
    expect(() => annotate('', 'x')).toThrow(TracingUsageError);
    expect(() => annotate('nested', { a: 1 } as unknown as string)).toThrow(/string .* number or a boolean/);
    expect(() => annotate('big', Number.NaN)).toThrow(TracingUsageError);
    expect(() => annotate('long', 'x'.repeat(1001))).toThrow(TracingUsageError);
    expect(() => putMetadata('k', 1, 'bad namespace')).toThrow(TracingUsageError);
    expect(() => putMetadata('k', 1, 'AWS.reserved')).toThrow(/reserved/);
    expect(() => setUser('')).toThrow(TracingUsageError);
  });

  it('rethrows from a synchronous subsegment and returns its value', () => {
    expect(captureSubsegment('sync', () => 7)).toBe(7);
    expect(() =>
      captureSubsegment('sync_failure', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
  });
});
