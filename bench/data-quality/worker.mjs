// One measured run in its own process, so its peak RSS is its own: `job` (the data-quality job on
// built dist/ code: spool from LOCAL_S3_ROOT, DuckDB profile, rules, report written) or `summarize`
// (DuckDB's own SUMMARIZE over read_csv). Prints one JSON line: { ms, cpu_ms, peak_rss_mb, ... }.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { LocalFolderObjectReader } from '@stratus/aws';
import { createLogger } from '@stratus/core';
import { LocalFolderReportStore } from '../../services/file-processing/dist/adapters/report-store.js';
import { DataQualityRunner } from '../../services/file-processing/dist/app/data-quality-job.js';
import { RulesetCatalog } from '../../services/file-processing/dist/domain/ruleset-selection.js';

const [mode, root, bucket, key, memoryLimit, threads] = process.argv.slice(2);
const tempRoot = await mkdtemp(join(root, `tmp-${mode}-`));
const started = performance.now();
const cpu = process.cpuUsage();
let details = {};
if (mode === 'job') {
  const runner = new DataQualityRunner({
    objects: new LocalFolderObjectReader(root),
    reports: new LocalFolderReportStore(root),
    rulesets: new RulesetCatalog([
      {
        name: 'bench',
        prefix: '',
        dqdl: `Rules = [ RowCount > 0, ColumnCount = 8, IsComplete "id", Completeness "email" > 0.9,
          ColumnValues "state" in ["NM", "TX", "CA", "NY", "WA"], ColumnValues "age" between 0 and 120,
          ColumnDataType "joined" = "DATE" ]`,
      },
    ]),
    profiler: { memoryLimit, threads: Number(threads), tempRoot, rejectedRowsListed: 100 },
    resultsPrefix: 'dq-results/',
    logger: createLogger({ SERVICE_NAME: 'bench', ENVIRONMENT: 'test', LOG_LEVEL: 'silent' }),
  });
  const { report } = await runner.check('bench-job', { bucket, key });
  details = { rows: report.profile.rowCount, rules_passed: report.summary.rulesPassed };
} else {
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: memoryLimit,
    threads,
    temp_directory: tempRoot,
  });
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(
    `SUMMARIZE SELECT * FROM read_csv('${join(root, bucket, key).replaceAll("'", "''")}')`,
  );
  details = { columns: reader.currentRowCount };
  connection.closeSync();
  instance.closeSync();
}
const ms = performance.now() - started;
const cpuUsed = process.cpuUsage(cpu);
await rm(tempRoot, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({
    ms: Math.round(ms),
    // All threads of the process (DuckDB's included): less sensitive than wall time to a busy machine.
    cpu_ms: Math.round((cpuUsed.user + cpuUsed.system) / 1000),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    ...details,
  })}\n`,
);
