// Job commit latency with and without the final-metrics interceptor (non-terminal and terminal commits),
// on PGlite and on the Postgres server (BENCH_DATABASE_URL, else TEST_DATABASE_URL), in one run:
// alternating rounds after a warm-up, baseline and subject on the same database. Then relay throughput:
// outbox rows delivered to the loopback OpenSearch peer (SigV4), against raw bulk requests of the same
// documents with the same client as the ceiling.
// Runs on built dist/ code: `npm run bench -w @stratus/jobs` or `npm run build && node bench/job-commit/run.mjs`.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { createOpenSearchClient } from '@stratus/aws';
import { createLogger } from '@stratus/core';
import {
  FinalMetricsOutbox,
  FinalMetricsRelay,
  JobStore,
  migrate,
  OpenSearchFinalMetricsSink,
  openDatabase,
} from '@stratus/jobs';
import { OpenSearchPeer } from '@stratus/test-peers';
import { mean, writeResult } from '../lib/result.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
const commitsPerRound = Number(process.env.BENCH_COMMITS ?? 100);
const relayDocuments = Number(process.env.BENCH_RELAY_DOCS ?? 10_000);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
const logger = createLogger({ SERVICE_NAME: 'bench-job-commit', ENVIRONMENT: 'test', LOG_LEVEL: 'silent' });

/** Mean microseconds per call of `commit(i)` over `count` calls. */
async function timeCommits(count, commit) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await commit(i);
  return Number(process.hrtime.bigint() - started) / 1e3 / count;
}

