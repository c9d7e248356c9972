import { readFile } from 'node:fs/promises';
import { awsRegionOf, createLogger, loadSettingsOrExit } from '@stratus/core';
import { bucketObjects, GroundTruthCache, type ObjectSource } from './adapters/ground-truth-cache.js';
import { langfuseTraceSource } from './adapters/langfuse.js';
import { PollStore } from './adapters/poll-store.js';
import { createEvalMetricsService } from './app/eval-metrics-service.js';
import { evalMetricsSettings } from './config/settings.js';
import { parseEvaluationSpec, SpecError } from './domain/spec.js';

const USAGE = `eval-metrics: scores LLM traces from Langfuse against versioned ground truth.

Usage: eval-metrics [--help]

Configured by environment variables (or a .env file); see services/eval-metrics/README.md.
Required: EVAL_SPEC_PATH, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY, and GROUND_TRUTH_BUCKET in ground_truth mode.`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const settings = loadSettingsOrExit(evalMetricsSettings);
const logger = createLogger(settings);

let spec: ReturnType<typeof parseEvaluationSpec>;
try {
  spec = parseEvaluationSpec(await readFile(settings.EVAL_SPEC_PATH, 'utf8'), settings.EVAL_SPEC_PATH);
} catch (error) {
  process.stderr.write(
    `${error instanceof SpecError ? error.message : `EVAL_SPEC_PATH: ${(error as Error).message}`}\n`,
  );
  process.exit(1);
}
if (spec.mode === 'ground_truth' && !settings.GROUND_TRUTH_BUCKET) {
  process.stderr.write('Invalid settings (1):\n  - GROUND_TRUTH_BUCKET: required in ground_truth mode\n');
  process.exit(1);
}

// Ground truth comes from a local folder (LOCAL_S3_ROOT: no AWS SDK loaded at all) or from S3, whose
// client loads in the background on first use: the service is ready without it.
const bucket = settings.GROUND_TRUTH_BUCKET ?? 'unused';
const localRoot = settings.LOCAL_S3_ROOT;
let bucketReader: Promise<ObjectSource> | undefined;
const openBucket = async (): Promise<ObjectSource> => {
  if (localRoot) {
    const { LocalFolderObjectReader } = await import('@stratus/aws/local-objects');
    return bucketObjects(new LocalFolderObjectReader(localRoot), bucket);
  }
  const [{ S3Client }, { S3ObjectReader }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@stratus/aws/objects'),
  ]);
  const s3 = new S3Client({
    region: awsRegionOf(settings) ?? 'us-east-1',
    ...(settings.S3_ENDPOINT ? { endpoint: settings.S3_ENDPOINT, forcePathStyle: true } : {}),
  });
  return bucketObjects(new S3ObjectReader(s3), bucket);
};
const objects: ObjectSource = {
  location: `s3://${bucket}`,
  read: async (key) => {
    bucketReader ??= openBucket();
    return (await bucketReader).read(key);
  },
};
const groundTruth = new GroundTruthCache({
  objects,
  latestKey: settings.GROUND_TRUTH_LATEST_KEY,
  bucket: settings.GROUND_TRUTH_BUCKET,
  ttlMs: settings.GROUND_TRUTH_CACHE_TTL,
});
const source = langfuseTraceSource({
  baseUrl: settings.LANGFUSE_BASE_URL,
  publicKey: settings.LANGFUSE_PUBLIC_KEY,
  secretKey: settings.LANGFUSE_SECRET_KEY,
  api: settings.LANGFUSE_READ_API,
  timeoutMs: settings.LANGFUSE_TIMEOUT,
  maxRetries: settings.LANGFUSE_MAX_RETRIES,
  maxScoreConnections: settings.SCORE_WRITE_CONCURRENCY,
  metadataKeys: spec.match_keys
    .filter((key) => key.trace.startsWith('metadata.'))
    .map((key) => key.trace.split('.')[1]!),
});

// Opened once the service listens: only the poller needs it, and embedded PGlite's first start
// (initdb) costs seconds of CPU. The driver (pg or PGlite) loads with it, off the path to ready.
let listening: () => void = () => {};
const storage = new Promise<void>((resolve) => {
  listening = resolve;
})
  .then(() => import('@stratus/jobs/database'))
  .then(async ({ openDatabase }) => {
    const database = await openDatabase({
      databaseUrl: settings.DATABASE_URL,
      dataDir: settings.EVAL_DATA_DIR,
      pgliteTemplatePath: settings.PGLITE_TEMPLATE,
      maxConnections: 4,
    });
    return {
      database,
      store: await PollStore.open(database, `${settings.LANGFUSE_READ_API}:${spec.version}`),
    };
  });
const { service } = await createEvalMetricsService(settings, { spec, storage, source, groundTruth, logger });
// Registered after the poller's hook, so it runs once the poller has stopped. A database still
// opening is left to the process exit rather than holding up shutdown.
let opened: Awaited<typeof storage> | undefined;
storage.then(
  (value) => {
    opened = value;
  },
  () => {}, // reported by the service (/ready, database_open_failed)
);
service.onShutdown('database', () => opened?.database.close());
await service.run();
listening();
// Loaded in the background: the service is ready at once and /ready says while ground truth is empty.
if (spec.mode === 'ground_truth') void groundTruth.refresh();
