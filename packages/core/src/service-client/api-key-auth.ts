import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { ServiceError } from '../errors.js';
import type { ApiKeySource } from './api-key-source.js';

export interface ApiKeyAuthOptions {
  /** The service's own key (the same secret its callers read). */
  apiKey: ApiKeySource;
  /** Paths answered without a key; default the probes /health, /ready and /stats. */
  exemptPaths?: readonly string[];
  /**
   * On a wrong key the source is reloaded, at most this often, in case the key was rotated since it
   * was cached. Bounded so that wrong keys cannot hammer Secrets Manager. Default 30 s.
   */
  minReloadIntervalMs?: number;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
}

const DEFAULT_EXEMPT = ['/health', '/ready', '/stats'];

/**
 * The inbound half of service-to-service calls: requests must carry the service's key in
 * `x-api-key`. No key is 401 `missing_api_key`; a wrong key is 403 `invalid_api_key`; both in the
 * error model. Keys are compared in constant time (as SHA-256 digests, so lengths leak nothing).
 *
 *   await app.register(apiKeyAuth, { apiKey: secretsManagerApiKeySource(...) });
 */
export const apiKeyAuth: FastifyPluginAsync<ApiKeyAuthOptions> = async (app: FastifyInstance, options) => {
  const exempt = new Set(options.exemptPaths ?? DEFAULT_EXEMPT);
  const minReloadIntervalMs = options.minReloadIntervalMs ?? 30_000;
  const now = options.now ?? Date.now;
  let lastReload = Number.NEGATIVE_INFINITY;

  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?', 1)[0] ?? request.url;
    if (exempt.has(path)) return;
    const given = request.headers['x-api-key'];
    if (typeof given !== 'string' || given.length === 0) {
      throw new ServiceError(
        401,
        'missing_api_key',
        'This endpoint needs an API key in the x-api-key header',
      );
    }
    if (keysEqual(given, await options.apiKey.getApiKey())) return;
    if (now() - lastReload >= minReloadIntervalMs) {
      lastReload = now();
      options.apiKey.invalidate();
      if (keysEqual(given, await options.apiKey.getApiKey())) return;
    }
    throw new ServiceError(403, 'invalid_api_key', 'The API key is not valid for this service');
  });
};

// Apply to the scope it is registered in (fastify-plugin's skip-override, without the dependency).
(apiKeyAuth as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

function keysEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
