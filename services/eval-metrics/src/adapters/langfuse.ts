import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LangfuseClient } from '@langfuse/client';
import type { ObservationV2, TraceWithDetails } from '@langfuse/core';
import type { TraceRecord } from '../domain/evaluate.js';
import type { ScoreToWrite } from '../domain/scores.js';

/** A window of trace time, [from, to). */
export interface TimeWindow {
  from: Date;
  to: Date;
}

export interface TracePage {
  traces: TraceRecord[];
  /** Where the next page of the same window starts; undefined after the last page. */
  next: string | undefined;
}

/** How the poller reads traces, whichever Langfuse API serves them. */
export interface TraceSource {
  readonly api: 'traces' | 'observations';
  readPage(window: TimeWindow, cursor: string | undefined, limit: number): Promise<TracePage>;
  /** GENERATION observations of a trace (when the spec reads a generation's output). */
  generationsOf(traceId: string): Promise<NonNullable<TraceRecord['generations']>>;
  /** Scores with source EVAL on a trace (judge mode). */
  evalScoresOf(traceId: string): Promise<NonNullable<TraceRecord['scores']>>;
  writeScore(score: ScoreToWrite): Promise<void>;
}

export interface LangfuseSourceOptions {
  baseUrl: string;
  publicKey: string;
  secretKey: string;
  api: 'traces' | 'observations';
  timeoutMs: number;
  /** Retries of one request on 408, 429 and 5xx; the client waits as Retry-After says. */
  maxRetries: number;
  /** Metadata keys the match keys read, fetched untruncated from the v2 observations API. */
  metadataKeys?: readonly string[];
  /** Score writes in flight at most (SCORE_WRITE_CONCURRENCY): the keep-alive connections kept open for them. */
  maxScoreConnections?: number;
}

/** The largest page each read API serves. */
export const PAGE_LIMITS = { traces: 100, observations: 1000 } as const;

/**
 * Why a Langfuse call failed, as a stable type for /stats and logs: `rate_limited`, `server_error`,
 * `timeout`, `network` are worth retrying later; `unauthorized`, `rejected` are not.
 */
