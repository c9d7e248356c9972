import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { apiKeyAuth } from '../../src/service-client/api-key-auth.js';
import { staticApiKey } from '../../src/service-client/api-key-source.js';
import { createServiceClient } from '../../src/service-client/service-client.js';
import { configureTracing, type Tracing } from '../../src/tracing/configure-tracing.js';
import { annotate, captureSubsegment, putMetadata } from '../../src/tracing/xray-vocabulary.js';
import { type RunningService, startTestService } from '../support/service-under-test.js';

const API_KEY = 'shared-test-key-0123456789';
const X_AMZN_TRACE_ID = /^Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=1$/;
// Sample every checkout (and so, parent-based, everything it causes), through a rules document.
const RULES = JSON.stringify([
  {
    RuleName: 'checkout',
    Priority: 1,
    ReservoirSize: 0,
    FixedRate: 1,
    URLPath: '/checkout/*',
    HTTPMethod: 'GET',
  },
]);

describe('two services calling each other through the service client', () => {
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  let orders: RunningService;
  let ordersUrl: string;
  let pricing: ChildProcess;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    tracing = await configureTracing({
      SERVICE_NAME: 'orders',
      ENVIRONMENT: 'test',
      ENABLE_TRACING: true,
      OTLP_ENDPOINT: receiver.url,
      XRAY_SAMPLING_RULES: RULES,
    });
    let pricingClient: ReturnType<typeof createServiceClient> | undefined;
    const quote = z.object({
      sku: z.string(),
      price: z.number(),
      receivedTraceHeader: z.string(),
      receivedTraceparent: z.string(),
      catalogSawTraceHeader: z.string(),
    });
    orders = await startTestService({
      env: { SERVICE_NAME: 'orders', ENVIRONMENT: 'test' },
      tracing,
      routes: async (app) => {
        await app.register(apiKeyAuth, { apiKey: staticApiKey(API_KEY) });
        app.get('/checkout/:sku', async (request) => {
          const { sku } = request.params as { sku: string };
          annotate('checkout_sku', sku);
          const result = await captureSubsegment('quote_price', () =>
            pricingClient!.get(`/quotes/${sku}`, { schema: quote }),
          );
          putMetadata('quote', { price: result.price });
          return result;
        });
        app.get('/catalog/:sku', async (request) => {
          const { sku } = request.params as { sku: string };
          return { sku, listPrice: 100, wireTraceHeader: String(request.headers['x-amzn-trace-id']) };
        });
      },
    });
    ordersUrl = orders.url;

    const fixture = fileURLToPath(new URL('./pricing-service.fixture.ts', import.meta.url));
    pricing = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: {
        PATH: process.env.PATH,
        SERVICE_NAME: 'pricing',
        ENVIRONMENT: 'test',
        LOG_LEVEL: 'silent',
        PORT: '0',
        ENABLE_TRACING: 'true',
        OTLP_ENDPOINT: receiver.url,
        API_GATEWAY_URL: ordersUrl,
        API_KEY,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(createInterface({ input: pricing.stdout! }), 'line')) as [string];
    pricingClient = createServiceClient({
      baseUrl: (JSON.parse(line) as { url: string }).url,
      apiKey: staticApiKey(API_KEY),
    });
    // A second Node process with the TypeScript loader starts slowly on a busy machine.
  }, 90_000);

  afterAll(async () => {
    if (pricing && pricing.exitCode === null) pricing.kill('SIGKILL');
    await orders?.close();
    await tracing?.shutdown();
    await receiver?.close();
  });

  it('exports one trace with the right parents, X-Amzn-Trace-Id on the wire, annotations and metadata', async () => {
    // The test is an untraced caller; its own fetch must not start the trace.
    const response = await context.with(suppressTracing(context.active()), () =>
      fetch(`${ordersUrl}/checkout/sku-1`, { headers: { 'x-api-key': API_KEY } }),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      price: number;
      receivedTraceHeader: string;
      receivedTraceparent: string;
      catalogSawTraceHeader: string;
    };
    expect(body.price).toBe(90);

    // Stop pricing so it flushes its batch, then flush ours.
    pricing.kill('SIGTERM');
    const [exitCode] = await once(pricing, 'exit');
    expect(exitCode).toBe(0);
    await tracing.forceFlush();
    const spans = await receiver.waitForSpans(
      (all) =>
        all.filter((span) => span.kind === 2).length >= 3 && all.some((s) => s.serviceName === 'pricing'),
    );

    const traceIds = new Set(spans.map((span) => span.traceId));
    expect(traceIds.size).toBe(1);
    const [traceId] = [...traceIds] as [string];
    // X-Ray ids: the first 8 hex digits are the epoch second the trace started.
    expect(Math.abs(Number.parseInt(traceId.slice(0, 8), 16) - Date.now() / 1000)).toBeLessThan(600);

    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const parentOf = (span: ReceivedSpan | undefined) =>
      span?.parentSpanId ? byId.get(span.parentSpanId) : undefined;
    const server = (service: string, route: string) =>
      spans.find((span) => span.kind === 2 && span.serviceName === service && span.name === `GET ${route}`);

    const checkout = server('orders', '/checkout/:sku');
    const quotes = server('pricing', '/quotes/:sku');
    const catalog = server('orders', '/catalog/:sku');
    expect(checkout?.parentSpanId).toBeUndefined();

    // orders: checkout -> quote_price -> fetch (client) -> pricing: quotes
    const quoteCall = parentOf(quotes);
    expect(quoteCall).toMatchObject({ kind: 3, serviceName: 'orders' });
    const quoteSubsegment = parentOf(quoteCall);
    expect(quoteSubsegment?.name).toBe('quote_price');
    expect(parentOf(quoteSubsegment)).toBe(checkout);

    // pricing: quotes -> fetch (client) -> orders: catalog
    const catalogCall = parentOf(catalog);
    expect(catalogCall).toMatchObject({ kind: 3, serviceName: 'pricing' });
    expect(parentOf(catalogCall)).toBe(quotes);

    // On the wire, each hop carried a valid X-Amzn-Trace-Id naming the caller's client span.
    for (const [header, call] of [
      [body.receivedTraceHeader, quoteCall],
      [body.catalogSawTraceHeader, catalogCall],
    ] as const) {
      const match = X_AMZN_TRACE_ID.exec(header);
      expect(match, header).not.toBeNull();
      expect(`${match?.[1]}${match?.[2]}`).toBe(traceId);
      expect(match?.[3]).toBe(call?.spanId);
    }
    expect(body.receivedTraceparent).toBe(`00-${traceId}-${quoteCall?.spanId}-01`);

    // Annotations (indexed) and metadata, in both services.
    expect(checkout?.attributes).toMatchObject({
      checkout_sku: 'sku-1',
      'aws.xray.annotations': ['checkout_sku'],
    });
    expect(JSON.parse(String(checkout?.attributes['aws.xray.metadata.default']))).toEqual({
      quote: { price: 90 },
    });
    expect(quotes?.attributes).toMatchObject({
      sku: 'sku-1',
      'aws.xray.annotations': ['sku'],
      'enduser.id': 'customer-7',
    });
    expect(JSON.parse(String(quotes?.attributes['aws.xray.metadata.pricing']))).toMatchObject({
      catalog_entry: { sku: 'sku-1', listPrice: 100 },
    });
    expect(quotes?.resource).toMatchObject({
      'service.name': 'pricing',
      'deployment.environment.name': 'test',
    });
  }, 60_000);
});
