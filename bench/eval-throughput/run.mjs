// bench/eval-throughput: the eval-metrics service (built dist/, its own process, as in production)
// scoring traces from the loopback Langfuse peer (in this process): traces scored per minute, time
// from process start to a 200 on /ready, peak RSS, and the service's own CPU time per trace (from
// /proc: a figure the shared machine's load disturbs far less than wall-clock rates). Same-run baseline: the same service with one
// score write in flight (SCORE_WRITE_CONCURRENCY=1), i.e. a sequential scoring loop, alternating
// with the subject after a warm-up. The replaced service's published figures are recorded apart,
// labelled as published, not measured here.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, repoRoot, writeResult } from '../lib/result.mjs';
import { cpuSecondsOf } from '../lib/servers.mjs';

const peersDist = join(repoRoot, 'test/peers/dist/index.js');
const mainDist = join(repoRoot, 'services/eval-metrics/dist/main.js');
if (!existsSync(peersDist) || !existsSync(mainDist)) {
  process.stderr.write('Build first: npm run build (tsc -b)\n');
  process.exit(1);
}
const { LangfusePeer } = await import(peersDist);
// Without Postgres, each round's new PGlite folder starts from the dump `npm start` also uses, not initdb.
const pgliteTemplate = process.env.TEST_DATABASE_URL
  ? undefined
  : await (await import(join(repoRoot, 'packages/jobs/dist/database.js'))).ensurePgliteTemplate();

const SUBJECT_TRACES = Number(process.env.BENCH_TRACES ?? 1200);
const BASELINE_TRACES = Math.max(100, Math.round(SUBJECT_TRACES / 6));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BUCKET = 'stratus-ground-truth';
const SCORES_PER_TRACE = 11;

const DIAGNOSES = [
  ['Neumonía adquirida en la comunidad', 'J18.9'],
  ['Insuficiencia cardíaca congestiva', 'I50.0'],
  ['Hipertensión arterial', 'I10'],
  ['Diabetes mellitus tipo 2', 'E11.9'],
  ['EPOC agudizado', 'J44.1'],
  ['Fibrilación auricular', 'I48.91'],
];
const DESTINATIONS = ['Domicilio', 'Residencia', 'Hospital de media estancia'];
const FOLLOW_UPS = ['Neumología', 'Cardiología', 'Atención primaria', 'Endocrinología'];
const SPEC = `version: bench
output: { from: trace_output, path: extraction }
fields:
  - { name: diagnoses, kind: list, output_path: diagnosticos, item_path: descripcion, column: diagnosticos, match: fuzzy, threshold: 0.85, weight: 2 }
  - { name: icd10, kind: icd10, output_path: diagnosticos, item_path: cie10, column: cie10, credit: hierarchical, weight: 2 }
  - { name: destination, kind: scalar, output_path: destino_alta, column: destino_alta }
  - { name: follow_ups, kind: list, output_path: consultas_seguimiento, column: consultas_seguimiento }
`;

function dataset(count, prefix, base) {
  const rows = ['document_id,diagnosticos,cie10,destino_alta,consultas_seguimiento'];
  const traces = [];
  for (let i = 0; i < count; i++) {
    const [a, b] = [DIAGNOSES[i % 6], DIAGNOSES[(i + 2) % 6]];
    const id = `${prefix}-doc-${i}`;
    rows.push(`${id},"${a[0]}|${b[0]}","${a[1]}|${b[1]}",${DESTINATIONS[i % 3]},${FOLLOW_UPS[i % 4]}`);
    const extraction = {
      diagnosticos: [
        { descripcion: a[0].toLowerCase(), cie10: a[1] },
        { descripcion: b[0], cie10: `${b[1].slice(0, 3)}.8` },
      ],
      destino_alta: DESTINATIONS[i % 3],
      consultas_seguimiento: [FOLLOW_UPS[i % 4]],
    };
    traces.push({
      id: `${prefix}-trace-${i}`,
      timestamp: new Date(base + i * 10).toISOString(),
      metadata: { document_id: id },
      output: { extraction: JSON.stringify(extraction) },
    });
  }
  return { csv: `${rows.join('\n')}\n`, traces };
}

/** User + system CPU time of a process so far, in ms (clock ticks of 10 ms). */
const cpuMsOf = (pid) => cpuSecondsOf(pid) * 1000;

