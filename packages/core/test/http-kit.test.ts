import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { errorBody, healthBody, readyBody, ServiceError, statsBody } from '../src/index.js';
import { type RunningService, startTestService } from './support/service-under-test.js';

/** A random prefix per process, then a counter. */
const GENERATED_REQUEST_ID = /^[A-Za-z0-9_-]{12}-[0-9a-z]+$/;
const bearer = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJl';

describe('HTTP kit', () => {
  let running: RunningService;
  let ordersCreated: { inc(by?: number): void };

  beforeAll(async () => {
    running = await startTestService({
      env: { BODY_LIMIT_BYTES: '1024' },
      readinessChecks: [{ name: 'database', check: () => true }],
      routes: (app) => {
        ordersCreated = running?.service.stats.counter('orders_created') ?? { inc() {} };
        app.post(
          '/orders',
          { schema: { body: z.object({ sku: z.string().min(1), quantity: z.number().int().positive() }) } },
          async (request, reply) => {
            await new Promise((resolve) => setTimeout(resolve, 1));
            app.log.info(
              { event: 'order_accepted', sku: request.body.sku, headers: request.headers },
              'order accepted',
            );
            return reply.status(201).send({ sku: request.body.sku, quantity: request.body.quantity });
          },
        );
        app.get('/orders/:id', async (request) => {
          const { id } = request.params as { id: string };
          throw new ServiceError(409, 'order_locked', `Order ${id} is being changed`);
        });
        app.get('/crash', async () => {
          throw new Error('connection to db-prod.internal:5432 failed for user admin');
        });
        app.get('/throttled', async () => {
          throw new ServiceError(429, 'throttled', 'Slow down', { retryAfterSeconds: 7 });
        });
      },
    });
    ordersCreated = running.service.stats.counter('orders_created');
    running.service.stats.gauge('queue_depth', () => 3);
  });
  afterAll(() => running.close());

  const call = (path: string, init?: RequestInit) => fetch(`${running.url}${path}`, init);
  const postJson = (path: string, body: string, headers: Record<string, string> = {}) =>
    call(path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  describe('request ids and request logging', () => {
    it('generates a request id, echoes it, and logs request_started and request_completed', async () => {
      const response = await postJson('/orders', JSON.stringify({ sku: 'A-1', quantity: 2 }));
      expect(response.status).toBe(201);
      const requestId = response.headers.get('x-request-id');
      expect(requestId).toMatch(GENERATED_REQUEST_ID);
      const started = running.logs.events('request_started').find((line) => line.request_id === requestId);
      const completed = running.logs
        .events('request_completed')
        .find((line) => line.request_id === requestId);
      expect(started).toMatchObject({
        method: 'POST',
        route: '/orders',
        path: '/orders',
        client_ip: '127.0.0.1',
      });
      expect(completed).toMatchObject({ method: 'POST', route: '/orders', path: '/orders', status: 201 });
      expect(completed?.duration_ms).toBeTypeOf('number');
    });

    it('takes a valid x-request-id from the caller and replaces an invalid one', async () => {
      const kept = await call('/health', { headers: { 'x-request-id': 'caller-req.42' } });
      expect(kept.headers.get('x-request-id')).toBe('caller-req.42');
      const replaced = await call('/health', { headers: { 'x-request-id': 'bad id with spaces {}' } });
      expect(replaced.headers.get('x-request-id')).not.toBe('bad id with spaces {}');
      expect(replaced.headers.get('x-request-id')).toMatch(GENERATED_REQUEST_ID);
      const another = await call('/health');
      expect(another.headers.get('x-request-id')).toMatch(GENERATED_REQUEST_ID);
      expect(another.headers.get('x-request-id')).not.toBe(replaced.headers.get('x-request-id'));
    });

    it('keeps a token-shaped x-request-id out of the log lines', async () => {
      const response = await call('/health', { headers: { 'x-request-id': bearer } });
      expect(response.headers.get('x-request-id')).toBe(bearer);
      expect(running.logs.text).not.toContain(bearer);
    });

    it('puts the request id on lines written by the app logger inside the handler, after body parsing', async () => {
      const response = await postJson('/orders', JSON.stringify({ sku: 'B-2', quantity: 1 }), {
        'x-request-id': 'ctx-check-1',
      });
      expect(response.status).toBe(201);
      const accepted = running.logs.events('order_accepted').find((line) => line.sku === 'B-2');
      expect(accepted?.request_id).toBe('ctx-check-1');
    });

    it('keeps the query string (which may carry tokens) out of the logged path', async () => {
      await call('/health?access_token=abc123secret');
      expect(running.logs.text).not.toContain('abc123secret');
    });

    it('never writes a token sent in a header or the body to the log', async () => {
      const response = await postJson('/orders', JSON.stringify({ sku: 'C-3', quantity: 1, token: bearer }), {
        authorization: `Bearer ${bearer}`,
        cookie: 'session=cookie-secret-value',
        'x-api-key': 'api-key-secret-value',
      });
      expect(response.status).toBe(201);
      expect(running.logs.events('order_accepted').some((line) => line.sku === 'C-3')).toBe(true);
      for (const secretValue of [bearer, 'cookie-secret-value', 'api-key-secret-value']) {
        expect(running.logs.text).not.toContain(secretValue);
      }
    });
  });

  describe('error model', () => {
    async function expectError(response: Response, status: number, code: string) {
      expect(response.status).toBe(status);
      const body = errorBody.parse(await response.json());
      expect(body.error.code).toBe(code);
      expect(body.error.requestId).toBe(response.headers.get('x-request-id'));
      return body.error;
    }

    it('answers a thrown ServiceError with its status and code', async () => {
      const error = await expectError(await call('/orders/o-9'), 409, 'order_locked');
      expect(error.message).toBe('Order o-9 is being changed');
    });

    it('sends Retry-After for a throttled error', async () => {
      const response = await call('/throttled');
      await expectError(response, 429, 'throttled');
      expect(response.headers.get('retry-after')).toBe('7');
    });

    it('answers 404 for an unknown route', async () => {
      const error = await expectError(await call('/nowhere'), 404, 'not_found');
      expect(error.message).toBe('No route for GET /nowhere');
    });

    it('answers 400 naming each invalid field', async () => {
      const error = await expectError(
        await postJson('/orders', JSON.stringify({ sku: '', quantity: 1.5 })),
        400,
        'validation_failed',
      );
      expect(error.message).toContain('body.sku');
      expect(error.message).toContain('body.quantity');
    });

    it('answers 400 for a body that is not JSON', async () => {
      await expectError(await postJson('/orders', '{"sku": '), 400, 'malformed_body');
    });

    it('answers 413 for a body over BODY_LIMIT_BYTES', async () => {
      const big = JSON.stringify({ sku: 'x'.repeat(2048), quantity: 1 });
      await expectError(await postJson('/orders', big), 413, 'payload_too_large');
    });

    it('answers 415 for a media type the route does not take', async () => {
      const response = await call('/orders', {
        method: 'POST',
        body: '<order/>',
        headers: { 'content-type': 'application/xml' },
      });
      await expectError(response, 415, 'unsupported_media_type');
    });

    it('answers 500 without internals and logs the error', async () => {
      const response = await call('/crash');
      const error = await expectError(response, 500, 'internal_error');
      expect(error.message).toBe('Internal server error');
      expect(JSON.stringify(error)).not.toContain('db-prod');
      const failed = running.logs
        .events('request_failed')
        .find((line) => line.request_id === error.requestId);
      expect(failed?.level).toBe('error');
      expect(JSON.stringify(failed?.err)).toContain('db-prod.internal');
    });
  });

  describe('health, readiness and stats', () => {
    it('answers /health on GET and HEAD', async () => {
      const response = await call('/health');
      expect(response.status).toBe(200);
      expect(healthBody.parse(await response.json())).toEqual({ status: 'ok', service: 'test-service' });
      const head = await call('/health', { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
    });

    it('answers /ready with each check', async () => {
      const response = await call('/ready');
      expect(response.status).toBe(200);
      const body = readyBody.parse(await response.json());
      expect(body).toMatchObject({
        status: 'ready',
        failing: [],
        checks: [{ name: 'database', status: 'pass' }],
      });
    });

    it('reports requests by status class, in-flight, and the service’s counters and gauges in /stats', async () => {
      ordersCreated.inc(2);
      const before = statsBody.parse(await (await call('/stats')).json());
      await call('/nowhere');
      await call('/crash');
      const after = statsBody.parse(await (await call('/stats')).json());
      expect(after.requests.by_status_class['4xx']).toBe((before.requests.by_status_class['4xx'] ?? 0) + 1);
      expect(after.requests.by_status_class['5xx']).toBe((before.requests.by_status_class['5xx'] ?? 0) + 1);
      expect(after.requests.in_flight).toBe(1);
      expect(after.counters.orders_created).toBe(2);
      expect(after.gauges.queue_depth).toBe(3);
      expect(after.memory.rss_bytes).toBeGreaterThan(0);
      expect(after.uptime_s).toBeGreaterThan(0);
    });
  });
});

describe('readiness failures', () => {
  it('answers 503 naming failing, throwing and timed-out checks', async () => {
    const running = await startTestService({
      env: { READY_CHECK_TIMEOUT_MS: '50' },
      readinessChecks: [
        { name: 'database', check: () => true },
        { name: 'ground-truth', check: () => false },
        { name: 'opensearch', check: async () => Promise.reject(new Error('connect ECONNREFUSED')) },
        { name: 'queue', check: () => new Promise(() => {}) },
      ],
    });
    try {
      const response = await fetch(`${running.url}/ready`);
      expect(response.status).toBe(503);
      const body = readyBody.parse(await response.json());
      expect(body.failing.sort()).toEqual(['ground-truth', 'opensearch', 'queue']);
      expect(body.checks.find((check) => check.name === 'queue')?.reason).toBe('timed out after 50 ms');
      expect(body.checks.find((check) => check.name === 'opensearch')?.reason).toBe('connect ECONNREFUSED');
    } finally {
      await running.close();
    }
  });
});

describe('load shedding', () => {
  async function waitForStatus(url: string, status: number): Promise<Response> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const response = await fetch(url);
      if (response.status === status) return response;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${url} never answered ${status}`);
  }

  it('answers /health and service routes 503 with Retry-After when the heap is over its limit, /stats still 200', async () => {
    const running = await startTestService({
      env: { HEALTH_MAX_HEAP_USED_BYTES: '1', HEALTH_RETRY_AFTER_SECONDS: '4' },
      routes: (app) => {
        app.get('/work', async () => ({ done: true }));
      },
    });
    try {
      const health = await waitForStatus(`${running.url}/health`, 503);
      expect(health.headers.get('retry-after')).toBe('4');
      expect(errorBody.parse(await health.json()).error.code).toBe('service_unavailable');
      expect((await fetch(`${running.url}/work`)).status).toBe(503);
      expect((await fetch(`${running.url}/stats`)).status).toBe(200);
    } finally {
      await running.close();
    }
  });

  it('answers /health 503 while the event loop is held beyond its limit', async () => {
    const running = await startTestService({ env: { HEALTH_MAX_EVENT_LOOP_DELAY_MS: '100' } });
    try {
      expect((await fetch(`${running.url}/health`)).status).toBe(200);
      // Hold the loop in 250 ms slices for longer than one 1 s sample, as sustained CPU-bound work would:
      // the kit sheds on the mean delay of a sample, not on one slow tick.
      const sustainedUntil = Date.now() + 1_300;
      while (Date.now() < sustainedUntil) {
        const sliceEnd = Date.now() + 250;
        while (Date.now() < sliceEnd) {
          // busy
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      const health = await fetch(`${running.url}/health`);
      expect(health.status).toBe(503);
      expect(errorBody.parse(await health.json()).error.message).toMatch(/eventLoopDelay/);
    } finally {
      await running.close();
    }
  });
});
