import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFolderObjectReader } from '@stratus/aws/local-objects';
import { createLogger, StatsRegistry } from '@stratus/core';
import { type Database, openDatabase } from '@stratus/jobs/database';
import { LangfusePeer } from '@stratus/test-peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bucketObjects, GroundTruthCache } from '../src/adapters/ground-truth-cache.js';
import { langfuseTraceSource, type TraceSource } from '../src/adapters/langfuse.js';
import { PollStore } from '../src/adapters/poll-store.js';
import { Poller, type PollResult } from '../src/app/poller.js';
import { EvalTelemetry } from '../src/app/telemetry.js';
import { parseEvaluationSpec } from '../src/domain/spec.js';
import { groundTruthCsv, traceOf } from './fixtures/discharge-data.js';

const spec = parseEvaluationSpec(
  readFileSync(new URL('./fixtures/discharge-spec.yaml', import.meta.url), 'utf8'),
);
const SCORES_PER_TRACE = 11; // 3 + 3 + 1 + 3 per field metric, and overall
const GOOD_TRACES = 36;
const BUCKET = 'stratus-ground-truth';
const logger = createLogger({ SERVICE_NAME: 'eval-metrics', ENVIRONMENT: 'test', LOG_LEVEL: 'silent' });

// The Postgres server when TEST_DATABASE_URL is set (CI), else embedded PGlite; one per file, a stream per test.
const databaseUrl = process.env.TEST_DATABASE_URL;
const streamOf = (name: string) => `${name}-${randomUUID()}:${spec.version}`;
let database: Database;
let folder: string;
let groundTruth: GroundTruthCache;
const base = new Date(Date.now() - 3_600_000);

beforeAll(async () => {
  database = await openDatabase(databaseUrl ? { databaseUrl } : {});
  folder = await mkdtemp(join(tmpdir(), 'eval-poller-'));
  await mkdir(join(folder, 's3', BUCKET, 'ground-truth'), { recursive: true });
  await writeFile(join(folder, 's3', BUCKET, 'ground-truth', 'v1.csv'), groundTruthCsv(GOOD_TRACES));
  await writeFile(join(folder, 's3', BUCKET, 'ground-truth', 'LATEST'), 'ground-truth/v1.csv');
  groundTruth = new GroundTruthCache({
    objects: bucketObjects(new LocalFolderObjectReader(join(folder, 's3')), BUCKET),
    latestKey: 'ground-truth/LATEST',
    bucket: BUCKET,
    ttlMs: 900_000,
  });
  // PGlite's first start (initdb in WebAssembly) takes seconds on a busy machine.
}, 120_000);
afterAll(async () => {
  await database.close();
  await rm(folder, { recursive: true, force: true });
});

/** 36 scorable traces one second apart, then four that cannot be scored, each for its own reason. */
function seed(peer: LangfusePeer): void {
  peer.addTraces(
    ...Array.from({ length: GOOD_TRACES }, (_, i) => traceOf(i, new Date(base.getTime() + i * 1000))),
  );
  const at = (seconds: number) => new Date(base.getTime() + seconds * 1000).toISOString();
  peer.addTraces(
    { id: 'unscorable-no-output', timestamp: at(200), metadata: { document_id: 'doc-1' } },
    {
      id: 'unscorable-no-truth',
      timestamp: at(201),
      metadata: { document_id: 'doc-999' },
      output: { extraction: '{}' },
    },
    { id: 'unscorable-no-key', timestamp: at(202), metadata: {}, output: { extraction: '{}' } },
    {
      id: 'unscorable-bad-shape',
      timestamp: at(203),
      metadata: { document_id: 'doc-1' },
      output: { extraction: { diagnosticos: 'not a list of objects', destino_alta: { a: 1 } } },
    },
  );
}

function sourceOf(peer: LangfusePeer, api: 'traces' | 'observations'): TraceSource {
  return langfuseTraceSource({
    baseUrl: peer.url,
    publicKey: peer.publicKey,
    secretKey: peer.secretKey,
    api,
    timeoutMs: 5_000,
    maxRetries: 2,
    metadataKeys: ['document_id', 'filename'],
  });
}

