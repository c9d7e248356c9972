// bench/local-start: time from `npm start` (packages/cli/bin/stratus-local.mjs, what the script runs)
// to the platform_ready line: every service answering /ready and the dashboard listening.
// - first: the first start after install, in an empty state folder (PGlite creates its databases);
// - again: later starts (the state folder kept), the usual case;
// - baseline: a bare Node process listening on a port, in the same rounds: what starting any process
//   costs on this machine right now.
// Needs the build (`npm run bench` builds first). Knob: BENCH_ROUNDS (default 3).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freeSpawnPort } from '@stratus/test-peers';
import { repoRoot, writeResult } from '../lib/result.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TARGET_MS = 3000;
const launcher = join(repoRoot, 'packages/cli/bin/stratus-local.mjs');

/** Spawns, resolves with the ms until `readyLine` is printed, then stops the process and waits for it. */
async function timeToLine(args, env, readyLine) {
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  child.stderr.on('data', (chunk) => output.push(chunk.toString()));
  const elapsed = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes(readyLine)) resolve(performance.now() - started);
      else if (output.length < 200) output.push(line);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before ready:\n${output.join('\n')}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return Math.round(elapsed);
}

async function startPlatform(stateDir) {
  return timeToLine(
    [launcher],
    {
      FILE_PROCESSING_PORT: String(await freeSpawnPort()),
      EVAL_METRICS_PORT: String(await freeSpawnPort()),
      IDENTITY_PORT: String(await freeSpawnPort()),
      DASHBOARD_PORT: String(await freeSpawnPort()),
      LOCAL_DATA_DIR: join(stateDir, 'data'),
      LOCAL_STATE_DIR: join(stateDir, '.stratus'),
      LOG_LEVEL: 'info',
    },
    '"event":"platform_ready"',
  );
}

const bareNode = () =>
  timeToLine(
    ['-e', "require('node:http').createServer().listen(0, '127.0.0.1', () => console.log('listening'))"],
    {},
    'listening',
  );

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const first = [];
const again = [];
const baseline = [];
const loadBefore = loadavg()[0];
for (let round = 0; round < ROUNDS; round++) {
  const stateDir = mkdtempSync(join(tmpdir(), 'stratus-local-start-'));
  try {
    baseline.push(await bareNode());
    first.push(await startPlatform(stateDir));
    again.push(await startPlatform(stateDir));
    baseline.push(await bareNode());
    process.stdout.write(
      `round ${round + 1}: first ${first.at(-1)} ms, again ${again.at(-1)} ms, bare node ${baseline.at(-2)}/${baseline.at(-1)} ms\n`,
    );
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const subject = median(again);
writeResult({
  name: 'local-start',
  unit: 'ms from npm start to every service ready (lower is better; ratio = subject / baseline)',
  subject,
  baseline: median(baseline),
  ratio: Number((subject / median(baseline)).toFixed(2)),
  target: `subject < ${TARGET_MS} ms`,
  met: subject < TARGET_MS,
  first_start_ms: median(first),
  first_start_met: median(first) < TARGET_MS,
  rounds: { first, again, baseline },
  load_average: { before: Number(loadBefore.toFixed(2)), after: Number(loadavg()[0].toFixed(2)) },
});
