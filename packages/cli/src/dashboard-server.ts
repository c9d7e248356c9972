import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createService,
  type Logger,
  type Service,
  type ServiceApp,
  ServiceError,
  type ServiceSettings,
} from '@stratus/core';
import { z } from 'zod';
import { parseSpanLines, traceWaterfalls } from './trace-waterfall.js';

export interface DashboardSources {
  /** Every service the page shows, by name. */
  services: { name: string; url: string }[];
  fileProcessingUrl: string;
  langfuse: { baseUrl: string; publicKey: string; secretKey: string };
  /** Folder of the services' JSON-lines traces files. */
  tracesDir: string;
  /** The identity demo: signs in as this email locally and reports what identity answered. */
  signIn(email: string): Promise<unknown>;
  /** packages/cli/dashboard. */
  staticDir: string;
}

const STATIC_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/styles.css': { file: 'styles.css', type: 'text/css; charset=utf-8' },
};
const UPSTREAM_TIMEOUT_MS = 2_000;
/** Only the end of each traces file is read: recent traces are what the page shows. */
const TRACES_TAIL_BYTES = 2 * 1024 * 1024;
const LANGFUSE_PAGE_LIMIT = 100;
const LANGFUSE_MAX_PAGES = 20;
/**
 * Scores are read from Langfuse at most this often, whatever the number of open pages (each polls
 * every 1.5 s): a read is up to 40 page requests, light for the local Langfuse, not for a real one.
 */
const SCORES_FRESH_MS = 5_000;

/**
 * The dashboard of the local platform: the page, and a JSON API that gathers what it shows from the
 * services (health, jobs, reports), Langfuse (scores) and the traces files. It is a Stratus service
 * itself, with /health, /ready and /stats.
 */
export async function createDashboard(
  settings: ServiceSettings,
  sources: DashboardSources,
  logger: Logger,
): Promise<Service> {
  const pages = new Map<string, { body: string; type: string }>();
  for (const [path, { file, type }] of Object.entries(STATIC_FILES))
    pages.set(path, { body: await readFile(join(sources.staticDir, file), 'utf8'), type });
  return createService({
    settings,
    logger,
    routes: (app) => dashboardRoutes(app, sources, pages),
  });
}

function dashboardRoutes(
  app: ServiceApp,
  sources: DashboardSources,
  pages: Map<string, { body: string; type: string }>,
): void {
  for (const [path, page] of pages)
    app.get(path, { logLevel: 'warn' }, async (_request, reply) =>
      reply.type(page.type).header('cache-control', 'no-cache').send(page.body),
    );

  app.get('/api/services', { logLevel: 'warn' }, async () => ({
    services: await Promise.all(sources.services.map((service) => serviceStatus(service))),
  }));

  const jobList = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });
  app.get('/api/jobs', { logLevel: 'warn', schema: { querystring: jobList } }, async (request) => {
    const { limit } = request.query as z.output<typeof jobList>;
    return getJson(`${sources.fileProcessingUrl}/jobs?limit=${limit}`, 'file-processing');
  });

  const jobParams = z.object({ id: z.string().min(1).max(200) });
  app.get('/api/jobs/:id', { logLevel: 'warn', schema: { params: jobParams } }, async (request) => {
    const id = encodeURIComponent((request.params as z.output<typeof jobParams>).id);
    const { job } = (await getJson(`${sources.fileProcessingUrl}/jobs/${id}`, 'file-processing')) as {
      job: { status: string };
    };
    const report =
      job.status === 'Done'
        ? await getJson(`${sources.fileProcessingUrl}/jobs/${id}/report`, 'file-processing').catch(
            (error: unknown) => {
              if (error instanceof ServiceError && error.status === 404) return null;
              throw error;
            },
          )
        : null;
    return { job, report };
  });

  const scores = sharedRead(SCORES_FRESH_MS, () => evaluationScores(sources.langfuse));
  app.get('/api/scores', { logLevel: 'warn' }, async () => ({ scores: await scores() }));

  const traceList = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) });
  app.get('/api/traces', { logLevel: 'warn', schema: { querystring: traceList } }, async (request) => {
    const { limit } = request.query as z.output<typeof traceList>;
    return { traces: traceWaterfalls(parseSpanLines(await readTracesTail(sources.tracesDir)), limit) };
  });

  const signIn = z.object({ email: z.email() });
  app.post('/api/sign-in', { schema: { body: signIn } }, async (request) =>
    sources.signIn((request.body as z.output<typeof signIn>).email),
  );
}