function pollerOf(
  peer: LangfusePeer,
  store: PollStore,
  api: 'traces' | 'observations',
  overrides: Partial<{
    replicaId: string;
    maxTracesPerPoll: number;
    stats: StatsRegistry;
    source: TraceSource;
  }> = {},
) {
  const source = overrides.source ?? sourceOf(peer, api);
  const stats = overrides.stats ?? new StatsRegistry('eval-metrics');
  return new Poller({
    spec,
    source,
    store,
    groundTruth,
    telemetry: new EvalTelemetry(stats, undefined),
    logger,
    replicaId: overrides.replicaId ?? 'replica-a',
    maxTracesPerPoll: overrides.maxTracesPerPoll ?? 1_000,
    ingestionDelayMs: 0,
    pollIntervalMs: 10,
    leaseTtlMs: 30_000,
    scoreWriteConcurrency: 8,
    startAt: new Date(base.getTime() - 1000),
  });
}

async function pollUntilCaughtUp(poller: Poller): Promise<PollResult[]> {
  const results: PollResult[] = [];
  for (let i = 0; i < 50; i++) {
    const result = await poller.pollOnce();
    if (!result) throw new Error('poll failed');
    results.push(result);
    if (result.status === 'polled' && result.caughtUp) return results;
  }
  throw new Error('did not catch up in 50 polls');
}

function expectEveryTraceScoredOnce(peer: LangfusePeer): void {
  for (let i = 0; i < GOOD_TRACES; i++) {
    const scores = peer.scoresOfTrace(traceOf(i, base).id);
    expect(scores, `trace ${i}`).toHaveLength(SCORES_PER_TRACE);
    for (const score of scores) expect(score.writes, `${score.name} of trace ${i}`).toBe(1);
  }
  expect(peer.counts.scorePosts).toBe(GOOD_TRACES * SCORES_PER_TRACE);
}

describe.each(['traces', 'observations'] as const)('Poller reading the %s API', (api) => {
  let peer: LangfusePeer;

  beforeAll(async () => {
    peer = await LangfusePeer.start();
    seed(peer);
  });
  afterAll(() => peer.close());

  it('scores every trace once, skips the unscorable with their reasons, and rescans nothing', async () => {
    const store = await PollStore.open(database, streamOf(api));
    const stats = new StatsRegistry('eval-metrics');
    const poller = pollerOf(peer, store, api, { maxTracesPerPoll: 10, stats });
    const results = await pollUntilCaughtUp(poller);
    // 40 traces, at most 10 a poll.
    expect(results.length).toBeGreaterThanOrEqual(4);
    expectEveryTraceScoredOnce(peer);
    expect(await store.outcomeCounts()).toEqual({
      scored: GOOD_TRACES,
      'skipped:no_output': 1,
      'skipped:no_ground_truth': 1,
      'skipped:no_match_key': 1,
      'skipped:bad_shape': 1,
    });
    const counters = stats.snapshot().counters;
    expect(counters).toMatchObject({ traces_scored: GOOD_TRACES, traces_skipped: 4, skipped_bad_shape: 1 });

    // The scores carry the metrics: the first diagnosis differs only in case and accents (a fuzzy
    // match), the second code is a sibling of the annotated one (hierarchical credit 3/4 or 3/5).
    const first = Object.fromEntries(peer.scoresOfTrace(traceOf(1, base).id).map((s) => [s.name, s.value]));
    expect(first.diagnoses_f1).toBe(1);
    expect(first.destination_accuracy).toBe(1);
    expect(first.icd10_precision).toBeGreaterThan(0.5);
    expect(first.icd10_precision).toBeLessThan(1);
    expect(first.overall).toBeGreaterThan(0.8);

    // A later poll with nothing new writes nothing.
    const before = peer.counts.scorePosts;
    const again = await poller.pollOnce();
    expect(again).toMatchObject({ status: 'polled', caughtUp: true });
    expect(peer.counts.scorePosts).toBe(before);
  });
});

