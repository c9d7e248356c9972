/**
 * Where a service's API key comes from. The service client asks for it on each call (cached) and
 * invalidates it when a peer answers 401/403, so a rotated key is picked up without a restart.
 * @stratus/core has no AWS SDK: the Secrets Manager source lives in @stratus/aws.
 */
export interface ApiKeySource {
  getApiKey(): Promise<string>;
  /** Forget the cached key; the next getApiKey() loads it again. */
  invalidate(): void;
}

export interface CachedApiKeySourceOptions {
  /** How long a loaded key is used before it is loaded again; default 5 minutes. */
  ttlMs?: number;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
}

export const DEFAULT_API_KEY_TTL_MS = 5 * 60_000;

/**
 * Caches what `load` returns for `ttlMs`. Concurrent callers share one load; a failed load is not
 * cached, so the next call tries again.
 */
export class CachedApiKeySource implements ApiKeySource {
  private cached: { key: string; expiresAt: number } | undefined;
  private loading: Promise<string> | undefined;
  private generation = 0;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly load: () => Promise<string>,
    options: CachedApiKeySourceOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_API_KEY_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  async getApiKey(): Promise<string> {
    if (this.cached && this.now() < this.cached.expiresAt) return this.cached.key;
    if (!this.loading) {
      const generation = this.generation;
      this.loading = this.load()
        .then((key) => {
          if (key.length === 0) throw new Error('the API key source returned an empty key');
          // A key loaded before an invalidate() may be the stale one: use it once, do not cache it.
          if (generation === this.generation) this.cached = { key, expiresAt: this.now() + this.ttlMs };
          return key;
        })
        .finally(() => {
          this.loading = undefined;
        });
    }
    return this.loading;
  }

  invalidate(): void {
    this.cached = undefined;
    this.loading = undefined;
    this.generation++;
  }
}

/** A fixed key, e.g. from a setting in local development. invalidate() does nothing. */
export function staticApiKey(key: string): ApiKeySource {
  if (key.length === 0) throw new Error('API key must not be empty');
  return { getApiKey: async () => key, invalidate: () => {} };
}