async function serviceStatus(service: { name: string; url: string }) {
  const [ready, stats] = await Promise.all([
    fetch(`${service.url}/ready`, { signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) })
      .then(async (response) => ({ ok: response.ok, body: (await response.json()) as { checks?: unknown } }))
      .catch(() => undefined),
    fetch(`${service.url}/stats`, { signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) })
      .then((response) => (response.ok ? (response.json() as Promise<unknown>) : null))
      .catch(() => null),
  ]);
  return {
    name: service.name,
    url: service.url,
    ready: ready?.ok ?? false,
    checks: ready?.body.checks ?? {},
    stats,
  };
}

/** GETs JSON from a service; its own error answers pass through, an unreachable service is a 502. */
async function getJson(
  url: string,
  upstream: string,
  headers: Record<string, string> = {},
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) });
  } catch (error) {
    throw new ServiceError(502, 'upstream_unavailable', `${upstream} did not answer`, { cause: error });
  }
  const body = (await response.json().catch(() => null)) as {
    error?: { code?: string; message?: string };
    message?: string;
  } | null;
  if (!response.ok)
    throw new ServiceError(
      response.status === 404 ? 404 : 502,
      body?.error?.code ?? 'upstream_error',
      body?.error?.message ?? body?.message ?? `${upstream} answered ${response.status}`,
    );
  return body;
}

/**
 * `read`, shared: a caller within `freshMs` of the start of the last read gets that read's result (or
 * waits for it while it runs). A failed read is not kept, so the next caller tries again.
 */
export function sharedRead<T>(freshMs: number, read: () => Promise<T>, now = Date.now): () => Promise<T> {
  let last: { startedAt: number; result: Promise<T> } | undefined;
  return () => {
    if (last !== undefined && now() - last.startedAt < freshMs) return last.result;
    const entry = { startedAt: now(), result: read() };
    last = entry;
    entry.result.catch(() => {
      if (last === entry) last = undefined;
    });
    return entry.result;
  };
}

interface LangfuseScore {
  traceId?: string;
  name: string;
  value: unknown;
  timestamp: string;
}

/**
 * Scores from Langfuse's public API, each dated by its trace (when the model answered), which is what
 * "over time" means for quality; a score whose trace is not found keeps its own timestamp.
 */
async function evaluationScores(langfuse: DashboardSources['langfuse']) {
  const auth = {
    authorization: `Basic ${Buffer.from(`${langfuse.publicKey}:${langfuse.secretKey}`).toString('base64')}`,
  };
  const [scores, traces] = await Promise.all([
    allPages<LangfuseScore>(`${langfuse.baseUrl}/api/public/v2/scores`, auth),
    allPages<{ id: string; timestamp: string }>(`${langfuse.baseUrl}/api/public/traces`, auth),
  ]);
  const traceTime = new Map(traces.map((trace) => [trace.id, trace.timestamp]));
  return scores
    .filter((score) => typeof score.value === 'number')
    .map((score) => ({
      traceId: score.traceId ?? null,
      name: score.name,
      value: score.value as number,
      timestamp: (score.traceId && traceTime.get(score.traceId)) || score.timestamp,
    }))
    .sort((a, b) => a.timestamp.localeCompare(b.timestamp));
}

async function allPages<T>(url: string, headers: Record<string, string>): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; page <= LANGFUSE_MAX_PAGES; page++) {
    const body = (await getJson(`${url}?page=${page}&limit=${LANGFUSE_PAGE_LIMIT}`, 'Langfuse', headers)) as {
      data: T[];
      meta: { totalPages: number };
    };
    items.push(...body.data);
    if (page >= body.meta.totalPages) break;
  }
  return items;
}

async function readTracesTail(dir: string): Promise<string> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const parts = await Promise.all(
    names
      .filter((name) => name.endsWith('.jsonl'))
      .map(async (name) => {
        const file = await open(join(dir, name), 'r');
        try {
          const { size } = await file.stat();
          const length = Math.min(size, TRACES_TAIL_BYTES);
          const buffer = Buffer.alloc(length);
          await file.read(buffer, 0, length, size - length);
          return buffer.toString('utf8');
        } finally {
          await file.close();
        }
      }),
  );
  return parts.join('\n');
}
