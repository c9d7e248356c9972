import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An observation as the peer keeps it (the fields of Langfuse's ObservationV2 that the peer serves). */
export interface LangfusePeerObservation {
  id: string;
  traceId: string;
  type: 'SPAN' | 'GENERATION' | 'EVENT';
  name?: string;
  startTime: string;
  parentObservationId?: string | null;
  input?: unknown;
  output?: unknown;
  metadata?: unknown;
}

/** A trace to serve. The peer also keeps its root observation (as Langfuse v4 does), which carries the trace's output and metadata. */
export interface LangfusePeerTrace {
  id: string;
  timestamp: string;
  name?: string | null;
  input?: unknown;
  output?: unknown;
  metadata?: unknown;
  /** Further observations (e.g. GENERATIONs); their traceId is set to the trace's. */
  observations?: Array<Omit<LangfusePeerObservation, 'traceId'>>;
}

/** A score as POST /api/public/scores stored it. */
export interface LangfusePeerScore {
  id: string;
  traceId?: string;
  observationId?: string;
  name: string;
  value: number | string;
  dataType?: string;
  comment?: string;
  metadata?: unknown;
  source: string;
  environment?: string;
  /** How many POSTs wrote this id: 1 is a create, more are upserts. */
  writes: number;
  createdAt: string;
  updatedAt: string;
}

export interface LangfusePeerOptions {
  publicKey?: string;
  secretKey?: string;
}

interface InjectedFault {
  status: number;
  retryAfter?: string;
  /** Only requests whose path starts with this. */
  pathPrefix: string;
  remaining: number;
}

const TRACES_MAX_LIMIT = 100;
const OBSERVATIONS_MAX_LIMIT = 1000;
const SCORE_SOURCES = new Set(['API', 'ANNOTATION', 'EVAL']);

/**
 * A loopback Langfuse on 127.0.0.1:0 implementing, from the public API reference, the endpoints the
 * evaluation service uses, with HTTP basic auth (public key : secret key) on every request:
 * - `GET /api/public/traces`: page-based pagination (`page` from 1, `limit` up to 100), `fromTimestamp`
 *   (inclusive), `toTimestamp` (exclusive), `orderBy` (`timestamp.asc|desc`), `meta.totalItems/totalPages`.
 * - `GET /api/public/v2/observations`: cursor pagination (`limit` up to 1000, `meta.cursor` absent on the
 *   last page), filters `fromStartTime`, `toStartTime`, `traceId`, `type`, `isRootObservation`, and the
 *   `fields` groups (`io`, `metadata` are only returned when asked for).
 * - `POST /api/public/scores`: creates a score, or replaces the one with the same `id` (upsert).
 * - `GET /api/public/v2/scores`: scores filtered by `traceId`, `name`, `source`.
 * Faults for tests: `injectFaults(n, { status: 429, retryAfter: '1' })` answers the next n requests
 * with that status (and `Retry-After`).
 */
export class LangfusePeer {
  readonly publicKey: string;
  readonly secretKey: string;
  readonly scores = new Map<string, LangfusePeerScore>();
  /** Requests answered, by `METHOD path` (without query), and faults sent. */
  readonly counts = { requests: new Map<string, number>(), unauthorized: 0, faults: 0, scorePosts: 0 };

  private traces: LangfusePeerTrace[] = [];
  private observations: LangfusePeerObservation[] = [];
  private sorted = true;
  private readonly faults: InjectedFault[] = [];
  private readonly server: Server;
  private listeningUrl: string | undefined;

  constructor(options: LangfusePeerOptions = {}) {
    this.publicKey = options.publicKey ?? `pk-lf-${randomUUID()}`;
    this.secretKey = options.secretKey ?? `sk-lf-${randomUUID()}`;
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        send(res, 500, { message: error instanceof Error ? error.message : String(error) });
      });
    });
    this.server.keepAliveTimeout = 30_000;
  }

  static async start(options: LangfusePeerOptions = {}): Promise<LangfusePeer> {
    const peer = new LangfusePeer(options);
    await new Promise<void>((resolve) => peer.server.listen(0, '127.0.0.1', resolve));
    const { port } = peer.server.address() as AddressInfo;
    peer.listeningUrl = `http://127.0.0.1:${port}`;
    return peer;
  }

  get url(): string {
    if (!this.listeningUrl) throw new Error('LangfusePeer is not listening; use LangfusePeer.start()');
    return this.listeningUrl;
  }

  addTraces(...traces: LangfusePeerTrace[]): void {
    for (const trace of traces) {
      this.traces.push(trace);
      this.observations.push({
        id: `${trace.id}-root`,
        traceId: trace.id,
        type: 'SPAN',
        name: trace.name ?? 'trace',
        startTime: trace.timestamp,
        parentObservationId: null,
        input: trace.input,
        output: trace.output,
        metadata: trace.metadata,
      });
      for (const observation of trace.observations ?? []) {
        this.observations.push({
          parentObservationId: `${trace.id}-root`,
          ...observation,
          traceId: trace.id,
        });
      }
    }
    this.sorted = false;
  }

  /** Adds a score as an LLM-as-a-judge evaluator would (source EVAL, which the public POST refuses). */
  addEvalScore(score: { traceId: string; name: string; value: number }): void {
    const now = new Date().toISOString();
    const id = randomUUID();
    this.scores.set(id, {
      id,
      ...score,
      source: 'EVAL',
      dataType: 'NUMERIC',
      writes: 1,
      createdAt: now,
      updatedAt: now,
    });
  }

  /** The next `count` requests (whose path starts with `pathPrefix`, default any) get `status`. */
  injectFaults(count: number, fault: { status: number; retryAfter?: string; pathPrefix?: string }): void {
    this.faults.push({ ...fault, pathPrefix: fault.pathPrefix ?? '/', remaining: count });
  }

  requestCount(methodAndPath: string): number {
    return this.counts.requests.get(methodAndPath) ?? 0;
  }

  scoresOfTrace(traceId: string): LangfusePeerScore[] {
    return [...this.scores.values()].filter((score) => score.traceId === traceId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://peer');
    const route = `${req.method} ${url.pathname}`;
    if (!this.authorised(req.headers.authorization)) {
      this.counts.unauthorized++;
      await drain(req);
      res.setHeader('www-authenticate', 'Basic realm="Langfuse"');
      return send(res, 401, {
        message: "Invalid credentials. Confirm that you've configured the correct host.",
        error: 'UnauthorizedError',
      });
    }
    const fault = this.faults.find(
      (candidate) => candidate.remaining > 0 && url.pathname.startsWith(candidate.pathPrefix),
    );
    if (fault) {
      fault.remaining--;
      this.counts.faults++;
      await drain(req);
      if (fault.retryAfter !== undefined) res.setHeader('retry-after', fault.retryAfter);
      return send(res, fault.status, {
        message: fault.status === 429 ? 'Rate limit exceeded' : 'Injected fault',
      });
    }
    this.counts.requests.set(route, (this.counts.requests.get(route) ?? 0) + 1);
    const query = url.searchParams;
    switch (route) {
      case 'GET /api/public/traces':
        return this.listTraces(query, res);
      case 'GET /api/public/v2/observations':
        return this.listObservations(query, res);
      case 'POST /api/public/scores':
        return this.createScore(await readJson(req), res);
      case 'GET /api/public/v2/scores':
        return this.listScores(query, res);
      default:
        await drain(req);
        return send(res, 404, { message: `No route ${route}`, error: 'NotFoundError' });
    }
  }

  private authorised(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
    return decoded === `${this.publicKey}:${this.secretKey}`;
  }

  private sortOnce(): void {
    if (this.sorted) return;
    const byTime =
      <T extends { id: string }>(time: (item: T) => string) =>
      (a: T, b: T) =>
        time(a).localeCompare(time(b)) || a.id.localeCompare(b.id);
    this.traces.sort(byTime((trace) => trace.timestamp));
    this.observations.sort(byTime((observation) => observation.startTime));
    this.sorted = true;
  }

  private listTraces(query: URLSearchParams, res: ServerResponse) {
    this.sortOnce();
    const page = positiveInteger(query.get('page'), 1);
    const limit = positiveInteger(query.get('limit'), 50);
    if (page === undefined || limit === undefined || limit > TRACES_MAX_LIMIT)
      return send(res, 400, { message: `page must be >= 1 and limit within 1..${TRACES_MAX_LIMIT}` });
    const from = timestamp(query.get('fromTimestamp'));
    const to = timestamp(query.get('toTimestamp'));
    if (from === null || to === null)
      return send(res, 400, { message: 'fromTimestamp/toTimestamp must be ISO 8601' });
    const orderBy = query.get('orderBy') ?? 'timestamp.desc';
    if (orderBy !== 'timestamp.asc' && orderBy !== 'timestamp.desc')
      return send(res, 400, { message: 'orderBy must be timestamp.asc or timestamp.desc here' });
    let matching = this.traces.filter((trace) => within(trace.timestamp, from, to));
    if (orderBy === 'timestamp.desc') matching = matching.reverse();
    const fields = query.get('fields');
    const withIo = fields === null || fields.split(',').includes('io');
    const data = matching.slice((page - 1) * limit, page * limit).map((trace) => ({
      id: trace.id,
      timestamp: trace.timestamp,
      name: trace.name ?? null,
      input: withIo ? (trace.input ?? null) : undefined,
      output: withIo ? (trace.output ?? null) : undefined,
      metadata: withIo ? (trace.metadata ?? null) : undefined,
      sessionId: null,
      release: null,
      version: null,
      userId: null,
      tags: [],
      public: false,
      environment: 'default',
      htmlPath: `/project/peer/traces/${trace.id}`,
      observations: [],
      scores: [],
    }));
    send(res, 200, {
      data,
      meta: { page, limit, totalItems: matching.length, totalPages: Math.ceil(matching.length / limit) },
    });
  }

  private listObservations(query: URLSearchParams, res: ServerResponse) {
    this.sortOnce();
    const limit = positiveInteger(query.get('limit'), 50);
    if (limit === undefined || limit > OBSERVATIONS_MAX_LIMIT)
      return send(res, 400, { message: `limit must be within 1..${OBSERVATIONS_MAX_LIMIT}` });
    const from = timestamp(query.get('fromStartTime'));
    const to = timestamp(query.get('toStartTime'));
    if (from === null || to === null)
      return send(res, 400, { message: 'fromStartTime/toStartTime must be ISO 8601' });
    if (query.get('parseIoAsJson') === 'true')
      return send(res, 400, { message: 'parseIoAsJson is no longer supported' });
    const filters = {
      traceId: query.get('traceId'),
      type: query.get('type'),
      root: query.get('isRootObservation'),
    };
    const filterKey = JSON.stringify([from, to, filters]);
    let offset = 0;
    const cursor = query.get('cursor');
    if (cursor) {
      const decoded = decodeCursor(cursor);
      if (!decoded || decoded.filter !== filterKey)
        return send(res, 400, { message: 'Invalid cursor for this query' });
      offset = decoded.offset;
    }
    const matching = this.observations.filter(
      (observation) =>
        within(observation.startTime, from, to) &&
        (filters.traceId === null || observation.traceId === filters.traceId) &&
        (filters.type === null || observation.type === filters.type) &&
        (filters.root === null || (observation.parentObservationId === null) === (filters.root === 'true')),
    );
    const groups = new Set((query.get('fields') ?? 'core,basic').split(','));
    const data = matching.slice(offset, offset + limit).map((observation) => ({
      id: observation.id,
      traceId: observation.traceId,
      startTime: observation.startTime,
      endTime: observation.startTime,
      projectId: 'peer',
      parentObservationId: observation.parentObservationId ?? null,
      type: observation.type,
      isRootObservation: observation.parentObservationId === null,
      ...(groups.has('basic')
        ? { name: observation.name ?? null, level: 'DEFAULT', environment: 'default' }
        : {}),
      // As the reference says, v2 returns input/output as the raw strings they were ingested as.
      ...(groups.has('io')
        ? { input: rawString(observation.input), output: rawString(observation.output) }
        : {}),
      ...(groups.has('metadata') ? { metadata: observation.metadata ?? null } : {}),
    }));
    const next = offset + limit < matching.length ? encodeCursor(offset + limit, filterKey) : undefined;
    send(res, 200, { data, meta: next ? { cursor: next } : {} });
  }

  private createScore(body: unknown, res: ServerResponse) {
    this.counts.scorePosts++;
    const problem = scoreProblem(body);
    if (problem) return send(res, 400, { message: problem, error: 'InvalidRequestError' });
    const score = body as Record<string, unknown> & { name: string; value: number | string };
    const id = typeof score.id === 'string' && score.id !== '' ? score.id : randomUUID();
    const now = new Date().toISOString();
    const previous = this.scores.get(id);
    this.scores.set(id, {
      id,
      traceId: score.traceId as string | undefined,
      observationId: score.observationId as string | undefined,
      name: score.name,
      value: score.value,
      dataType: (score.dataType as string | undefined) ?? 'NUMERIC',
      comment: score.comment as string | undefined,
      metadata: score.metadata,
      source: (score.source as string | undefined) ?? 'API',
      environment: score.environment as string | undefined,
      writes: (previous?.writes ?? 0) + 1,
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
    });
    send(res, 200, { id });
  }

  private listScores(query: URLSearchParams, res: ServerResponse) {
    const page = positiveInteger(query.get('page'), 1);
    const limit = positiveInteger(query.get('limit'), 50);
    if (page === undefined || limit === undefined || limit > 100)
      return send(res, 400, { message: 'page must be >= 1 and limit within 1..100' });
    const matching = [...this.scores.values()].filter(
      (score) =>
        (query.get('traceId') === null || score.traceId === query.get('traceId')) &&
        (query.get('name') === null || score.name === query.get('name')) &&
        (query.get('source') === null || score.source === query.get('source')),
    );
    send(res, 200, {
      data: matching.slice((page - 1) * limit, page * limit).map(({ writes: _writes, ...score }) => ({
        ...score,
        timestamp: score.createdAt,
        projectId: 'peer',
      })),
      meta: { page, limit, totalItems: matching.length, totalPages: Math.ceil(matching.length / limit) },
    });
  }
}

