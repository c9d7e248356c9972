import { freePort } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createServiceClient } from '../../src/service-client/service-client.js';
import { type RunningService, startTestService } from '../support/service-under-test.js';
import { startFlakyPeer } from './flaky-peer.js';

/** What the peer's failures say; none of it may reach this service's caller. */
const PEER_DETAIL = 'pool exhausted on db-7.internal:5432';

describe('a failed service call surfacing through a route', () => {
  let peer: Awaited<ReturnType<typeof startFlakyPeer>>;
  let service: RunningService;

  beforeAll(async () => {
    peer = await startFlakyPeer();
    const options = { maxAttempts: 2, timeoutMs: 300, sleep: async () => {} };
    const pricing = createServiceClient({ baseUrl: `${peer.url}/prod`, ...options });
    const nowhere = createServiceClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, ...options });
    service = await startTestService({
      routes: (app) => {
        app.get('/quotes/:sku', async (request) =>
          pricing.get(`/internal/prices/${(request.params as { sku: string }).sku}`, {
            schema: z.object({ price: z.number() }),
          }),
        );
        app.get('/offline', async () => nowhere.get('/anything'));
      },
    });
  });
  afterAll(async () => {
    await service?.close();
    await peer?.close();
  });

  const call = async (path: string) => {
    const response = await fetch(`${service.url}${path}`, { headers: { 'x-request-id': 'req-upstream-1' } });
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text) as { error: Record<string, string> } };
  };

  it.each([
    ['the peer keeps failing', 502, 'upstream_unavailable', [{ status: 503, body: PEER_DETAIL }]],
    ['the peer is rate limiting', 502, 'upstream_unavailable', [{ status: 429, body: PEER_DETAIL }]],
    ['the peer does not answer in time', 504, 'upstream_timeout', [{ hang: true as const }]],
    ['the peer refuses the request', 502, 'upstream_rejected', [{ status: 404, body: PEER_DETAIL }]],
    [
      'the peer answers something unexpected',
      502,
      'upstream_invalid_response',
      [{ status: 200, body: `{"detail":"${PEER_DETAIL}"}` }],
    ],
  ])('%s: %i %s, naming nothing of the peer', async (_case, status, code, script) => {
    peer.play(script);
    const answer = await call('/quotes/sku-9');
    expect(answer.status).toBe(status);
    expect(answer.body.error).toMatchObject({ code, requestId: 'req-upstream-1' });
    expect(answer.text).not.toContain('db-7');
    expect(answer.text).not.toContain('/internal/prices');
    // The operator still learns what happened, from the log line of the failed request.
    const logged = service.logs.events('request_failed').at(-1) as { err?: { message?: string } };
    expect(logged.err?.message).toContain('GET /internal/prices/sku-9');
  });

  it('a peer that cannot be reached: 502 upstream_unavailable', async () => {
    const answer = await call('/offline');
    expect(answer.status).toBe(502);
    expect(answer.body.error).toMatchObject({
      code: 'upstream_unavailable',
      message: 'An upstream service is unavailable',
    });
  });
});
