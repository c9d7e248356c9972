// bench/data-quality: the data-quality job on a generated CSV (default 200 MB) vs DuckDB's own
// `SUMMARIZE SELECT * FROM read_csv(...)` on the same file, each in its own process (peak RSS is
// per process), alternating after a warm-up on a small file. Target: job time <= 1.5x DuckDB's.
// BENCH_DQ_SIZE_MB=1024 runs the 1 GB bounded-memory case; BENCH_ROUNDS rounds (default 1).
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mean, repoRoot, writeResult } from '../lib/result.mjs';

const SIZE_MB = Number(process.env.BENCH_DQ_SIZE_MB ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const MEMORY_LIMIT = process.env.BENCH_DQ_MEMORY_LIMIT ?? '512MB';
const THREADS = process.env.BENCH_DQ_THREADS ?? '2';
const BUCKET = 'bench-bucket';

const STATES = ['NM', 'TX', 'CA', 'NY', 'WA'];
const NAMES = ['Ann Lee', 'Bo Chen', 'Cy Diaz', 'Dee Evans', 'Eli "Fox" Grant', 'Fay, Jr.'];

/** Writes a CSV of about `megabytes`, with quoting, empty values and some duplicate rows. */
async function generateCsv(path, megabytes) {
  const target = megabytes * 1024 * 1024;
  const out = createWriteStream(path);
  out.write('id,name,state,age,email,joined,score,note\n');
  let written = 0;
  let id = 0;
  let chunk = '';
  while (written < target) {
    id++;
    const name = NAMES[id % NAMES.length];
    const quotedName = name.includes('"') || name.includes(',') ? `"${name.replaceAll('"', '""')}"` : name;
    const email = id % 37 === 0 ? '' : `user${id}@example.org`;
    const day = String((id % 28) + 1).padStart(2, '0');
    const month = String((id % 12) + 1).padStart(2, '0');
    const line =
      id % 1000 === 0
        ? chunk.slice(chunk.lastIndexOf('\n', chunk.length - 2) + 1)
        : `${id},${quotedName},${STATES[id % STATES.length]},${18 + (id % 60)},${email},20${10 + (id % 15)}-${month}-${day},${(id % 1000) / 10},"free text, row ${id}"\n`;
    chunk += line;
    if (chunk.length > 1 << 20) {
      written += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
      chunk = '';
    }
  }
  out.end(chunk);
  await new Promise((resolve) => out.once('finish', resolve));
}

function measure(mode, root, key) {
  const output = execFileSync(
    process.execPath,
    [join(repoRoot, 'bench', 'data-quality', 'worker.mjs'), mode, root, BUCKET, key, MEMORY_LIMIT, THREADS],
    { cwd: join(repoRoot, 'services', 'file-processing'), encoding: 'utf8' },
  );
  return JSON.parse(output.trim().split('\n').at(-1));
}

const root = await mkdtemp(join(tmpdir(), 'bench-dq-'));
try {
  await mkdir(join(root, BUCKET), { recursive: true });
  await generateCsv(join(root, BUCKET, 'warm-up.csv'), 5);
  const key = `generated-${SIZE_MB}mb.csv`;
  const generatedAt = performance.now();
  await generateCsv(join(root, BUCKET, key), SIZE_MB);
  const bytes = (await stat(join(root, BUCKET, key))).size;
  process.stdout.write(
    `generated ${Math.round(bytes / 1048576)} MB in ${Math.round(performance.now() - generatedAt)} ms\n`,
  );

  measure('job', root, 'warm-up.csv');
  measure('summarize', root, 'warm-up.csv');
  const runs = { job: [], summarize: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0 ? ['job', 'summarize'] : ['summarize', 'job']) {
      const run = measure(mode, root, key);
      runs[mode].push(run);
      process.stdout.write(`round ${round + 1} ${mode}: ${JSON.stringify(run)}\n`);
    }
  }
  const subject = mean(runs.job.map((run) => run.ms));
  const baseline = mean(runs.summarize.map((run) => run.ms));
  writeResult({
    name: SIZE_MB === 200 ? 'data-quality' : `data-quality-${SIZE_MB}mb`,
    unit: 'ms (ratio = job time / DuckDB SUMMARIZE time, lower is better)',
    subject: Math.round(subject),
    baseline: Math.round(baseline),
    ratio: Math.round((subject / baseline) * 1000) / 1000,
    target: '<= 1.5',
    met: subject / baseline <= 1.5,
    file_mb: Math.round(bytes / 1048576),
    rows: runs.job[0].rows,
    peak_rss_mb: {
      job: Math.max(...runs.job.map((run) => run.peak_rss_mb)),
      summarize: Math.max(...runs.summarize.map((run) => run.peak_rss_mb)),
    },
    duckdb: { memory_limit: MEMORY_LIMIT, threads: Number(THREADS) },
    setup: `generated CSV (8 columns, quoted fields, empties, duplicates); each run in its own process; job = spool from LOCAL_S3_ROOT + DuckDB profile + 7 DQDL rules + report written; ${ROUNDS} round(s) after a 5 MB warm-up`,
    rounds: runs,
  });
} finally {
  await rm(root, { recursive: true, force: true });
}
