import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withLogContext } from '../../src/logging/log-context.js';
import { staticApiKey } from '../../src/service-client/api-key-source.js';
import { ServiceCallError } from '../../src/service-client/service-call-error.js';
import { createServiceClient, retryAfterMs } from '../../src/service-client/service-client.js';
import { startFlakyPeer } from './flaky-peer.js';

const health = z.object({ status: z.literal('ok'), service: z.string() });

describe('service client against a flaky peer', () => {
  let peer: Awaited<ReturnType<typeof startFlakyPeer>>;
  let delays: number[];
  const clientOf = (overrides: Partial<Parameters<typeof createServiceClient>[0]> = {}) =>
    createServiceClient({
      baseUrl: `${peer.url}/prod/`,
      apiKey: staticApiKey('key-one-0123456789'),
      random: () => 0.5,
      sleep: async (ms) => void delays.push(ms),
      timeoutMs: 2_000,
      ...overrides,
    });

  beforeAll(async () => {
    peer = await startFlakyPeer();
  });
  beforeEach(() => {
    delays = [];
  });
  afterAll(async () => {
    await peer.close();
  });

  it('calls base URL + path with the API key and request id, and parses the answer with the schema', async () => {
    peer.play([{ status: 200, body: '{"status":"ok","service":"chat","extra":1}' }]);
    const body = await withLogContext({ request_id: 'req-123' }, () =>
      clientOf().get('/chat/health', { schema: health, query: { verbose: true, skip: undefined } }),
    );
    expect(body).toEqual({ status: 'ok', service: 'chat' });
    expect(peer.received[0]).toMatchObject({ method: 'GET', url: '/prod/chat/health?verbose=true' });
    expect(peer.received[0]?.headers).toMatchObject({
      'x-api-key': 'key-one-0123456789',
      'x-request-id': 'req-123',
      accept: 'application/json',
    });
  });

  it('sends JSON bodies', async () => {
    peer.play([{ status: 201, body: '{"id":"u1"}' }]);
    expect(await clientOf().post('/users', { name: 'Ada' })).toEqual({ id: 'u1' });
    expect(peer.received[0]).toMatchObject({ method: 'POST', body: '{"name":"Ada"}' });
    expect(peer.received[0]?.headers['content-type']).toBe('application/json');
  });

  it('retries an idempotent request on 503 and 502 with jittered exponential backoff', async () => {
    peer.play([{ status: 503 }, { status: 502 }, { status: 200, body: '{"status":"ok","service":"chat"}' }]);
    const body = await clientOf({ baseDelayMs: 100, random: () => 0.5 }).get('/chat/health', {
      schema: health,
    });
    expect(body.service).toBe('chat');
    expect(peer.received).toHaveLength(3);
    // Half (random 0.5) of 100 ms, then of 200 ms.
    expect(delays).toEqual([50, 100]);
  });

  it('keeps backoff within its ceiling for any jitter', async () => {
    peer.play([{ status: 504 }, { status: 504 }, { status: 504 }, { status: 200, body: '{}' }]);
    await clientOf({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 150, random: () => 0.999 }).get('/x');
    expect(delays).toEqual([100, 150, 150]);
  });

  it('honours Retry-After (seconds and HTTP date) on 429', async () => {
    peer.play([
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 200, body: '{}' },
    ]);
    await clientOf().get('/x');
    expect(delays).toEqual([2000]);
    expect(retryAfterMs('Wed, 25 Nov 2026 12:00:05 GMT', Date.parse('2026-11-25T12:00:00Z'))).toBe(5000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('gives up at once when Retry-After is longer than it will wait', async () => {
    peer.play([
      { status: 503, headers: { 'retry-after': '3600' }, body: '{"error":{"code":"maintenance"}}' },
    ]);
    const error = await clientOf()
      .get('/x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceCallError);
    expect(error).toMatchObject({ status: 503, attempts: 1, code: 'upstream_error' });
    expect(delays).toEqual([]);
  });

  it('does not retry a POST, but does when told it is idempotent', async () => {
    peer.play([
      { status: 503, body: '{"error":{"code":"busy"}}' },
      { status: 200, body: '{}' },
    ]);
    const error = (await clientOf()
      .post('/orders', { n: 1 })
      .catch((e: unknown) => e)) as ServiceCallError;
    expect(error).toMatchObject({ status: 503, attempts: 1, bodyExcerpt: '{"error":{"code":"busy"}}' });
    expect(error.message).toBe('POST /orders answered 503 after 1 attempt: {"error":{"code":"busy"}}');
    expect(peer.received).toHaveLength(1);

    peer.play([{ status: 503 }, { status: 200, body: '{"ok":true}' }]);
    expect(await clientOf().post('/orders', { n: 1 }, { idempotent: true })).toEqual({ ok: true });
    expect(peer.received).toHaveLength(2);
  });

  it('does not retry other errors, and reports status with a short, scrubbed body excerpt', async () => {
    const token = `Bearer ${'a'.repeat(40)}`;
    peer.play([
      {
        status: 404,
        body: `{"error":{"code":"not_found","message":"no user; saw ${token}"}}${' pad'.repeat(200)}`,
      },
    ]);
    const error = (await clientOf()
      .get('/users/7')
      .catch((e: unknown) => e)) as ServiceCallError;
    expect(error).toMatchObject({
      code: 'upstream_error',
      status: 404,
      attempts: 1,
      method: 'GET',
      path: '/users/7',
    });
    expect(error.bodyExcerpt).toContain('not_found');
    expect(error.bodyExcerpt).not.toContain('aaaaaaaa');
    expect(error.bodyExcerpt.length).toBeLessThanOrEqual(301);
    expect(peer.received).toHaveLength(1);
  });

  it('times out each attempt, retrying idempotent requests only', async () => {
    peer.play([{ hang: true }, { status: 200, body: '{"late":false}' }]);
    expect(await clientOf({ timeoutMs: 150 }).get('/slow')).toEqual({ late: false });
    expect(peer.received).toHaveLength(2);

    peer.play([{ hang: true }]);
    const error = await clientOf({ timeoutMs: 150 })
      .post('/slow', {})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'timeout', status: undefined, attempts: 1 });
    expect((error as Error).message).toBe('POST /slow got no answer within 150 ms after 1 attempt');
  });

  it('times out a peer that answers too slowly, after the last attempt', async () => {
    peer.play([{ status: 200, body: '{}', delayMs: 400 }]);
    const error = await clientOf({ timeoutMs: 100, maxAttempts: 2 })
      .get('/slow')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'timeout', attempts: 2 });
  });

  it('reports a refused connection as a network error after retrying', async () => {
    const closed = await startFlakyPeer();
    const url = closed.url;
    await closed.close();
    const error = await clientOf({ baseUrl: url })
      .get('/x')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'network_error', attempts: 3 });
    expect(delays).toHaveLength(2);
  });

  it('rejects answers that are not JSON or do not match the schema', async () => {
    peer.play([{ status: 200, body: '<html>gateway</html>' }]);
    await expect(clientOf().get('/chat/health', { schema: health })).rejects.toMatchObject({
      code: 'invalid_response',
      status: 200,
      bodyExcerpt: '<html>gateway</html>',
    });
    peer.play([{ status: 200, body: '{"status":"down","service":"chat"}' }]);
    await expect(clientOf().get('/chat/health', { schema: health })).rejects.toThrow(
      /unexpected body \(status: Invalid input: expected "ok"\)/,
    );
  });

  it('returns undefined for 204 and text for non-JSON answers without a schema', async () => {
    peer.play([{ status: 204 }]);
    expect(await clientOf().delete('/users/1')).toBeUndefined();
    peer.play([{ status: 200, body: 'plain', headers: { 'content-type': 'text/plain' } }]);
    expect(await clientOf().get('/text')).toBe('plain');
  });

  it('refuses a missing or non-http base URL and relative paths', async () => {
    expect(() => createServiceClient({ baseUrl: undefined })).toThrow(/API_GATEWAY_URL is not set/);
    expect(() => createServiceClient({ baseUrl: 'ftp://x' })).toThrow(/http\(s\)/);
    await expect(clientOf().get('chat/health')).rejects.toThrow(/start with '\/'/);
  });
});
