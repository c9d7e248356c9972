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
 * Langfuse's public API through the official client's API client (@langfuse/client `LangfuseClient.api`,
 * generated from the API definition). The client retries 408, 429 and 5xx itself, waiting as
 * `Retry-After` says; nothing else is retried here.
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
      await call('POST /api/public/scores', (api) =>
        api.scores.create(
          {
            id: score.id,
            traceId: score.traceId,
            name: score.name,
            value: score.value,
            dataType: 'NUMERIC',
            metadata: score.metadata,
            ...(score.comment ? { comment: score.comment } : {}),
          },
          requestOptions,
        ),
      );
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
  if (error instanceof LangfuseAPIError && error.statusCode !== undefined) {
    const status = error.statusCode;
    const type =
      status === 429
        ? 'rate_limited'
        : status >= 500 || status === 408
          ? 'server_error'
          : status === 401 || status === 403
            ? 'unauthorized'
            : 'rejected';
    return new LangfuseCallError(type, status, `${what}: HTTP ${status}: ${messageOf(error.body)}`, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new LangfuseCallError('network', undefined, `${what}: ${message}`, { cause: error });
}

function messageOf(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body)
    return String((body as { message: unknown }).message);
  return typeof body === 'string' ? body.slice(0, 200) : 'no message';
}
