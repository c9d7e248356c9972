import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, createContextKey, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '@stratus/test-peers';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/errors.js';
import { configureTracing, type Tracing } from '../../src/tracing/configure-tracing.js';
import { RequestContext, serverAddressOf, serverPortOf } from '../../src/tracing/server-spans.js';
import { captureSubsegment } from '../../src/tracing/xray-vocabulary.js';
import { type RunningService, startTestService } from '../support/service-under-test.js';

// /orders* is always sampled, everything else never (no reservoir either).
const RULES = JSON.stringify([
  { RuleName: 'orders', Priority: 1, ReservoirSize: 0, FixedRate: 1, URLPath: '/orders*' },
  { RuleName: 'Default', Priority: 10000, ReservoirSize: 0, FixedRate: 0 },
]);
const untraced = <T>(work: () => Promise<T>) => context.with(suppressTracing(context.active()), work);

let receiver: OtlpReceiver;
let tracing: Tracing;
let service: RunningService;
/** A plain HTTP peer the service calls; it remembers the headers it was sent. */
let downstream: Server;
let downstreamUrl: string;
const downstreamHeaders: IncomingHttpHeaders[] = [];
/** Resolved when the handler of /orders/:id/slow has started. */
let slowStarted: () => void = () => {};

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  downstream = createServer((request, response) => {
    downstreamHeaders.push(request.headers);
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  downstreamUrl = `http://127.0.0.1:${(downstream.address() as AddressInfo).port}`;
  tracing = await configureTracing({
    SERVICE_NAME: 'orders',
    ENVIRONMENT: 'test',
    ENABLE_TRACING: true,
    OTLP_ENDPOINT: receiver.url,
    XRAY_SAMPLING_RULES: RULES,
  });
  service = await startTestService({
    env: { SERVICE_NAME: 'orders' },
    tracing,
    routes: (app) => {
      app.get('/orders/:id', async (request) => {
        request.log.info({ event: 'order_read' }, 'read');
        return { id: (request.params as { id: string }).id };
      });
      app.get('/orders/:id/broken', async () => {
        throw new Error('database is down');
      });
      // Answers only once the client has gone away.
      app.get('/orders/:id/slow', async (_request, reply) => {
        slowStarted();
        await new Promise((resolve) => reply.raw.once('close', resolve));
        return {};
      });
      app.get('/orders/:id/missing', async () => {
        throw new ServiceError(404, 'order_not_found', 'No such order');
      });
      app.post('/orders', async (request) =>
        captureSubsegment('store_order', async () => ({ stored: request.body })),
      );
      app.get('/reports/daily', async (request) => {
        request.log.info({ event: 'report_read' }, 'read');
        await fetch(downstreamUrl);
        return {};
      });
    },
  });
});

afterAll(async () => {
  await service?.close();
  await tracing?.shutdown();
  downstream?.close();
  await receiver?.close();
});

