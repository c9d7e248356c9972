#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { awsRegionOf, createLogger, loadSettingsOrExit } from '@stratus/core';
import { openPollDatabase } from './adapters/database.js';
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

// The AWS SDK takes seconds to load on a busy machine; only ground truth needs it, so it loads in the background.
const bucket = settings.GROUND_TRUTH_BUCKET ?? 'unused';
const bucketReader = Promise.all([import('@aws-sdk/client-s3'), import('@stratus/aws')]).then(
  ([{ S3Client }, { createObjectReader }]) =>
    bucketObjects(
      createObjectReader(
        settings,
        () =>
          new S3Client({
            region: awsRegionOf(settings) ?? 'us-east-1',
            ...(settings.S3_ENDPOINT ? { endpoint: settings.S3_ENDPOINT, forcePathStyle: true } : {}),
          }),
      ),
      bucket,
    ),
);
const objects: ObjectSource = {
  location: `s3://${bucket}`,
  read: async (key) => (await bucketReader).read(key),
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
  metadataKeys: spec.match_keys
    .filter((key) => key.trace.startsWith('metadata.'))
    .map((key) => key.trace.split('.')[1]!),
});

// Opened in the background: PGlite takes seconds to start, and only the poller needs it.
const storage = openPollDatabase({
  databaseUrl: settings.DATABASE_URL,
  dataDir: settings.EVAL_DATA_DIR,
}).then(async (database) => ({
  database,
  store: await PollStore.open(database, `${settings.LANGFUSE_READ_API}:${spec.version}`),
}));
const { service } = await createEvalMetricsService(settings, { spec, storage, source, groundTruth, logger });
// Registered after the poller's hook, so it runs once the poller has stopped. A database still
// opening is left to the process exit rather than holding up shutdown.
let opened: Awaited<typeof storage> | undefined;
void storage.then((value) => {
  opened = value;
});
service.onShutdown('database', () => opened?.database.close());
// Loaded in the background: the service is ready at once and /ready says while ground truth is empty.
if (spec.mode === 'ground_truth') void groundTruth.refresh();
await service.run();
