import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, loadSettings, type Service } from '@stratus/core';
import { LangfusePeer } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, sharedRead } from '../src/dashboard-server.js';
import { localPlatformSettings } from '../src/local-platform.js';

const logger = createLogger(
  { SERVICE_NAME: 'dashboard', ENVIRONMENT: 'test', LOG_LEVEL: 'silent' },
  { destination: new Writable({ write: (_chunk, _encoding, done) => done() }) },
);
const staticDir = new URL('../dashboard', import.meta.url).pathname;

/** A file-processing stand-in answering the job API as the service does, or failing as told. */
function jobApi(answer: (url: string) => { status: number; body: unknown }): Promise<Server> {
  const server = createServer((request, response) => {
    const { status, body } = answer(request.url ?? '/');
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('the dashboard API', () => {
  let dashboard: Service;
  let url: string;
  let upstream: Server;
  let tracesDir: string;
  const signIns: string[] = [];

  beforeAll(async () => {
    tracesDir = await mkdtemp(join(tmpdir(), 'dashboard-traces-'));
    await mkdir(tracesDir, { recursive: true });
    await writeFile(
      join(tracesDir, 'identity.jsonl'),
      `${JSON.stringify({ traceId: 't1', spanId: 's1', parentSpanId: null, name: 'POST /auth/exchange', kind: 1, service: 'identity', startTime: '2026-11-25T10:00:00.000Z', durationMs: 12, status: { code: 1 }, attributes: {} })}\n{"torn":`,
    );
    upstream = await jobApi((path) =>
      path.startsWith('/jobs/missing')
        ? { status: 404, body: { error: { code: 'job_not_found', message: 'Job missing not found' } } }
        : path.startsWith('/jobs/running')
          ? { status: 200, body: { job: { id: 'running', status: 'Running' } } }
          : { status: 200, body: { jobs: [{ id: 'running', status: 'Running' }] } },
    );
    const settings = loadSettings(localPlatformSettings, { envFile: false, env: { LOG_LEVEL: 'silent' } });
    const closedPort = `http://127.0.0.1:1`;
    dashboard = await createDashboard(
      { ...settings, SERVICE_NAME: 'dashboard', PORT: 0 },
      {
        services: [{ name: 'gone', url: closedPort }],
        fileProcessingUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
        langfuse: { baseUrl: closedPort, publicKey: 'pk', secretKey: 'sk' },
        tracesDir,
        signIn: async (email) => {
          signIns.push(email);
          return { email };
        },
        staticDir,
      },
      logger,
    );
    url = await dashboard.listen();
  });

  afterAll(async () => {
    await dashboard?.close();
    upstream?.close();
    await rm(tracesDir, { recursive: true, force: true });
  });

  it('serves the page', async () => {
    const response = await fetch(`${url}/`);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain('app.js');
  });

  it('shows a service that does not answer as not ready, without failing the page', async () => {
    const body = (await (await fetch(`${url}/api/services`)).json()) as {
      services: { name: string; ready: boolean }[];
    };
    expect(body.services).toEqual([expect.objectContaining({ name: 'gone', ready: false, stats: null })]);
  });

  it('passes job answers through, a missing job as 404 with its code, and a report only for Done jobs', async () => {
    expect(((await (await fetch(`${url}/api/jobs`)).json()) as { jobs: unknown[] }).jobs).toHaveLength(1);
    const missing = await fetch(`${url}/api/jobs/missing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('job_not_found');
    expect(await (await fetch(`${url}/api/jobs/running`)).json()).toEqual({
      job: { id: 'running', status: 'Running' },
      report: null,
    });
  });

  it('answers 502 upstream_unavailable when Langfuse cannot be reached', async () => {
    const response = await fetch(`${url}/api/scores`);
    expect(response.status).toBe(502);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error).toMatchObject({ code: 'upstream_unavailable', message: 'Langfuse did not answer' });
  });

  it('reads traces from the files, skipping a torn last line', async () => {
    const body = (await (await fetch(`${url}/api/traces`)).json()) as {
      traces: { traceId: string; rootName: string }[];
    };
    expect(body.traces).toEqual([
      expect.objectContaining({ traceId: 't1', rootName: 'POST /auth/exchange' }),
    ]);
  });

  it('refuses a sign-in without a valid email, naming the field, and calls nothing', async () => {
    for (const body of ['{"email":"not-an-email"}', '{}', 'not json']) {
      const response = await fetch(`${url}/api/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(response.status, body).toBe(400);
    }
    expect(signIns).toEqual([]);
    const accepted = await fetch(`${url}/api/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email":"ada@example.com"}',
    });
    expect(accepted.status).toBe(200);
    expect(signIns).toEqual(['ada@example.com']);
  });
});

describe('scores from Langfuse', () => {
  it('are read once for the polls of several pages within 5 s', async () => {
    const langfuse = await LangfusePeer.start();
    const settings = loadSettings(localPlatformSettings, { envFile: false, env: { LOG_LEVEL: 'silent' } });
    const dashboard = await createDashboard(
      { ...settings, SERVICE_NAME: 'dashboard', PORT: 0 },
      {
        services: [],
        fileProcessingUrl: 'http://127.0.0.1:1',
        langfuse: { baseUrl: langfuse.url, publicKey: langfuse.publicKey, secretKey: langfuse.secretKey },
        tracesDir: '/nonexistent',
        signIn: async () => ({}),
        staticDir,
      },
      logger,
    );
    try {
      const url = await dashboard.listen();
      const polls = await Promise.all([1, 2, 3].map(() => fetch(`${url}/api/scores`)));
      expect(polls.map((response) => response.status)).toEqual([200, 200, 200]);
      expect((await fetch(`${url}/api/scores`)).status).toBe(200);
      expect(langfuse.requestCount('GET /api/public/v2/scores')).toBe(1);
    } finally {
      await dashboard.close();
      await langfuse.close();
    }
  });
});

describe('sharedRead', () => {
  it('shares a read in flight and a fresh result, reads again once stale, and forgets a failure', async () => {
    let clock = 0;
    let reads = 0;
    let fail = false;
    const read = sharedRead(
      5_000,
      async () => {
        reads++;
        if (fail) throw new Error('Langfuse did not answer');
        return reads;
      },
      () => clock,
    );
    expect(await Promise.all([read(), read()])).toEqual([1, 1]);
    clock = 4_999;
    expect(await read()).toBe(1);
    clock = 5_000;
    fail = true;
    await expect(read()).rejects.toThrow('did not answer');
    fail = false;
    expect(await read()).toBe(3); // the failure was not kept: read again at once
    expect(reads).toBe(3);
  });
});
