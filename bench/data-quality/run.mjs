// bench/data-quality: the data-quality job on a generated CSV (default 200 MB) vs DuckDB's own
// `SUMMARIZE SELECT * FROM read_csv(...)` on the same file, each in its own process (peak RSS is
// per process), alternating after a warm-up on a small file. Target: job time <= 1.5x DuckDB's.
// BENCH_DQ_SIZE_MB=1024 runs the 1 GB bounded-memory case; BENCH_ROUNDS rounds (default 1).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { mean, repoRoot, writeResult } from '../lib/result.mjs';

const SIZE_MB = Number(process.env.BENCH_DQ_SIZE_MB ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const MEMORY_LIMIT = process.env.BENCH_DQ_MEMORY_LIMIT ?? '512MB';
const THREADS = process.env.BENCH_DQ_THREADS ?? '2';
const BUCKET = 'bench-bucket';

/**
 * Writes a CSV of about `megabytes` with DuckDB's COPY (fast, streaming): quoted fields with commas
 * and quotes, empty values (1 in 37 emails), dates, decimals, and every 1000th row repeated once.
 */
async function generateCsv(path, megabytes) {
  const bytesPerRow = 83;
  const rows = Math.round((megabytes * 1024 * 1024) / bytesPerRow);
  const instance = await DuckDBInstance.create(':memory:', { memory_limit: '256MB', threads: '2' });
  const connection = await instance.connect();
  await connection.run(`
    COPY (
      WITH generated AS (
        SELECT i AS id,
               ['Ann Lee', 'Bo Chen', 'Cy Diaz', 'Dee Evans', 'Eli "Fox" Grant', 'Fay, Jr.'][i % 6 + 1] AS name,
               ['NM', 'TX', 'CA', 'NY', 'WA'][i % 5 + 1] AS state,
               18 + i % 60 AS age,
               CASE WHEN i % 37 = 0 THEN NULL ELSE 'user' || i || '@example.org' END AS email,
               DATE '2010-01-01' + (i % 5000)::INTEGER AS joined,
               round((i % 1000) / 10, 1) AS score,
               'free text, row ' || i AS note
        FROM range(1, ${rows}) AS t(i)
      )
      SELECT * FROM generated UNION ALL SELECT * FROM generated WHERE id % 1000 = 0
    ) TO '${path.replaceAll("'", "''")}' (HEADER, DELIMITER ',')`);
  connection.closeSync();
  instance.closeSync();
}

/** `512MB` -> 512, `2GB` -> 2048 (DuckDB's units are powers of 1000 and 1024 alike; close enough here). */
function megabytesOf(size) {
  const [, value, unit] = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B)$/i.exec(size);
  return (
    Number(value) * { kb: 1 / 1024, mb: 1, gb: 1024, tb: 1024 * 1024 }[unit.toLowerCase().replace('i', '')]
  );
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
  const jobCpu = mean(runs.job.map((run) => run.cpu_ms));
  const summarizeCpu = mean(runs.summarize.map((run) => run.cpu_ms));
  writeResult({
    name: SIZE_MB === 200 ? 'data-quality' : `data-quality-${SIZE_MB}mb`,
    unit: 'ms (ratio = job time / DuckDB SUMMARIZE time, lower is better)',
    subject: Math.round(subject),
    baseline: Math.round(baseline),
    ratio: Math.round((subject / baseline) * 1000) / 1000,
    // The time target is for the 200 MB file; larger files show that memory stays bounded.
    ...(SIZE_MB === 200
      ? { target: '<= 1.5', met: subject / baseline <= 1.5 }
      : {
          target: `job peak RSS <= DuckDB memory_limit + 256 MB (${MEMORY_LIMIT})`,
          met: Math.max(...runs.job.map((run) => run.peak_rss_mb)) <= megabytesOf(MEMORY_LIMIT) + 256,
        }),
    // CPU time of each process, DuckDB's threads included: the same comparison, less moved by other load.
    cpu_ms: { job: Math.round(jobCpu), summarize: Math.round(summarizeCpu) },
    cpu_ratio: Math.round((jobCpu / summarizeCpu) * 1000) / 1000,
    load_average: loadavg().map((value) => Math.round(value * 10) / 10),
    file_mb: Math.round(bytes / 1048576),
    rows: runs.job[0].rows,
    peak_rss_mb: {
      job: Math.max(...runs.job.map((run) => run.peak_rss_mb)),
      summarize: Math.max(...runs.summarize.map((run) => run.peak_rss_mb)),
    },
    duckdb: { memory_limit: MEMORY_LIMIT, threads: Number(THREADS) },
    setup: `generated CSV (8 columns, quoted fields, empties, duplicates); each run in its own process; job = spool from LOCAL_S3_ROOT + DuckDB profile (one pass over the file) + 7 DQDL rules + report written; ${ROUNDS} round(s) after a 5 MB warm-up`,
    rounds: runs,
  });
} finally {
  await rm(root, { recursive: true, force: true });
}