describe('Poller across a restart, rate limits and replicas', () => {
  // Without TEST_DATABASE_URL this opens PGlite twice in a folder: seconds each on a busy machine.
  it('resumes where it stopped after a restart: no trace scored twice, none missed', {
    timeout: 90_000,
  }, async () => {
    const peer = await LangfusePeer.start();
    seed(peer);
    // A process of its own: the Postgres server, or PGlite in a folder that outlives it.
    const where = databaseUrl ? { databaseUrl } : { dataDir: join(folder, 'pglite-restart') };
    const stream = streamOf('restart');
    let own = await openDatabase(where);
    let store = await PollStore.open(own, stream);
    const first = pollerOf(peer, store, 'traces', { maxTracesPerPoll: 10 });
    await first.pollOnce();
    await first.pollOnce();
    const scoredBefore = (await store.outcomeCounts()).scored ?? 0;
    expect(scoredBefore).toBe(20);
    const cursor = await store.state();
    expect(cursor?.pageCursor).toBe('3');
    await first.stop();
    await own.close();

    // A new process: the cursor comes back from the database.
    own = await openDatabase(where);
    store = await PollStore.open(own, stream);
    expect(await store.state()).toEqual(cursor);
    const second = pollerOf(peer, store, 'traces', { maxTracesPerPoll: 10, replicaId: 'replica-b' });
    await pollUntilCaughtUp(second);
    expectEveryTraceScoredOnce(peer);
    expect((await store.outcomeCounts()).scored).toBe(GOOD_TRACES);
    await second.stop();
    await own.close();
    await peer.close();
  });

  it('reads the next page while scoring one: each page read once, each trace handled once', async () => {
    const peer = await LangfusePeer.start();
    seed(peer);
    // 190 more traces (no ground truth for them): 230 in all, three pages of the traces API.
    peer.addTraces(
      ...Array.from({ length: 190 }, (_, i) => ({
        ...traceOf(1_000 + i, new Date(base.getTime() + (300 + i) * 1000)),
        id: `no-truth-${i}`,
      })),
    );
    const store = await PollStore.open(database, streamOf('read-ahead'));
    const result = await pollerOf(peer, store, 'traces').pollOnce();
    expect(result).toMatchObject({ status: 'polled', read: 230, scored: GOOD_TRACES, caughtUp: true });
    expect(peer.requestCount('GET /api/public/traces')).toBe(3);
    expectEveryTraceScoredOnce(peer);
    expect(await store.outcomeCounts()).toMatchObject({
      scored: GOOD_TRACES,
      'skipped:no_ground_truth': 191,
    });
    await peer.close();
  });

  it('keeps SCORE_WRITE_CONCURRENCY score writes in flight across traces, never more', async () => {
    const peer = await LangfusePeer.start();
    seed(peer);
    // The real client over the socket, counted on the way: how many writes are open at once.
    const real = sourceOf(peer, 'traces');
    let inFlight = 0;
    let most = 0;
    const counted: TraceSource = {
      ...real,
      async writeScore(score) {
        most = Math.max(most, ++inFlight);
        try {
          await real.writeScore(score);
        } finally {
          inFlight--;
        }
      },
    };
    const store = await PollStore.open(database, streamOf('in-flight'));
    await pollUntilCaughtUp(pollerOf(peer, store, 'traces', { source: counted }));
    // 8 is pollerOf's SCORE_WRITE_CONCURRENCY; a trace has 11 scores, so 8 at once is not per trace.
    expect(most).toBe(8);
    expectEveryTraceScoredOnce(peer);
    await peer.close();
  });

  it('waits out 429s as Retry-After says and loses no score', async () => {
    const peer = await LangfusePeer.start();
    seed(peer);
    const store = await PollStore.open(database, streamOf('traces'));
    peer.injectFaults(1, { status: 429, retryAfter: '1', pathPrefix: '/api/public/traces' });
    peer.injectFaults(2, { status: 429, retryAfter: '1', pathPrefix: '/api/public/scores' });
    const started = Date.now();
    await pollUntilCaughtUp(pollerOf(peer, store, 'traces'));
    expect(peer.counts.faults).toBe(3);
    // The client waited as Retry-After said before trying again (each wait is one second).
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expectEveryTraceScoredOnce(peer);
    await peer.close();
  });

  it('retries a score write answered 5xx and loses no score', async () => {
    const peer = await LangfusePeer.start();
    seed(peer);
    const store = await PollStore.open(database, streamOf('traces'));
    peer.injectFaults(1, { status: 503, pathPrefix: '/api/public/scores' });
    await pollUntilCaughtUp(pollerOf(peer, store, 'traces'));
    expect(peer.counts.faults).toBe(1);
    expectEveryTraceScoredOnce(peer);
    expect((await store.outcomeCounts()).scored).toBe(GOOD_TRACES);
    await peer.close();
  });

  it('stops on a non-retriable error without recording or moving anything', async () => {
    const peer = await LangfusePeer.start();
    seed(peer);
    const store = await PollStore.open(database, streamOf('traces'));
    const stats = new StatsRegistry('eval-metrics');
    peer.injectFaults(1, { status: 401, pathPrefix: '/api/public/scores' });
    const poller = pollerOf(peer, store, 'traces', { stats });
    expect(await poller.pollOnce()).toBeUndefined();
    expect(stats.snapshot().counters).toMatchObject({ errors: 1, errors_langfuse_unauthorized: 1 });
    expect((await store.state())?.watermark).toEqual(new Date(base.getTime() - 1000));
    // The next poll does it all, the failed trace included.
    await pollUntilCaughtUp(poller);
    expect((await store.outcomeCounts()).scored).toBe(GOOD_TRACES);
    await peer.close();
  });

  it('lets one of two replicas poll at a time; the other takes over when the lease is given up', async () => {
    const peer = await LangfusePeer.start();
    seed(peer);
    const stream = streamOf('replicas');
    const a = pollerOf(peer, await PollStore.open(database, stream), 'traces', {
      replicaId: 'a',
      maxTracesPerPoll: 50,
    });
    const b = pollerOf(peer, await PollStore.open(database, stream), 'traces', {
      replicaId: 'b',
      maxTracesPerPoll: 50,
    });
    const [resultA, resultB] = await Promise.all([a.pollOnce(), b.pollOnce()]);
    const statuses = [resultA?.status, resultB?.status].sort();
    expect(statuses).toEqual(['polled', 'standby']);
    const leader = resultA?.status === 'polled' ? a : b;
    const follower = leader === a ? b : a;
    await leader.stop();
    await pollUntilCaughtUp(follower);
    expectEveryTraceScoredOnce(peer);
    await follower.stop();
    await peer.close();
  });

  it('waits, consuming nothing, while no ground truth is loaded', async () => {
    const peer = await LangfusePeer.start();
    seed(peer);
    const store = await PollStore.open(database, streamOf('traces'));
    const empty = new GroundTruthCache({
      objects: bucketObjects(new LocalFolderObjectReader(folder), BUCKET),
      latestKey: 'nothing/LATEST',
      bucket: BUCKET,
      ttlMs: 900_000,
    });
    const stats = new StatsRegistry('eval-metrics');
    const poller = new Poller({
      spec,
      source: langfuseTraceSource({
        baseUrl: peer.url,
        publicKey: peer.publicKey,
        secretKey: peer.secretKey,
        api: 'traces',
        timeoutMs: 5000,
        maxRetries: 0,
      }),
      store,
      groundTruth: empty,
      telemetry: new EvalTelemetry(stats, undefined),
      logger,
      replicaId: 'a',
      maxTracesPerPoll: 100,
      ingestionDelayMs: 0,
      pollIntervalMs: 10,
      leaseTtlMs: 30_000,
      scoreWriteConcurrency: 4,
      startAt: base,
    });
    expect(await poller.pollOnce()).toEqual({ status: 'waiting', reason: 'ground_truth_unavailable' });
    expect(peer.requestCount('GET /api/public/traces')).toBe(0);
    expect(stats.snapshot().counters.errors_ground_truth_unavailable).toBe(1);
    await peer.close();
  });
});
