// bench/sns-listener: signed SNS notifications accepted per second and p99 latency under autocannon
// (50 connections), the file-processing listener vs a bare fastify echo of the same bodies, each in
// its own process, alternating after a warm-up. Every notification carries its own MessageId and
// signature (signed up front by the SNS certificate peer), so each creates a job; the signing
// certificate is fetched once and cached. Target: >= 3,000 notifications/s and p99 < 50 ms.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { s3ObjectCreatedEvent } from '@stratus/aws/events';
import { SnsCertificatePeer } from '@stratus/test-peers';
import autocannon from 'autocannon';
import { mean, repoRoot, writeResult } from '../lib/result.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = 50;
// RSA-2048 signing costs ~0.2-1 ms here: enough envelopes that a measured round never repeats a
// MessageId (see repeated_message_ids), since a repeat takes the cheaper duplicate path.
const ENVELOPES = Number(process.env.BENCH_ENVELOPES ?? 40_000);
const WARM_UP_ENVELOPES = 3_000;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:stratus-file-uploads';

const peer = await new SnsCertificatePeer().start();
const certificateFile = join(mkdtempSync(join(tmpdir(), 'bench-sns-')), 'ca.pem');
writeFileSync(certificateFile, peer.tlsCertificate);

const s3Event = (index) =>
  JSON.stringify(
    s3ObjectCreatedEvent({
      bucket: 'client-uploads',
      key: `from_client/nm_albuquerque/Officer_Detail_${index}.csv`,
      size: 1_048_576,
      eTag: 'd41d8cd98f00b204e9800998ecf8427e',
      sequencer: '0055AED6DCD90281E5',
    }),
  );
const signingStarted = performance.now();
const bodies = [];
for (let i = 0; i < ENVELOPES; i++)
  bodies.push(
    JSON.stringify(
      peer.envelope({ TopicArn: TOPIC, Message: s3Event(i), Subject: 'Amazon S3 Notification' }),
    ),
  );
process.stdout.write(
  `signed ${ENVELOPES} notifications in ${Math.round(performance.now() - signingStarted)} ms\n`,
);

async function startServer(mode) {
  const child = spawn(
    process.execPath,
    [
      // e.g. BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the servers.
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      join(repoRoot, 'bench', 'sns-listener', 'server.mjs'),
      mode,
      certificateFile,
      TOPIC,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: join(repoRoot, 'services', 'file-processing') },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const { value: url } = await lines.next();
  return {
    url,
    /** The server's CPU time so far (all its threads), in µs: it prints it on SIGUSR2. */
    async cpuMicros() {
      child.kill('SIGUSR2');
      return Number((await lines.next()).value);
    },
    stop: () => child.kill('SIGTERM'),
  };
}

async function load(url, seconds, offset, count) {
  let next = 0;
  const result = await autocannon({
    url: `${url}/`,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: {
      'content-type': 'text/plain; charset=UTF-8',
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-topic-arn': TOPIC,
    },
    requests: [
      {
        setupRequest: (request) => {
          request.body = bodies[offset + (next++ % count)];
          return request;
        },
      },
    ],
  });
  if (result.errors > 0) throw new Error(`${url}: ${result.errors} connection errors`);
  return { result, used: next };
}

async function measure(mode) {
  const server = await startServer(mode);
  try {
    // Warm-up on envelopes of its own (JIT, certificate download and cache, PGlite).
    await load(server.url, 1, ENVELOPES - WARM_UP_ENVELOPES, WARM_UP_ENVELOPES);
    const cpuBefore = await server.cpuMicros();
    const { result, used } = await load(server.url, SECONDS, 0, ENVELOPES - WARM_UP_ENVELOPES);
    const cpu = (await server.cpuMicros()) - cpuBefore;
    // Only 2xx answers count as accepted; a 503 (load shedding) or any other refusal does not.
    const accepted = result.requests.total - result.non2xx;
    return {
      rps: accepted / result.duration,
      non_2xx: result.non2xx,
      status_codes: Object.fromEntries(
        Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count]),
      ),
      p99_ms: result.latency.p99,
      p50_ms: result.latency.p50,
      // CPU per answered request in the server process; less moved by other load than req/s.
      cpu_us_per_request: Math.round(cpu / result.requests.total),
      requests: result.requests.total,
      repeated_message_ids: Math.max(0, used - (ENVELOPES - WARM_UP_ENVELOPES)),
    };
  } finally {
    server.stop();
  }
}

/**
 * The ceiling the listener cannot pass: it answers 200 only after the job is committed, so it is
 * measured here too, JobStore.create alone with the same 50 concurrent callers and the same store
 * (group-committed, as in the listener).
 */
async function jobStoreCreatesPerSecond() {
  const { JobStore, migrate, openDatabase } = await import('@stratus/jobs');
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  const db = await openDatabase(databaseUrl ? { databaseUrl, maxConnections: 10 } : {});
  const schema = `bench_store_${process.pid}`;
  await migrate(db, schema);
  const store = new JobStore(db, { schema });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, caller) => {
      for (let i = 0; i < 20; i++)
        await store.create({
          id: `c${caller}-${i}`,
          type: 's3-data-quality',
          input: { source: { bucket: 'b', key: `${i}` } },
        });
    }),
  );
  const perSecond = (CONNECTIONS * 20) / ((performance.now() - started) / 1000);
  await db.query(`DROP SCHEMA "${schema}" CASCADE`);
  await db.close();
  return Math.round(perSecond);
}

const storeCeiling = await jobStoreCreatesPerSecond();
process.stdout.write(`JobStore.create alone: ${storeCeiling}/s\n`);

const runs = { echo: [], listener: [] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0 ? ['echo', 'listener'] : ['listener', 'echo']) {
      const run = await measure(mode);
      runs[mode].push(run);
      process.stdout.write(
        `round ${round + 1} ${mode}: ${Math.round(run.rps)} req/s, p50 ${run.p50_ms} ms, p99 ${run.p99_ms} ms, ${run.cpu_us_per_request} µs CPU/request\n`,
      );
    }
  }
} finally {
  await peer.stop();
}

const subject = mean(runs.listener.map((run) => run.rps));
const baseline = mean(runs.echo.map((run) => run.rps));
const p99 = Math.max(...runs.listener.map((run) => run.p99_ms));
writeResult({
  name: 'sns-listener',
  unit: 'notifications/s (ratio = listener / bare fastify echo)',
  subject: Math.round(subject),
  baseline: Math.round(baseline),
  ratio: Math.round((subject / baseline) * 1000) / 1000,
  target: '>= 3000 notifications/s and p99 < 50 ms',
  met: subject >= 3000 && p99 < 50,
  p99_ms: { listener: p99, echo: Math.max(...runs.echo.map((run) => run.p99_ms)) },
  cpu_us_per_request: {
    listener: Math.round(mean(runs.listener.map((run) => run.cpu_us_per_request))),
    echo: Math.round(mean(runs.echo.map((run) => run.cpu_us_per_request))),
  },
  job_store_creates_per_s: storeCeiling,
  load_average: loadavg().map((value) => Math.round(value * 10) / 10),
  setup: `${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${SECONDS} s after a 1 s warm-up, each server in its own process; every request a signed Notification (SignatureVersion 2, RSA 2048) with its own MessageId creating one Pending job (MessageIds repeat only past the pre-signed envelopes: see repeated_message_ids) in ${process.env.BENCH_DATABASE_URL ? 'Postgres (BENCH_DATABASE_URL)' : 'embedded PGlite'}, group-committed; request logs at info to a file; dispatcher counts only`,
  rounds: runs,
});