/** Starts the service on a prepared dataset; resolves once it has scored `count` traces. */
async function runService({ label, count, concurrency, workdir, peer }) {
  const started = performance.now();
  const child = spawn(process.execPath, [mainDist], {
    cwd: workdir,
    env: {
      PATH: process.env.PATH,
      SERVICE_NAME: 'eval-metrics',
      ENVIRONMENT: 'test',
      // info: the start-up line carries the URL (PORT=0); scored traces log nothing.
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      EVAL_SPEC_PATH: join(workdir, 'spec.yaml'),
      LANGFUSE_BASE_URL: peer.url,
      LANGFUSE_PUBLIC_KEY: peer.publicKey,
      LANGFUSE_SECRET_KEY: peer.secretKey,
      LOCAL_S3_ROOT: join(workdir, 's3'),
      GROUND_TRUTH_BUCKET: BUCKET,
      POLL_INTERVAL: '100ms',
      INGESTION_DELAY: '0s',
      MAX_TRACES_PER_POLL: '1000',
      POLL_START_AT: new Date(Date.now() - 3_600_000).toISOString(),
      SCORE_WRITE_CONCURRENCY: String(concurrency),
      EMF_ENABLED: 'false',
      EVAL_DATA_DIR: join(workdir, 'pglite'),
      ...(pgliteTemplate ? { PGLITE_TEMPLATE: pgliteTemplate } : {}),
      ...(process.env.TEST_DATABASE_URL ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : {}),
      REPLICA_ID: `bench-${label}`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // With PORT=0 the service's start-up log line says where it listens.
  const url = await new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      if (buffered === undefined) return;
      buffered += chunk;
      const match = /"url":"(http:\/\/[^"]+)"/.exec(buffered);
      if (match) {
        buffered = undefined;
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
  });
  const get = async (path) => {
    const response = await fetch(`${url}${path}`);
    return { status: response.status, body: await response.json() };
  };
  while ((await get('/ready')).status !== 200) await new Promise((r) => setTimeout(r, 5));
  const readyMs = performance.now() - started;
  // CPU the process spent getting there: what start-up costs, whatever the machine's load.
  const readyCpuMs = cpuMsOf(child.pid);
  const readyRss = (await get('/stats')).body.memory.rss_bytes;
  let firstScoredAt;
  let first;
  let peakRss = 0;
  for (;;) {
    const { body } = await get('/stats');
    peakRss = Math.max(peakRss, body.memory.rss_bytes);
    const scored = body.counters.traces_scored ?? 0;
    if (scored > 0 && firstScoredAt === undefined) {
      firstScoredAt = performance.now();
      first = { scored, cpuMs: cpuMsOf(child.pid), peerCpu: process.cpuUsage() };
    }
    if (scored >= count) break;
    if (performance.now() - started > 240_000)
      throw new Error(`${label}: only ${scored}/${count} scored in 240 s`);
    // Not much more often: every /stats answer costs the service CPU that scoring would use.
    await new Promise((r) => setTimeout(r, 50));
  }
  const doneAt = performance.now();
  const cpuPerTrace = (cpuMsOf(child.pid) - first.cpuMs) / (count - first.scored);
  const peerCpu = process.cpuUsage(first.peerCpu);
  const peerCpuPerTrace = (peerCpu.user + peerCpu.system) / 1000 / (count - first.scored);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  // From the first scored trace seen to the last: the database's opening and first poll are start-up, not throughput.
  const perMinute = ((count - first.scored) / (doneAt - firstScoredAt)) * 60_000;
  return {
    load: loadavg()[0],
    readyMs,
    readyCpuMs,
    perMinute,
    cpuPerTrace,
    peerCpuPerTrace,
    readyRssMb: readyRss / 1_048_576,
    peakRssMb: peakRss / 1_048_576,
  };
}

async function round(label, count, concurrency) {
  const workdir = await mkdtemp(join(tmpdir(), `eval-bench-${label}-`));
  const peer = await LangfusePeer.start();
  try {
    const { csv, traces } = dataset(count, `${label}-${Date.now()}`, Date.now() - 1_800_000);
    peer.addTraces(...traces);
    await mkdir(join(workdir, 's3', BUCKET, 'ground-truth'), { recursive: true });
    await writeFile(join(workdir, 's3', BUCKET, 'ground-truth', 'v1.csv'), csv);
    await writeFile(join(workdir, 's3', BUCKET, 'ground-truth', 'LATEST'), 'ground-truth/v1.csv');
    // A fresh spec version per round: a stream of its own in a shared Postgres.
    await writeFile(
      join(workdir, 'spec.yaml'),
      SPEC.replace('version: bench', `version: bench-${label}-${Date.now()}`),
    );
    const result = await runService({ label, count, concurrency, workdir, peer });
    const duplicates = [...peer.scores.values()].filter((score) => score.writes > 1).length;
    if (peer.scores.size !== count * SCORES_PER_TRACE || duplicates > 0)
      throw new Error(
        `${label}: ${peer.scores.size} scores (${duplicates} rewritten), expected ${count * SCORES_PER_TRACE}`,
      );
    process.stdout.write(
      `${label}: ${Math.round(result.perMinute)} traces/min, ${result.cpuPerTrace.toFixed(2)} CPU ms/trace (peer ${result.peerCpuPerTrace.toFixed(2)}), ready in ${Math.round(result.readyMs)} ms (${result.readyCpuMs} ms CPU, RSS ${result.readyRssMb.toFixed(1)} MB), peak RSS ${result.peakRssMb.toFixed(1)} MB, load ${result.load.toFixed(1)}\n`,
    );
    return result;
  } finally {
    await peer.close();
    await rm(workdir, { recursive: true, force: true });
  }
}