async function benchCommits(kind, db) {
  const schema = `bench_jobs_${randomBytes(4).toString('hex')}`;
  await migrate(db, schema);
  const outbox = new FinalMetricsOutbox(db, { schema });
  const stores = {
    baseline: new JobStore(db, { schema }),
    subject: new JobStore(db, { schema, interceptors: [outbox.interceptor] }),
  };
  let sequence = 0;
  const runningJobs = async (count) => {
    const ids = [];
    for (let i = 0; i < count; i++) {
      const id = `job-${++sequence}`;
      await stores.baseline.create({ id, type: 'csv-quality' });
      await stores.baseline.start(id);
      ids.push(id);
    }
    return ids;
  };
  // One running job per side receives the non-terminal commits (metric updates while running).
  const [progressBaseline, progressSubject] = await runningJobs(2);
  const progressOf = { baseline: progressBaseline, subject: progressSubject };
  const samples = { nonTerminal: { baseline: [], subject: [] }, terminal: { baseline: [], subject: [] } };
  for (let round = -1; round < rounds; round++) {
    // Alternate which side goes first; round -1 is the warm-up and is not recorded.
    const order = round % 2 === 0 ? ['baseline', 'subject'] : ['subject', 'baseline'];
    for (const side of order) {
      const store = stores[side];
      const nonTerminal = await timeCommits(commitsPerRound, (i) =>
        store.recordMetrics(progressOf[side], { counters: { rows: i } }),
      );
      const ids = await runningJobs(commitsPerRound);
      const terminal = await timeCommits(commitsPerRound, (i) =>
        store.complete(ids[i], { counters: { rows: i } }),
      );
      if (round >= 0) {
        samples.nonTerminal[side].push(nonTerminal);
        samples.terminal[side].push(terminal);
      }
    }
  }
  await db.query(`DROP SCHEMA "${schema}" CASCADE`);
  const summary = (pair) => ({
    baseline_us: Math.round(mean(pair.baseline)),
    subject_us: Math.round(mean(pair.subject)),
    ratio: Math.round((mean(pair.subject) / mean(pair.baseline)) * 1000) / 1000,
  });
  const result = {
    store: kind,
    non_terminal: summary(samples.nonTerminal),
    terminal: summary(samples.terminal),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result;
}

async function benchRelay(db, peer) {
  const schema = `bench_relay_${randomBytes(4).toString('hex')}`;
  await migrate(db, schema);
  // Terminal jobs and their outbox rows, written in bulk (setup, not measured).
  await db.query(
    `INSERT INTO "${schema}".jobs (id, type, status, input, attempts, metrics, error, version, created_at, updated_at, started_at, finished_at)
     SELECT 'relay-' || i, 'csv-quality', 'Done', '{}', 1, jsonb_build_object('counters', jsonb_build_object('rows', i), 'durationsMs', '{}'::jsonb),
            NULL, 3, now(), now(), now(), now()
     FROM generate_series(1, $1) AS i`,
    [relayDocuments],
  );
  const outbox = new FinalMetricsOutbox(db, { schema });
  const client = createOpenSearchClient({
    node: peer.url,
    region: peer.region,
    service: 'es',
    credentials: async () => peer.defaultCredentials,
    maxRetries: 0,
  });
  const enqueued = await outbox.reconcile(relayDocuments);
  const documents = (await outbox.claimDue(relayDocuments, 0)).map((entry) => entry.document);
  const batchSize = 500;
  const relay = new FinalMetricsRelay({
    outbox,
    sink: new OpenSearchFinalMetricsSink(client, { index: 'job-metrics-relay' }),
    logger,
    batchSize,
  });
  // Ceiling: the same documents in the same bulk requests straight from memory, no database.
  const rawSink = new OpenSearchFinalMetricsSink(client, { index: 'job-metrics-raw' });
  const rawStarted = performance.now();
  for (let i = 0; i < documents.length; i += batchSize)
    await rawSink.deliver(documents.slice(i, i + batchSize));
  const rawSeconds = (performance.now() - rawStarted) / 1000;
  const relayStarted = performance.now();
  const delivered = await relay.drain();
  const relaySeconds = (performance.now() - relayStarted) / 1000;
  if (delivered !== enqueued || peer.documentIds('job-metrics-relay').length !== relayDocuments)
    throw new Error(`relay delivered ${delivered} of ${enqueued}`);
  await db.query(`DROP SCHEMA "${schema}" CASCADE`);
  return {
    documents: relayDocuments,
    batch_size: batchSize,
    relay_docs_per_s: Math.round(relayDocuments / relaySeconds),
    raw_bulk_docs_per_s: Math.round(relayDocuments / rawSeconds),
  };
}

const results = [];
const pglite = await openDatabase();
results.push(await benchCommits('pglite', pglite));
let postgres;
if (databaseUrl) {
  postgres = await openDatabase({ databaseUrl, maxConnections: 4 });
  results.push(await benchCommits('postgres', postgres));
} else process.stdout.write('no BENCH_DATABASE_URL/TEST_DATABASE_URL: Postgres skipped\n');

const peer = await new OpenSearchPeer({ kind: 'sigv4' }).start();
const relay = await benchRelay(postgres ?? pglite, peer);
relay.store = postgres ? 'postgres' : 'pglite';
await peer.stop();
await pglite.close();
await postgres?.close();

const headline = results[0].non_terminal;
const worstNonTerminal = Math.max(...results.map((r) => r.non_terminal.ratio));
writeResult({
  name: 'job-commit',
  unit: 'µs per non-terminal commit on PGlite (ratio = subject / baseline, lower is better)',
  subject: headline.subject_us,
  baseline: headline.baseline_us,
  ratio: headline.ratio,
  target: '<= 1.10 (interceptor overhead <= 10% on non-terminal commits); relay >= 2000 docs/s',
  met:
    worstNonTerminal <= 1.1 && relay.relay_docs_per_s >= 2000
      ? true
      : `non-terminal worst ratio ${worstNonTerminal}, relay ${relay.relay_docs_per_s} docs/s`,
  commits: results,
  relay,
  rounds,
  commits_per_round: commitsPerRound,
  load_average_1m: Math.round(loadavg()[0] * 100) / 100,
});