function scoreProblem(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object';
  const score = body as Record<string, unknown>;
  if (typeof score.name !== 'string' || score.name === '') return 'name is required';
  if (typeof score.value !== 'number' && typeof score.value !== 'string')
    return 'value must be a number or string';
  if (typeof score.value === 'number' && !Number.isFinite(score.value)) return 'value must be finite';
  if (!score.traceId && !score.observationId && !score.sessionId && !score.datasetRunId)
    return 'one of traceId, observationId, sessionId, datasetRunId is required';
  if (score.id !== undefined && typeof score.id !== 'string') return 'id must be a string';
  if (score.source !== undefined && !SCORE_SOURCES.has(String(score.source))) return 'unknown source';
  if (score.source === 'EVAL') return 'source EVAL is reserved for internal evaluators';
  return undefined;
}

function within(time: string, from: string | undefined, to: string | undefined): boolean {
  return (from === undefined || time >= from) && (to === undefined || time < to);
}

/** An ISO 8601 timestamp normalised to `toISOString()` form; undefined when absent; null when invalid. */
function timestamp(value: string | null): string | undefined | null {
  if (value === null || value === '') return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

function positiveInteger(value: string | null, fallback: number): number | undefined {
  if (value === null) return fallback;
  const number = Number(value);
  return Number.isInteger(number) && number >= 1 ? number : undefined;
}

function rawString(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function encodeCursor(offset: number, filter: string): string {
  return Buffer.from(JSON.stringify({ offset, filter })).toString('base64');
}

function decodeCursor(cursor: string): { offset: number; filter: string } | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as {
      offset?: unknown;
      filter?: unknown;
    };
    if (typeof value.offset === 'number' && typeof value.filter === 'string')
      return { offset: value.offset, filter: value.filter };
  } catch {
    // Falls through to "invalid".
  }
  return undefined;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _chunk of req) {
    // Discard the body so the connection can be reused.
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