// Warm-up (file cache, the peer's JIT), then subject and baseline alternating.
const loadBefore = loadavg()[0];
await round('warmup', 200, 16);
const subject = [];
const baseline = [];
for (let i = 0; i < ROUNDS; i++) {
  subject.push(await round(`subject-${i}`, SUBJECT_TRACES, 16));
  baseline.push(await round(`baseline-${i}`, BASELINE_TRACES, 1));
}

const round1 = (value) => Math.round(value * 10) / 10;
const subjectRate = Math.round(median(subject.map((r) => r.perMinute)));
const baselineRate = Math.round(median(baseline.map((r) => r.perMinute)));
const subjectCpu = median(subject.map((r) => r.cpuPerTrace));
const readyAll = [...subject, ...baseline].map((r) => r.readyMs);
writeResult({
  name: 'eval-throughput',
  unit: 'traces/min, median of rounds (ratio = subject / baseline)',
  subject: subjectRate,
  baseline: baselineRate,
  ratio: Math.round((subjectRate / baselineRate) * 100) / 100,
  target: '>= 10,000 traces/min; < 500 ms to ready; < 100 MB RSS',
  subject_is: `eval-metrics (built dist/, own process), SCORE_WRITE_CONCURRENCY=16, ${SUBJECT_TRACES} traces x ${SCORES_PER_TRACE} scores, POST /api/public/scores each, against the loopback Langfuse peer`,
  baseline_is: `the same service with SCORE_WRITE_CONCURRENCY=1 (a sequential scoring loop), ${BASELINE_TRACES} traces, same run, alternating`,
  database: process.env.TEST_DATABASE_URL
    ? 'postgres (TEST_DATABASE_URL)'
    : 'PGlite (embedded, new folder from the PGLITE_TEMPLATE dump)',
  service_cpu_ms_per_trace: {
    subject_median: Math.round(subjectCpu * 100) / 100,
    baseline_median: Math.round(median(baseline.map((r) => r.cpuPerTrace)) * 100) / 100,
    // What one core running only the service would sustain: the throughput target in CPU terms.
    subject_traces_per_cpu_minute: Math.round(60_000 / subjectCpu),
    // This process: the Langfuse peer answering the service, and the /stats polling.
    peer_subject_median: Math.round(median(subject.map((r) => r.peerCpuPerTrace)) * 100) / 100,
  },
  startup_to_ready_ms: {
    cpu_median: Math.round(median([...subject, ...baseline].map((r) => r.readyCpuMs))),
    median: Math.round(median(readyAll)),
    max: Math.round(Math.max(...readyAll)),
    target: '< 500',
  },
  rss_mb: {
    at_ready_median: round1(median([...subject, ...baseline].map((r) => r.readyRssMb))),
    subject_peak_median: round1(median(subject.map((r) => r.peakRssMb))),
    subject_peak_max: round1(Math.max(...subject.map((r) => r.peakRssMb))),
    target: '< 100',
  },
  rounds: ROUNDS,
  per_round: {
    subject_traces_per_min: subject.map((r) => Math.round(r.perMinute)),
    baseline_traces_per_min: baseline.map((r) => Math.round(r.perMinute)),
    subject_cpu_ms_per_trace: subject.map((r) => Math.round(r.cpuPerTrace * 100) / 100),
    ready_ms: readyAll.map(Math.round),
    subject_peak_rss_mb: subject.map((r) => round1(r.peakRssMb)),
    load_average_1m: subject.map((r) => round1(r.load)),
  },
  // The machine is shared: with a load average far above its 2 cores every figure here is depressed.
  load_average_1m: { before: Math.round(loadBefore * 10) / 10, after: Math.round(loadavg()[0] * 10) / 10 },
  published_original: {
    note: 'Published figures of the service this one replaces; NOT measured in this run or on this machine.',
    traces_per_min: '30-76',
    startup_s: '2-5',
    rss_mb: '150-250',
  },
});
