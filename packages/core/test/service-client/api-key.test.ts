import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyAuth } from '../../src/service-client/api-key-auth.js';
import {
  type ApiKeySource,
  CachedApiKeySource,
  staticApiKey,
} from '../../src/service-client/api-key-source.js';
import { createServiceClient } from '../../src/service-client/service-client.js';
import { type RunningService, startTestService } from '../support/service-under-test.js';

/** A stand-in for the secret store: what a key source would read right now. */
class RotatingSecret {
  current = 'key-v1-0123456789abcdef';
  reads = 0;
  source(options: { ttlMs?: number; now?: () => number } = {}): CachedApiKeySource {
    return new CachedApiKeySource(async () => {
      this.reads++;
      return this.current;
    }, options);
  }
}

describe('CachedApiKeySource', () => {
  it('caches for the TTL (default 5 minutes) and loads again after it', async () => {
    const secret = new RotatingSecret();
    let now = 0;
    const source = secret.source({ now: () => now });
    expect(await source.getApiKey()).toBe('key-v1-0123456789abcdef');
    secret.current = 'key-v2';
    now = 5 * 60_000 - 1;
    expect(await source.getApiKey()).toBe('key-v1-0123456789abcdef');
    now = 5 * 60_000;
    expect(await source.getApiKey()).toBe('key-v2');
    expect(secret.reads).toBe(2);
  });

  it('shares one load between concurrent callers and does not cache failures', async () => {
    let loads = 0;
    let fail = true;
    const source = new CachedApiKeySource(async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (fail) throw new Error('AccessDenied');
      return 'k';
    });
    await expect(Promise.all([source.getApiKey(), source.getApiKey()])).rejects.toThrow('AccessDenied');
    expect(loads).toBe(1);
    fail = false;
    expect(await Promise.all([source.getApiKey(), source.getApiKey()])).toEqual(['k', 'k']);
    expect(loads).toBe(2);
  });

  it('rejects an empty key, and invalidate() forces a new load', async () => {
    await expect(new CachedApiKeySource(async () => '').getApiKey()).rejects.toThrow(/empty key/);
    expect(() => staticApiKey('')).toThrow(/must not be empty/);
    const secret = new RotatingSecret();
    const source = secret.source();
    await source.getApiKey();
    source.invalidate();
    await source.getApiKey();
    expect(secret.reads).toBe(2);
  });
});

describe('API keys between two services', () => {
  const secret = new RotatingSecret();
  let now = 1_000_000;
  let service: RunningService;
  let url: string;
  // The callee checks against its own cached copy of the secret.
  const calleeKey = secret.source({ now: () => now });

  beforeAll(async () => {
    service = await startTestService({
      env: { SERVICE_NAME: 'chat' },
      routes: async (app) => {
        await app.register(apiKeyAuth, { apiKey: calleeKey, now: () => now });
        app.get('/chat/messages', async () => ({ messages: [] }));
      },
    });
    url = service.url;
  });
  afterAll(async () => {
    await service?.close();
  });

  const call = (key: string | undefined, path = '/chat/messages') =>
    fetch(`${url}${path}`, { headers: key === undefined ? {} : { 'x-api-key': key } });

  it('answers 401 without a key and 403 with a wrong one, in the error model', async () => {
    const missing = await call(undefined);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({
      error: { code: 'missing_api_key', requestId: expect.any(String) },
    });
    const wrong = await call('not-the-key');
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect(JSON.stringify(await (await call('x'.repeat(5000))).json())).not.toContain('xxxx');
  });

  it('lets the right key and the probes through', async () => {
    expect((await call(secret.current)).status).toBe(200);
    expect((await call(undefined, '/health')).status).toBe(200);
  });

  it('a rotated key reaches caller and callee without a restart', async () => {
    const callerKey = secret.source({ now: () => now });
    const client = createServiceClient({ baseUrl: url, apiKey: callerKey });
    expect(await client.get('/chat/messages')).toEqual({ messages: [] });

    // Rotation: the secret changes; the callee's cache still holds v1 until its TTL.
    secret.current = 'key-v2-fedcba9876543210';
    expect(await client.get('/chat/messages')).toEqual({ messages: [] });

    // The callee reloads when a key it does not know arrives, so the caller's fresh key works,
    // and the caller, still on v1 and now refused, reloads once and repeats.
    now += 60_000;
    const freshCaller = createServiceClient({ baseUrl: url, apiKey: secret.source({ now: () => now }) });
    expect(await freshCaller.get('/chat/messages')).toEqual({ messages: [] });
    expect(await client.get('/chat/messages')).toEqual({ messages: [] });
    expect(await callerKey.getApiKey()).toBe('key-v2-fedcba9876543210');
  });

  it('reloads the callee key at most once per interval, so wrong keys cannot hammer the store', async () => {
    now += 60_000;
    const before = secret.reads;
    for (let i = 0; i < 5; i++) expect((await call(`wrong-${i}`)).status).toBe(403);
    expect(secret.reads - before).toBe(1);
  });

  it('refreshes only once: a caller whose key is wrong after reloading gets the 403', async () => {
    const wrongSource: ApiKeySource & { invalidations: number } = {
      invalidations: 0,
      getApiKey: async () => 'never-right',
      invalidate() {
        this.invalidations++;
      },
    };
    const client = createServiceClient({ baseUrl: url, apiKey: wrongSource });
    await expect(client.get('/chat/messages')).rejects.toMatchObject({ status: 403, attempts: 2 });
    expect(wrongSource.invalidations).toBe(1);
  });
});