describe('the SERVER span of each request', () => {
  it('carries the HTTP semantic-convention attributes, the route in its name, and the status', async () => {
    const response = await untraced(() =>
      fetch(`${service.url}/orders/o-7?expand=lines`, { headers: { 'user-agent': 'orders-test/1' } }),
    );
    expect(response.status).toBe(200);
    await tracing.forceFlush();
    const [span] = await receiver.waitForSpans((all) =>
      all.some((s) => s.attributes['url.path'] === '/orders/o-7'),
    );
    const port = Number(new URL(service.url).port);
    expect(span).toMatchObject({
      name: 'GET /orders/:id',
      kind: 2,
      parentSpanId: undefined,
      status: { code: 0 },
      attributes: {
        'http.request.method': 'GET',
        'http.route': '/orders/:id',
        'url.path': '/orders/o-7',
        'url.scheme': 'http',
        'server.address': '127.0.0.1',
        'server.port': port,
        'client.address': '127.0.0.1',
        'user_agent.original': 'orders-test/1',
        'http.response.status_code': 200,
      },
    });
    // Query strings can hold tokens: they stay out of the span.
    expect(JSON.stringify(span)).not.toContain('expand=lines');
    // The request's log lines carry its trace, request_started (written as the span starts) too.
    const logged = service.logs.events('order_read').at(-1);
    expect(logged).toMatchObject({ trace_id: span?.traceId, span_id: span?.spanId });
    const started = service.logs.events('request_started').find((line) => line.path === '/orders/o-7');
    expect(started).toMatchObject({ trace_id: span?.traceId, span_id: span?.spanId });
  });

  it('records a failure of the service as an error with the exception, but not a client error', async () => {
    expect((await untraced(() => fetch(`${service.url}/orders/o-1/broken`))).status).toBe(500);
    expect((await untraced(() => fetch(`${service.url}/orders/o-1/missing`))).status).toBe(404);
    await tracing.forceFlush();
    const spans = await receiver.waitForSpans(
      (all) => all.filter((s) => s.name.startsWith('GET /orders/:id/')).length === 2,
    );
    const byRoute = (route: string) => spans.find((s) => s.attributes['http.route'] === route);
    const broken = byRoute('/orders/:id/broken');
    expect(broken).toMatchObject({
      status: { code: 2 },
      attributes: { 'http.response.status_code': 500, 'error.type': '500' },
      events: [{ name: 'exception', attributes: { 'exception.message': 'database is down' } }],
    });
    const missing = byRoute('/orders/:id/missing');
    expect(missing).toMatchObject({ status: { code: 0 }, attributes: { 'http.response.status_code': 404 } });
    expect(missing?.events).toEqual([]);
  });

  it('ends the span of a request the client abandons before the answer', async () => {
    const started = new Promise<void>((resolve) => {
      slowStarted = resolve;
    });
    const abandon = new AbortController();
    const answer = untraced(() => fetch(`${service.url}/orders/o-9/slow`, { signal: abandon.signal }));
    await started;
    abandon.abort();
    await expect(answer).rejects.toThrow();
    await tracing.forceFlush();
    const spans = await receiver.waitForSpans((all) =>
      all.some((s) => s.attributes['url.path'] === '/orders/o-9/slow'),
    );
    const span = spans.find((s) => s.attributes['url.path'] === '/orders/o-9/slow');
    expect(span?.attributes).toMatchObject({ 'error.type': 'request_aborted' });
    expect(span?.attributes).not.toHaveProperty('http.response.status_code');
  });

  it('is current in a handler that runs after body parsing', async () => {
    // The body's second half comes later, so parsing ends in a later socket callback: the request's
    // context must have been carried across it.
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode('{"sku":'));
        await new Promise((resolve) => setTimeout(resolve, 50));
        controller.enqueue(encoder.encode('"A-1"}'));
        controller.close();
      },
    });
    const response = await untraced(() =>
      fetch(`${service.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit),
    );
    expect(response.status).toBe(200);
    await tracing.forceFlush();
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.name === 'store_order'));
    const server = spans.find((s) => s.name === 'POST /orders') as ReceivedSpan;
    expect(spans.find((s) => s.name === 'store_order')).toMatchObject({
      traceId: server.traceId,
      parentSpanId: server.spanId,
    });
  });

  it('continues a request that is not sampled as "not sampled" downstream, exporting nothing for it', async () => {
    const before = receiver.spans().length;
    expect((await untraced(() => fetch(`${service.url}/reports/daily`))).status).toBe(200);
    expect((await untraced(() => fetch(`${service.url}/health`))).status).toBe(200);
    await tracing.forceFlush();
    expect(receiver.spans().slice(before)).toEqual([]);

    const sent = downstreamHeaders.at(-1) ?? {};
    const xray = /^Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=[0-9a-f]{16};Sampled=0$/.exec(
      String(sent['x-amzn-trace-id']),
    );
    expect(xray, String(sent['x-amzn-trace-id'])).not.toBeNull();
    const traceId = `${xray?.[1]}${xray?.[2]}`;
    expect(sent.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    // The trace id is still on the request's log lines, to join them across services; no span id,
    // as no span of it is exported.
    const logged = service.logs.events('report_read').at(-1);
    expect(logged).toMatchObject({ trace_id: traceId });
    expect(logged).not.toHaveProperty('span_id');
  });

  it('follows the sampling decision of the caller', async () => {
    const caller = '5759e988bd862e3fe1be46a994272793';
    const callerSpan = '53995c3f42cd8ad8';
    await untraced(() =>
      fetch(`${service.url}/reports/daily`, {
        headers: {
          'x-amzn-trace-id': `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${callerSpan};Sampled=1`,
        },
      }),
    );
    await tracing.forceFlush();
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.traceId === caller));
    const server = spans.find((s) => s.traceId === caller && s.kind === 2);
    expect(server).toMatchObject({ name: 'GET /reports/daily', parentSpanId: callerSpan });
  });
});

describe('a bare fastify app', () => {
  it('gets the same SERVER span through instrumentService, current in its handler', async () => {
    const app = Fastify();
    await tracing.instrumentService(app);
    let handlerTraceId: string | undefined;
    app.get('/orders-archive/:id', async () => {
      handlerTraceId = trace.getActiveSpan()?.spanContext().traceId;
      return {};
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect((await untraced(() => fetch(`${url}/orders-archive/a-1`))).status).toBe(200);
      await tracing.forceFlush();
      const spans = await receiver.waitForSpans((all) =>
        all.some((s) => s.name === 'GET /orders-archive/:id'),
      );
      const span = spans.find((s) => s.name === 'GET /orders-archive/:id');
      expect(span).toMatchObject({ kind: 2, attributes: { 'http.response.status_code': 200 } });
      expect(handlerTraceId).toBe(span?.traceId);
    } finally {
      await app.close();
    }
  });
});

describe('server.address and server.port of a Host header', () => {
  it('reads them as fastify reads request.hostname and request.port', async () => {
    const app = Fastify();
    app.get('/', async (request) => ({
      fastify: [request.hostname, request.port],
      ours: [serverAddressOf(request.host), serverPortOf(request.host)],
    }));
    const hosts = [
      'example.com',
      'example.com:8080',
      '127.0.0.1:3000',
      '[::1]',
      '[::1]:8443',
      'a:b',
      'host:',
      ':80',
      'x:0080',
      'a:1:2',
    ];
    for (const host of hosts) {
      const { fastify, ours } = (await app.inject({ url: '/', headers: { host } })).json();
      expect(ours, host).toEqual(fastify);
    }
    await app.close();
  });
});

describe('RequestContext', () => {
  it("holds the span where the API looks for it, and its parent's values, as trace.setSpan would", () => {
    const key = createContextKey('tenant');
    const other = createContextKey('other');
    const parent = ROOT_CONTEXT.setValue(key, 'acme');
    const span = trace.wrapSpanContext({
      traceId: '6757a5d2c4a4f1e0a1b2c3d4e5f60718',
      spanId: 'a1b2c3d4e5f60718',
      traceFlags: 1,
    });
    const active = new RequestContext(parent, span);
    const stock = trace.setSpan(parent, span);
    expect(trace.getSpan(active)).toBe(span);
    expect(active.getValue(key)).toBe('acme');
    // Contexts derived from it are the API's, and keep both.
    for (const derived of [active.setValue(other, 1), active.deleteValue(other)]) {
      expect(trace.getSpan(derived)).toBe(span);
      expect(derived.getValue(key)).toBe('acme');
    }
    expect(active.setValue(other, 1).getValue(other)).toBe(stock.setValue(other, 1).getValue(other));
    expect(trace.getSpan(active.deleteValue(key))).toBe(span);
    expect(active.deleteValue(key).getValue(key)).toBeUndefined();
    const child = trace.wrapSpanContext({ ...span.spanContext(), spanId: 'b1b2c3d4e5f60718' });
    expect(trace.getSpan(trace.setSpan(active, child))).toBe(child);
    expect(trace.getSpan(trace.deleteSpan(active))).toBeUndefined();
  });
});
