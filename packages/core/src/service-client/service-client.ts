import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { currentLogContext } from '../logging/log-context.js';
import type { ApiKeySource } from './api-key-source.js';
import { ServiceCallError } from './service-call-error.js';

export type HttpMethod = 'GET' | 'HEAD' | 'OPTIONS' | 'DELETE' | 'PUT' | 'POST' | 'PATCH';

/** RFC 9110 idempotent methods: safe to send again when the first answer is lost or refused. */
const IDEMPOTENT_METHODS = new Set<HttpMethod>(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT']);
/** Statuses that say "not processed, try again later". */
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

export interface ServiceClientOptions {
  /** API_GATEWAY_URL: paths are appended to it, so a stage path (`/prod`) is kept. */
  baseUrl: string | undefined;
  /** Sent as `x-api-key`; refreshed once when a call is answered 401 or 403. */
  apiKey?: ApiKeySource;
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  /** Including the first; default 3. */
  maxAttempts?: number;
  /** Backoff before attempt n is uniform in [0, min(maxDelayMs, baseDelayMs * 2^(n-2))]; default 100 ms. */
  baseDelayMs?: number;
  /** Default 5 s. */
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the error is returned instead. Default 30 s. */
  maxRetryAfterMs?: number;
  /** Retries are logged at warn. */
  logger?: Logger;
  /** For tests: uniform in [0, 1); default Math.random. */
  random?: () => number;
  /** For tests: waits `ms`; default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

export interface CallOptions<T> {
  /** The JSON answer is parsed with it; a mismatch is an `invalid_response` error. */
  schema?: z.ZodType<T>;
  /** Sent as JSON. */
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Override the method's idempotency, e.g. for a POST that carries an idempotency key. */
  idempotent?: boolean;
  signal?: AbortSignal;
}

export interface ServiceClient {
  readonly baseUrl: string;
  request<T = unknown>(method: HttpMethod, path: string, options?: CallOptions<T>): Promise<T>;
  get<T = unknown>(path: string, options?: CallOptions<T>): Promise<T>;
  delete<T = unknown>(path: string, options?: CallOptions<T>): Promise<T>;
  put<T = unknown>(path: string, body: unknown, options?: CallOptions<T>): Promise<T>;
  post<T = unknown>(path: string, body: unknown, options?: CallOptions<T>): Promise<T>;
  patch<T = unknown>(path: string, body: unknown, options?: CallOptions<T>): Promise<T>;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * The service-to-service client: `client.get('/chat/health')` against API_GATEWAY_URL with the
 * service's API key, a timeout per attempt, and retries with jittered exponential backoff for
 * idempotent requests answered 429/502/503/504 (or not answered), honouring Retry-After. The
 * current request id goes along as `x-request-id`; with tracing on, the fetch instrumentation adds
 * `traceparent` and `X-Amzn-Trace-Id` and a client span. Failures are ServiceCallError.
 */
export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  if (!options.baseUrl) throw new Error('API_GATEWAY_URL is not set: the service client needs a base URL');
  const base = new URL(options.baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new Error(`API_GATEWAY_URL must be an http(s) URL, got ${base.protocol}`);
  const baseUrl = base.href.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const baseDelayMs = options.baseDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => sleepFor(ms));

  async function request<T>(method: HttpMethod, path: string, call: CallOptions<T> = {}): Promise<T> {
    if (!path.startsWith('/')) throw new Error(`service client paths start with '/', got ${path}`);
    const url = urlOf(baseUrl, path, call.query);
    const idempotent = call.idempotent ?? IDEMPOTENT_METHODS.has(method);
    let keyRefreshed = false;
    let attempt = 0;
    let retries = 0;

    for (;;) {
      attempt++;
      let answer: Answer;
      try {
        answer = await send(method, url, call);
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError';
        if (call.signal?.aborted) throw error;
        if (idempotent && retries + 1 < maxAttempts) {
          retries++;
          await backoff(retries, undefined, method, path, timedOut ? 'timeout' : 'network_error');
          continue;
        }
        throw new ServiceCallError({
          code: timedOut ? 'timeout' : 'network_error',
          method,
          path,
          attempts: attempt,
          detail: timedOut ? `got no answer within ${call.timeoutMs ?? timeoutMs} ms` : 'could not connect',
          cause: error,
        });
      }

      // A rotated key: load it again and repeat once. The peer refused before doing anything.
      if ((answer.status === 401 || answer.status === 403) && options.apiKey && !keyRefreshed) {
        keyRefreshed = true;
        options.apiKey.invalidate();
        continue;
      }
      if (RETRYABLE_STATUSES.has(answer.status) && idempotent && retries + 1 < maxAttempts) {
        const retryAfter = retryAfterMs(answer.headers.get('retry-after'));
        if (retryAfter === undefined || retryAfter <= maxRetryAfterMs) {
          retries++;
          await backoff(retries, retryAfter, method, path, `status_${answer.status}`);
          continue;
        }
      }
      if (answer.status >= 400) {
        throw new ServiceCallError({
          code: 'upstream_error',
          status: answer.status,
          method,
          path,
          body: answer.text,
          attempts: attempt,
          detail: `answered ${answer.status}`,
        });
      }
      return parseAnswer(answer, method, path, attempt, call.schema);
    }
  }

  async function send(method: HttpMethod, url: string, call: CallOptions<unknown>): Promise<Answer> {
    const headers = new Headers(call.headers);
    headers.set('accept', 'application/json');
    const requestId = currentLogContext()?.request_id;
    if (requestId !== undefined && !headers.has('x-request-id'))
      headers.set('x-request-id', String(requestId));
    if (options.apiKey) headers.set('x-api-key', await options.apiKey.getApiKey());
    let body: string | undefined;
    if (call.body !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(call.body);
    }
    const timeout = AbortSignal.timeout(call.timeoutMs ?? timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
    const response = await fetch(url, { method, headers, body, signal });
    // Reading the body is part of the attempt: a peer that stalls mid-body times out too.
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  }

  async function backoff(
    retry: number,
    retryAfter: number | undefined,
    method: string,
    path: string,
    reason: string,
  ): Promise<void> {
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
    const delayMs = retryAfter ?? Math.round(random() * ceiling);
    options.logger?.warn(
      { event: 'service_call_retry', method, path, reason, retry, delay_ms: delayMs },
      `retrying ${method} ${path} in ${delayMs} ms (${reason})`,
    );
    await sleep(delayMs);
  }

  return {
    baseUrl,
    request,
    get: (path, call) => request('GET', path, call),
    delete: (path, call) => request('DELETE', path, call),
    put: (path, body, call) => request('PUT', path, { ...call, body }),
    post: (path, body, call) => request('POST', path, { ...call, body }),
    patch: (path, body, call) => request('PATCH', path, { ...call, body }),
  };
}

function urlOf(baseUrl: string, path: string, query: CallOptions<unknown>['query']): string {
  const url = new URL(baseUrl + path);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url.href;
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function parseAnswer<T>(
  answer: Answer,
  method: string,
  path: string,
  attempts: number,
  schema: z.ZodType<T> | undefined,
): T {
  if (answer.status === 204 || answer.text.length === 0) {
    if (!schema) return undefined as T;
  }
  const isJson = (answer.headers.get('content-type') ?? '').includes('json');
  if (!isJson && !schema) return answer.text as T;
  const invalidResponse = (detail: string, cause?: unknown) =>
    new ServiceCallError({
      code: 'invalid_response',
      status: answer.status,
      method,
      path,
      body: answer.text,
      attempts,
      detail,
      cause,
    });
  let json: unknown;
  try {
    json = answer.text.length === 0 ? undefined : JSON.parse(answer.text);
  } catch (error) {
    throw invalidResponse('answered with a body that is not JSON', error);
  }
  if (!schema) return json as T;
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
      .join('; ');
    throw invalidResponse(`answered with an unexpected body (${issues})`);
  }
  return parsed.data;
}
