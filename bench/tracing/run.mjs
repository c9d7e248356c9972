// bench/tracing: requests/s of one route on the Stratus HTTP kit with tracing off, on with every
// request sampled (batch export over OTLP/HTTP to a loopback receiver), and on at 5 %; alternating
// in one run after a warm-up. Targets: 100 % sampled >= 0.75 and 5 % >= 0.90 of untraced.
// The machine is shared, so its load drifts: many short rounds, each measuring the three modes
// back to back, and the ratios are medians of the per-round ratios. Each server's CPU time per
// request is read from /proc too: on a busy machine req/s follows whichever process the scheduler
// favoured, while CPU per request (whose inverse is the throughput a core would give) holds steady.
// The load average is recorded with every round.
// Each mode runs in two server processes, loaded one after the other in every round, and a round's
// figure for the mode is theirs together: two identical servers on this VM differed by up to a fifth
// in req/s for a whole run (V8 settles each process's code and heap its own way), so with one
// process per mode that lottery, not tracing, could decide a ratio.
// Where taskset and two CPUs are there, the servers run on CPU 1 and the load generator (this
// process) and the receiver on CPU 0 (bench/lib/servers.mjs). Each server is warmed up for 5 s
// first: the sampled path of the 5 % server is compiled late, and its first rounds ran slow.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { median, repoRoot, writeResult } from '../lib/result.mjs';
import {
  cpuSecondsOf,
  PINNED_DESCRIPTION,
  pinLoadGeneratorAndServers,
  serverCommand,
} from '../lib/servers.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CONNECTIONS = 50;
const MODES = ['off', 'sampled-100', 'sampled-5'];
const PROCESSES_PER_MODE = 2;
const WARM_UP_SECONDS = 5;
const onServerCpu = pinLoadGeneratorAndServers();

const collector = spawn(process.execPath, [join(repoRoot, 'bench', 'tracing', 'collector.mjs')], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const collectorLines = createInterface({ input: collector.stdout });
const [collectorUrl] = await once(collectorLines, 'line');

// Each server logs here; removed at the end (a run writes hundreds of MB).
const logDir = mkdtempSync(join(tmpdir(), 'stratus-bench-tracing-'));

async function startServer(mode, index) {
  const [command, commandArgs] = serverCommand(onServerCpu, [
    join(repoRoot, 'bench', 'tracing', 'server.mjs'),
    mode,
  ]);
  const child = spawn(command, commandArgs, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, OTLP_ENDPOINT: collectorUrl, LOG_FILE: join(logDir, `${mode}-${index}.log`) },
  });
  const [url] = await once(createInterface({ input: child.stdout }), 'line');
  return { url, cpuSeconds: () => cpuSecondsOf(child.pid), stop: () => child.kill('SIGKILL') };
}

async function load(url, seconds) {
  const result = await autocannon({ url: `${url}/orders/o-1`, connections: CONNECTIONS, duration: seconds });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result;
}

// All servers run for the whole benchmark; only one is loaded at a time.
const servers = Object.fromEntries(
  await Promise.all(
    MODES.map(async (mode) => [
      mode,
      await Promise.all(Array.from({ length: PROCESSES_PER_MODE }, (_, i) => startServer(mode, i))),
    ]),
  ),
);
const runs = Object.fromEntries(MODES.map((mode) => [mode, []]));
try {
  // JIT, connections, exporter
  for (const mode of MODES) for (const server of servers[mode]) await load(server.url, WARM_UP_SECONDS);
  for (let round = 0; round < ROUNDS; round++) {
    // Each mode goes first, second and third equally often.
    const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]);
    if (round % 2 === 1) order.reverse();
    for (const mode of order) {
      let requests = 0;
      let rps = 0;
      let cpuSeconds = 0;
      let p99 = 0;
      for (const server of servers[mode]) {
        const cpuBefore = server.cpuSeconds();
        const result = await load(server.url, SECONDS);
        cpuSeconds += server.cpuSeconds() - cpuBefore;
        requests += result.requests.total;
        rps += result.requests.average / PROCESSES_PER_MODE;
        p99 = Math.max(p99, result.latency.p99);
      }
      const run = {
        load_1m: Math.round(loadavg()[0] * 10) / 10,
        rps,
        p99_ms: p99,
        cpu_us_per_request: Math.round((cpuSeconds * 1e6) / requests),
      };
      runs[mode].push(run);
      process.stdout.write(
        `round ${round + 1} ${mode}: ${Math.round(run.rps)} req/s, p99 ${run.p99_ms} ms, ${run.cpu_us_per_request} µs CPU/request\n`,
      );
    }
  }
} finally {
  for (const server of Object.values(servers).flat()) server.stop();
  rmSync(logDir, { recursive: true, force: true });
}

const rps = (mode) => median(runs[mode].map((run) => run.rps));
const ratioOf = (mode) => median(runs[mode].map((run, i) => run.rps / runs.off[i].rps));
const cpu = (mode) => Math.round(median(runs[mode].map((run) => run.cpu_us_per_request)));
/** Throughput per CPU-second of `mode` relative to off: off's CPU per request over the mode's, per round. */
const cpuRatioOf = (mode) =>
  median(runs[mode].map((run, i) => runs.off[i].cpu_us_per_request / run.cpu_us_per_request));
const loads = MODES.flatMap((mode) => runs[mode].map((run) => run.load_1m));
const round3 = (value) => Math.round(value * 1000) / 1000;
const baseline = rps('off');
const all = rps('sampled-100');
const five = rps('sampled-5');
const allRatio = ratioOf('sampled-100');
const fiveRatio = ratioOf('sampled-5');
collector.kill('SIGTERM');
const [spansReceived] = await once(collectorLines, 'line');
writeResult({
  name: 'tracing',
  unit: 'req/s',
  subject: Math.round(all),
  baseline: Math.round(baseline),
  ratio: round3(allRatio),
  target: '>= 0.75',
  met: allRatio >= 0.75,
  sampled_5_percent: {
    subject: Math.round(five),
    ratio: round3(fiveRatio),
    target: '>= 0.90',
    met: fiveRatio >= 0.9,
    cpu_ratio: round3(cpuRatioOf('sampled-5')),
  },
  cpu_ratio: round3(cpuRatioOf('sampled-100')),
  cpu_us_per_request: { off: cpu('off'), sampled_100: cpu('sampled-100'), sampled_5: cpu('sampled-5') },
  load_average_1m: {
    min: Math.min(...loads),
    median: Math.round(median(loads) * 10) / 10,
    max: Math.max(...loads),
  },
  spans_received: Number(spansReceived),
  statistic: `a mode's req/s in a round: the mean of its ${PROCESSES_PER_MODE} server processes, each loaded for ${SECONDS} s; subject and baseline: median req/s over rounds; ratio: median over rounds of the req/s ratio within a round; cpu_ratio: median over rounds of off CPU µs per request / mode CPU µs per request`,
  pinned: onServerCpu ? PINNED_DESCRIPTION : false,
  setup: `GET /orders/:id JSON with one annotation on the Stratus HTTP kit (request logs to a file), autocannon ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s per mode, order rotated, after ${WARM_UP_SECONDS} s warm-up each; ${PROCESSES_PER_MODE} server processes per mode; tracing on = one SERVER span per request (fastify hooks), trace ids on the log lines, X-Ray rules (reservoir 0, fixed rate 1.0 or 0.05), batch export over OTLP/HTTP JSON from the server's export thread to a loopback receiver in its own process`,
  rounds: runs,
});
