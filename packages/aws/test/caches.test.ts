import { describe, expect, it } from 'vitest';
import { RefreshingValue } from '../src/credentials/refreshing-value.js';
import { LruTtlCache } from '../src/sns/lru-ttl-cache.js';

describe('LruTtlCache', () => {
  it('evicts the least recently used entry beyond its size', () => {
    const cache = new LruTtlCache<string, number>({ maxEntries: 2, ttlMs: 1000 });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('drops entries older than the TTL', () => {
    let clock = 0;
    const cache = new LruTtlCache<string, number>({ maxEntries: 10, ttlMs: 1000, now: () => clock });
    cache.set('a', 1);
    clock = 999;
    expect(cache.get('a')).toBe(1);
    clock = 1000;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});

describe('RefreshingValue', () => {
  it('loads once for concurrent callers and again only inside the refresh window', async () => {
    let clock = 0;
    let loads = 0;
    const value = new RefreshingValue<number>({
      refreshBeforeMs: 100,
      now: () => clock,
      load: async () => {
        loads += 1;
        return { value: loads, expiresAt: clock + 1000 };
      },
    });
    expect(await Promise.all([value.get(), value.get(), value.get()])).toEqual([1, 1, 1]);
    clock = 899;
    expect(await value.get()).toBe(1);
    clock = 900;
    expect(await value.get()).toBe(2);
    expect(loads).toBe(2);
  });

  it('keeps no failed load and lets the next caller try again', async () => {
    let attempt = 0;
    const value = new RefreshingValue<string>({
      refreshBeforeMs: 0,
      load: async () => {
        attempt += 1;
        if (attempt === 1) throw new Error('first load fails');
        return { value: 'ok', expiresAt: undefined };
      },
    });
    await expect(value.get()).rejects.toThrow('first load fails');
    expect(value.peek()).toBeUndefined();
    expect(await value.get()).toBe('ok');
  });
});

describe('RefreshingValue inside the refresh window', () => {
  it('hands out the old value while a refresh fails, and nothing once it has expired', async () => {
    let clock = 0;
    let failing = false;
    const value = new RefreshingValue<string>({
      refreshBeforeMs: 100,
      now: () => clock,
      load: async () => {
        if (failing) throw new Error('issuer down');
        return { value: `v${clock}`, expiresAt: clock + 1000 };
      },
    });
    expect(await value.get()).toBe('v0');
    failing = true;
    clock = 950;
    expect(await value.get()).toBe('v0');
    clock = 1000;
    await expect(value.get()).rejects.toThrow('issuer down');
    failing = false;
    expect(await value.get()).toBe('v1000');
  });
});