export class LangfuseCallError extends Error {
  override readonly name = 'LangfuseCallError';
  constructor(
    readonly type: 'rate_limited' | 'server_error' | 'timeout' | 'network' | 'unauthorized' | 'rejected',
    readonly status: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get retriable(): boolean {
    return this.type !== 'unauthorized' && this.type !== 'rejected';
  }
}

/**
 * Langfuse's public API. Reads go through the official client's API client (@langfuse/client
 * `LangfuseClient.api`, generated from the API definition), which retries 408, 429 and 5xx itself,
 * waiting as `Retry-After` says. Score writes, one request per score and the service's hot path, go
 * through `scorePoster` with the same retry policy: the client's transport is the global `fetch`,
 * whose per-request objects outlive young-generation collections and made up most of the peak RSS.
 */
export function langfuseTraceSource(options: LangfuseSourceOptions): TraceSource {
  // The client loads on first use (the first poll): not on the path to ready.
  let loaded: Promise<Loaded> | undefined;
  let client: Loaded | undefined;
  const load = () =>
    (loaded ??= Promise.all([import('@langfuse/client'), import('@langfuse/core')]).then(
      ([{ LangfuseClient }, core]) => {
        client = {
          api: new LangfuseClient({
            baseUrl: options.baseUrl,
            publicKey: options.publicKey,
            secretKey: options.secretKey,
          }).api,
          errors: core,
        };
        return client;
      },
    ));
  const requestOptions = { timeoutInSeconds: options.timeoutMs / 1000, maxRetries: options.maxRetries };
  const postScore = scorePoster(options);
  const expandMetadata = options.metadataKeys?.length ? options.metadataKeys.join(',') : undefined;

  const call = async <T>(what: string, run: (api: LangfuseApi) => Promise<T>): Promise<T> => {
    const { api, errors } = client ?? (await load());
    try {
      return await run(api);
    } catch (error) {
      throw toCallError(what, error, errors);
    }
  };

  return {
    api: options.api,
    async readPage(window, cursor, limit) {
      if (options.api === 'traces') {
        const page = cursor === undefined ? 1 : Number(cursor);
        const response = await call('GET /api/public/traces', (api) =>
          api.trace.list(
            {
              page,
              limit,
              fromTimestamp: window.from.toISOString(),
              toTimestamp: window.to.toISOString(),
              orderBy: 'timestamp.asc',
              fields: 'core,io',
            },
            requestOptions,
          ),
        );
        return {
          traces: response.data.map(traceRecordOfTrace),
          next: page < response.meta.totalPages ? String(page + 1) : undefined,
        };
      }
      const response = await call('GET /api/public/v2/observations', (api) =>
        api.observations.getMany(
          {
            isRootObservation: true,
            fromStartTime: window.from.toISOString(),
            toStartTime: window.to.toISOString(),
            fields: 'core,basic,io,metadata',
            ...(expandMetadata ? { expandMetadata } : {}),
            limit,
            ...(cursor ? { cursor } : {}),
          },
          requestOptions,
        ),
      );
      return { traces: response.data.map(traceRecordOfRoot), next: response.meta.cursor || undefined };
    },

    async generationsOf(traceId) {
      const generations: NonNullable<TraceRecord['generations']>[number][] = [];
      let cursor: string | undefined;
      do {
        const response = await call('GET /api/public/v2/observations', (api) =>
          api.observations.getMany(
            { traceId, type: 'GENERATION', fields: 'core,io', limit: 100, ...(cursor ? { cursor } : {}) },
            requestOptions,
          ),
        );
        for (const observation of response.data)
          generations.push({ startTime: observation.startTime, output: observation.output });
        cursor = response.meta.cursor || undefined;
      } while (cursor);
      return generations;
    },

    async evalScoresOf(traceId) {
      const scores: NonNullable<TraceRecord['scores']>[number][] = [];
      for (let page = 1; ; page++) {
        const response = await call('GET /api/public/v2/scores', (api) =>
          api.scores.getMany({ traceId, source: 'EVAL', page, limit: 100, fields: 'score' }, requestOptions),
        );
        for (const score of response.data)
          scores.push({
            name: score.name,
            value: 'value' in score && typeof score.value === 'number' ? score.value : null,
            source: score.source,
          });
        if (page >= response.meta.totalPages) return scores;
      }
    },

    async writeScore(score) {
      await postScore({
        id: score.id,
        traceId: score.traceId,
        name: score.name,
        value: score.value,
        dataType: 'NUMERIC',
        metadata: score.metadata,
        ...(score.comment ? { comment: score.comment } : {}),
      });
    },
  };
}

function traceRecordOfTrace(trace: TraceWithDetails): TraceRecord {
  return {
    id: trace.id,
    name: trace.name,
    timestamp: trace.timestamp,
    metadata: trace.metadata,
    output: trace.output,
  };
}

/** In the v2 API a trace is its root observation, which carries the trace's output and metadata. */
function traceRecordOfRoot(observation: ObservationV2): TraceRecord {
  return {
    id: observation.traceId ?? observation.id,
    name: observation.name ?? null,
    timestamp: observation.startTime,
    metadata: observation.metadata,
    output: observation.output,
  };
}

type LangfuseApi = LangfuseClient['api'];
interface Loaded {
  api: LangfuseApi;
  /** The client's error classes, from @langfuse/core. */
  errors: Pick<typeof import('@langfuse/core'), 'LangfuseAPIError' | 'LangfuseAPITimeoutError'>;
}

function toCallError(
  what: string,
  error: unknown,
  { LangfuseAPIError, LangfuseAPITimeoutError }: Loaded['errors'],
): LangfuseCallError {
  if (error instanceof LangfuseCallError) return error;
  if (error instanceof LangfuseAPITimeoutError)
    return new LangfuseCallError('timeout', undefined, `${what}: timed out`, { cause: error });
  if (error instanceof LangfuseAPIError && error.statusCode !== undefined)
    return statusError(what, error.statusCode, error.body, error);
  return networkError(what, error);
}

function statusError(what: string, status: number, body: unknown, cause?: unknown): LangfuseCallError {
  const type =
    status === 429
      ? 'rate_limited'
      : status >= 500 || status === 408
        ? 'server_error'
        : status === 401 || status === 403
          ? 'unauthorized'
          : 'rejected';
  return new LangfuseCallError(type, status, `${what}: HTTP ${status}: ${messageOf(body)}`, { cause });
}

function networkError(what: string, error: unknown): LangfuseCallError {
  const message = error instanceof Error ? error.message : String(error);
  return new LangfuseCallError('network', undefined, `${what}: ${message}`, { cause: error });
}

const POST_SCORES = 'POST /api/public/scores';

/**
 * POST /api/public/scores over node:http(s) with a keep-alive agent holding at most one connection
 * per write in flight. Retries 408, 429 and 5xx as the official client does: up to `maxRetries`
 * times, after `Retry-After` (seconds or a date, at most 60 s) or else 1 s, 2 s, 4 s... with ±10 %
 * jitter. A timeout or a network error is not retried here: the poller's next poll writes the
 * trace's scores again under the same ids.
 */
function scorePoster(options: LangfuseSourceOptions): (body: Record<string, unknown>) => Promise<void> {
  const url = new URL(`${options.baseUrl.replace(/\/+$/, '')}/api/public/scores`);
  const secure = url.protocol === 'https:';
  const connections = options.maxScoreConnections ?? 16;
  const agentOptions = { keepAlive: true, maxSockets: connections, maxFreeSockets: connections };
  const agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  const send = secure ? httpsRequest : httpRequest;
  const authorization = `Basic ${Buffer.from(`${options.publicKey}:${options.secretKey}`).toString('base64')}`;

  const postOnce = (payload: string) =>
    new Promise<{ status: number; retryAfter: string | undefined; body: string }>((resolve, reject) => {
      const request = send(
        url,
        {
          method: 'POST',
          agent,
          timeout: options.timeoutMs,
          headers: {
            authorization,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            body += chunk;
          });
          response.on('end', () => {
            const retryAfter = response.headers['retry-after'];
            resolve({ status: response.statusCode ?? 0, retryAfter, body });
          });
          response.on('error', (error) => reject(networkError(POST_SCORES, error)));
        },
      );
      request.on('timeout', () => {
        request.destroy();
        reject(new LangfuseCallError('timeout', undefined, `${POST_SCORES}: timed out`));
      });
      request.on('error', (error) => reject(networkError(POST_SCORES, error)));
      request.end(payload);
    });

  return async (score) => {
    const payload = JSON.stringify(score);
    for (let attempt = 0; ; attempt++) {
      const { status, retryAfter, body } = await postOnce(payload);
      if (status >= 200 && status < 300) return;
      const retriable = status === 408 || status === 429 || status >= 500;
      if (!retriable || attempt >= options.maxRetries) throw statusError(POST_SCORES, status, parsed(body));
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs(retryAfter, attempt)));
    }
  };
}

const MAX_RETRY_DELAY_MS = 60_000;

function retryDelayMs(retryAfter: string | undefined, attempt: number): number {
  if (retryAfter) {
    const seconds = Number.parseInt(retryAfter, 10);
    if (seconds > 0) return Math.min(seconds * 1000, MAX_RETRY_DELAY_MS);
    const until = new Date(retryAfter).getTime() - Date.now();
    if (until > 0) return Math.min(until, MAX_RETRY_DELAY_MS);
  }
  return Math.min(1000 * 2 ** attempt, MAX_RETRY_DELAY_MS) * (1 + (Math.random() - 0.5) * 0.2);
}

function parsed(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

function messageOf(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body)
    return String((body as { message: unknown }).message);
  return typeof body === 'string' ? body.slice(0, 200) : 'no message';
}
