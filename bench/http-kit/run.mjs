// bench/http-kit: requests/s of one JSON route served by bare fastify and by the Stratus HTTP kit, both
// with request logging on, to a file, alternating in one run after a warm-up. Target: kit >= 0.80 of bare.
// Bare fastify with no logger at all is measured in the same rounds, for reference.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { median, repoRoot, writeResult } from '../lib/result.mjs';
import { cpuSecondsOf } from '../lib/servers.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;
// Each server logs here; removed at the end (a run writes hundreds of MB).
const logDir = mkdtempSync(join(tmpdir(), 'stratus-bench-http-kit-'));
let servers = 0;

async function startServer(mode) {
  const logFile = join(logDir, `${mode}-${++servers}.log`);
  const child = spawn(process.execPath, [join(repoRoot, 'bench', 'http-kit', 'server.mjs'), mode, logFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
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

async function measure(mode) {
  const server = await startServer(mode);
  try {
    await load(server.url, 1); // warm-up: JIT, connection pool
    const cpuBefore = server.cpuSeconds();
    const result = await load(server.url, SECONDS);
    const cpuUsPerRequest = ((server.cpuSeconds() - cpuBefore) * 1e6) / result.requests.total;
    return {
      rps: result.requests.average,
      p99_ms: result.latency.p99,
      cpu_us_per_request: Math.round(cpuUsPerRequest * 10) / 10,
      load_average_1m: loadavg()[0],
    };
  } finally {
    server.stop();
  }
}

const runs = { bare: [], kit: [], 'bare-unlogged': [] };
const order = ['bare', 'kit', 'bare-unlogged'];
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0 ? order : [...order].reverse()) {
      const run = await measure(mode);
      runs[mode].push(run);
      process.stdout.write(
        `round ${round + 1} ${mode}: ${Math.round(run.rps)} req/s, p99 ${run.p99_ms} ms, ${run.cpu_us_per_request} µs CPU/request, load ${run.load_average_1m.toFixed(1)}\n`,
      );
    }
  }
} finally {
  rmSync(logDir, { recursive: true, force: true });
}

// Medians: on a shared machine one round now and then lands on a burst of other work.
const medianOf = (mode, field) => median(runs[mode].map((run) => run[field]));
const subject = medianOf('kit', 'rps');
const baseline = medianOf('bare', 'rps');
const cpuKit = medianOf('kit', 'cpu_us_per_request');
const cpuBare = medianOf('bare', 'cpu_us_per_request');
const unlogged = medianOf('bare-unlogged', 'rps');
const cpuUnlogged = medianOf('bare-unlogged', 'cpu_us_per_request');
// In every round the kit runs right before or right after bare fastify, so the two share the load of
// that moment: the ratio is the median of the rounds' own ratios.
const roundRatios = runs.kit.map((run, round) => run.rps / runs.bare[round].rps);
const ratio = median(roundRatios);
const thousandths = (value) => Math.round(value * 1000) / 1000;
writeResult({
  name: 'http-kit',
  unit: 'req/s',
  subject: Math.round(subject),
  baseline: Math.round(baseline),
  ratio: thousandths(ratio),
  target: '>= 0.80',
  met: ratio >= 0.8,
  round_ratios: roundRatios.map(thousandths),
  ratio_of_medians: thousandths(subject / baseline),
  reference_bare_unlogged: {
    rps: Math.round(unlogged),
    ratio: thousandths(subject / unlogged),
  },
  cpu_us_per_request: {
    kit: cpuKit,
    bare: cpuBare,
    bare_unlogged: cpuUnlogged,
    ratio_bare_over_kit: thousandths(cpuBare / cpuKit),
  },
  load_average_1m: median([...runs.kit, ...runs.bare].map((run) => run.load_average_1m)),
  setup: `GET /orders/:id JSON, autocannon ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${SECONDS} s after 1 s warm-up; ratio = median of the rounds' kit/bare ratios, other figures medians of the rounds; server in its own process; baseline is bare fastify with its default request logging (incoming request, request completed) to a file, the kit logs request_started/request_completed to a file; bare-unlogged is fastify with no logger`,
  rounds: runs,
});
