import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { configureTracing, type TracingSetup } from '../../src/tracing/configure-tracing.js';
import type { SpanLine } from '../../src/tracing/json-lines-exporter.js';
import { annotate } from '../../src/tracing/xray-vocabulary.js';
import { startTestService } from '../support/service-under-test.js';
import { useTempDir } from '../support/temp-dir.js';

const base: TracingSetup = {
  SERVICE_NAME: 'orders',
  ENVIRONMENT: 'local',
  ENABLE_TRACING: true,
  OTLP_ENDPOINT: 'http://127.0.0.1:9',
};
const untraced = <T>(work: () => Promise<T>) => context.with(suppressTracing(context.active()), work);

const dir = useTempDir('stratus-tracing-');

describe('configureTracing', () => {
  it('writes spans as JSON lines for local use, sampled by the rules in a file', async () => {
    const rulesFile = join(dir.path, 'sampling-rules.json');
    // The same document AWS accepts: `aws xray create-sampling-rule --cli-input-json file://...`.
    await writeFile(
      rulesFile,
      JSON.stringify({
        SamplingRule: {
          RuleName: 'no-orders',
          Priority: 1,
          ReservoirSize: 0,
          FixedRate: 0,
          ServiceName: 'orders',
          ServiceType: '*',
          Host: '*',
          HTTPMethod: 'GET',
          URLPath: '/orders/internal*',
          ResourceARN: '*',
          Version: 1,
        },
      }),
    );
    const tracesFile = join(dir.path, 'traces', 'traces.jsonl');
    const tracing = await configureTracing({
      ...base,
      TRACING_EXPORTER: 'file',
      TRACES_FILE: tracesFile,
      XRAY_SAMPLING_RULES_FILE: rulesFile,
    });
    const service = await startTestService({
      env: { SERVICE_NAME: 'orders' },
      tracing,
      routes: (app) => {
        app.get('/orders/:id', async (request) => {
          annotate('order_id', (request.params as { id: string }).id);
          return {};
        });
      },
    });
    try {
      const { url } = service;
      // The Default rule's reservoir takes the first request of the second; the rule above none.
      await untraced(() => fetch(`${url}/orders/o-1`));
      await untraced(() => fetch(`${url}/orders/internal-1`));
      await tracing.forceFlush();
      const lines = (await readFile(tracesFile, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as SpanLine);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        name: 'GET /orders/:id',
        kind: 1,
        service: 'orders',
        parentSpanId: null,
        attributes: { order_id: 'o-1', 'aws.xray.annotations': ['order_id'], 'url.path': '/orders/o-1' },
      });
      expect(lines[0]?.xrayTraceId).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
      expect(`${lines[0]?.xrayTraceId.slice(2, 10)}${lines[0]?.xrayTraceId.slice(11)}`).toBe(
        lines[0]?.traceId,
      );
    } finally {
      await service.close();
      await tracing.shutdown();
    }
  });

  it('samples by the Host header when a rule has a Host pattern', async () => {
    const tracesFile = join(dir.path, 'host-rules', 'traces.jsonl');
    const tracing = await configureTracing({
      ...base,
      TRACING_EXPORTER: 'file',
      TRACES_FILE: tracesFile,
      XRAY_SAMPLING_RULES: JSON.stringify([
        { RuleName: 'public-api', Priority: 1, ReservoirSize: 0, FixedRate: 1, Host: 'api.*' },
        { RuleName: 'Default', Priority: 10000, ReservoirSize: 0, FixedRate: 0 },
      ]),
    });
    const service = await startTestService({
      env: { SERVICE_NAME: 'orders' },
      tracing,
      routes: (app) => {
        app.get('/orders', async () => ({}));
      },
    });
    // fetch does not let a caller set Host; http.request does.
    const getWithHost = (host: string) =>
      untraced(
        () =>
          new Promise<number>((resolve, reject) => {
            const request = httpRequest(`${service.url}/orders`, { headers: { host } }, (response) => {
              response.resume();
              response.on('end', () => resolve(response.statusCode ?? 0));
            });
            request.on('error', reject);
            request.end();
          }),
      );
    try {
      expect(await getWithHost('api.example.com')).toBe(200);
      expect(await getWithHost('admin.example.com:8080')).toBe(200);
      await tracing.forceFlush();
      const lines = (await readFile(tracesFile, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as SpanLine);
      expect(lines.map((line) => line.attributes['server.address'])).toEqual(['api.example.com']);
    } finally {
      await service.close();
      await tracing.shutdown();
    }
  });

  it('refuses a second configuration while one is active', async () => {
    const tracing = await configureTracing(base);
    try {
      await expect(configureTracing(base)).rejects.toThrow(/already configured/);
    } finally {
      await tracing.shutdown();
    }
  });

  it("writes OpenTelemetry's own messages to the console at the level OTEL_LOG_LEVEL asks for", async () => {
    // In a process of its own: the API's console logger keeps the console it found when loaded.
    const fixture = fileURLToPath(new URL('./diag-level.fixture.ts', import.meta.url));
    // Warnings go to stderr, debug messages to stdout (console.debug).
    const run = async (level?: string) => {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], {
        env: { ...process.env, OTEL_LOG_LEVEL: level },
      });
      return stdout + stderr;
    };
    const atWarn = await run('warn');
    expect(atWarn).toContain('collector falling behind');
    expect(atWarn).not.toContain('noise');
    expect(await run('debug')).toContain('noise');
    expect(await run()).not.toContain('collector falling behind');
  });

  it('stops start-up on a rules file it cannot read or that is not valid', async () => {
    await expect(
      configureTracing({ ...base, XRAY_SAMPLING_RULES_FILE: join(dir.path, 'missing.json') }),
    ).rejects.toThrow(/^XRAY_SAMPLING_RULES_FILE: cannot read .*missing\.json/);
    const bad = join(dir.path, 'bad.json');
    await writeFile(bad, JSON.stringify([{ RuleName: 'x', Priority: 1, ReservoirSize: 1, FixedRate: 2 }]));
    await expect(configureTracing({ ...base, XRAY_SAMPLING_RULES_FILE: bad })).rejects.toThrow(
      /XRAY_SAMPLING_RULES_FILE .*bad\.json: invalid sampling rules: 0\.FixedRate/,
    );
    await expect(configureTracing({ ...base, XRAY_SAMPLING_RULES: '[{' })).rejects.toThrow(
      /^XRAY_SAMPLING_RULES: sampling rules are not valid JSON/,
    );
    // A failed start leaves nothing behind: tracing can still be configured.
    const tracing = await configureTracing(base);
    await tracing.shutdown();
  });

  it('asks X-Ray (through the collector`s sampling endpoint) for rules when the remote sampler is on', async () => {
    const polled: { url: string | undefined; body: string }[] = [];
    const proxy = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        polled.push({ url: request.url, body });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"SamplingRuleRecords":[]}');
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const tracing = await configureTracing({
      ...base,
      TRACING_SAMPLER: 'xray-remote',
      XRAY_SAMPLING_ENDPOINT: endpoint,
    });
    try {
      // The first poll waits a random jitter of up to 5 s.
      await expect
        .poll(() => polled.map((request) => request.url), { timeout: 8_000, interval: 100 })
        .toContain('/GetSamplingRules');
    } finally {
      await tracing.shutdown();
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});
