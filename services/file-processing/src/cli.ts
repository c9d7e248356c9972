import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { EventParseError, parseS3Event } from '@stratus/aws/events';
import {
  configureTracing,
  createLogger,
  isServiceError,
  type Logger,
  loadSettings,
  SettingsError,
} from '@stratus/core';
import { DATA_QUALITY_JOB_TYPE } from './app/data-quality-job.js';
import { createDataQualityRunner, createFileProcessingService } from './app/file-processing-service.js';
import { InProcessDispatcher } from './app/in-process-dispatcher.js';
import { loadRulesetCatalog } from './config/rulesets.js';
import { type FileProcessingSettings, fileProcessingSettings } from './config/settings.js';
import { type IncomingFile, incomingFilesOf } from './domain/s3-objects.js';
import { type CliCommand, eventsOf, parseCliArguments, USAGE, UsageError } from './handlers/cli-arguments.js';

export const EXIT_OK = 0;
export const EXIT_JOB_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

const processIo: CliIo = {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
};

/** The CLI; resolves to the exit code. Output: results on stdout, logs (JSON) and errors on stderr. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCliArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`error: ${error.message}\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (command.command === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  let settings: FileProcessingSettings;
  try {
    settings = loadSettings(fileProcessingSettings, { env: io.env });
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return EXIT_USAGE;
  }
  const logger = createLogger(settings, { destination: io.stderr, pretty: false });
  try {
    return command.command === 'serve'
      ? await serve(settings, logger)
      : await run(command, settings, logger, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof EventParseError) {
      io.stderr.write(`error: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

async function run(
  command: Extract<CliCommand, { command: 'run' }>,
  settings: FileProcessingSettings,
  logger: Logger,
  io: CliIo,
): Promise<number> {
  const input =
    command.source.kind === 'inline'
      ? command.source.json
      : command.source.path === '-'
        ? await text(io.stdin)
        : await readFile(command.source.path, 'utf8').catch((error: Error) => {
            throw new UsageError(`cannot read --events-file: ${error.message}`);
          });
  const files: IncomingFile[] = [];
  for (const { deliveryId, event } of eventsOf(input)) {
    const parsed = parseS3Event(event);
    if (parsed.kind === 'test') continue;
    files.push(...incomingFilesOf(deliveryId ?? `cli-${randomUUID()}`, parsed.records));
  }
  if (files.length === 0) throw new UsageError('the event names no created object');
  if (command.jobId !== undefined && files.length !== 1)
    throw new UsageError(`--job-id runs one job, but the event names ${files.length} objects`);

  const rulesets = await loadRulesetCatalog(settings.DQ_RULESETS_FILE).catch((error: Error) => {
    throw new UsageError(error.message);
  });
  const { runner, close } = createDataQualityRunner(settings, rulesets, logger);
  let failed = 0;
  try {
    if (command.dryRun) {
      for (const file of files) {
        try {
          const { report } = await runner.check(file.jobId, file.source, { dryRun: true });
          io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        } catch (error) {
          failed++;
          io.stderr.write(`error: ${file.source.bucket}/${file.source.key}: ${(error as Error).message}\n`);
        }
      }
      return failed === 0 ? EXIT_OK : EXIT_JOB_FAILED;
    }
    // Loaded only here: --help and --dry-run need no database.
    const { openJobsRuntime } = await import('./app/jobs-runtime.js');
    const jobs = await openJobsRuntime(settings, logger);
    try {
      for (const file of files) {
        const jobId = command.jobId ?? file.jobId;
        if (command.jobId === undefined)
          await jobs.store.create({ id: jobId, type: DATA_QUALITY_JOB_TYPE, input: { source: file.source } });
        // A Kubernetes pod (--job-id) runs as its Job's owner, so its retry resumes the job.
        const owner = command.jobId !== undefined ? settings.JOB_OWNER : undefined;
        const outcome = await runner
          .run(jobs.store, jobId, file.source, owner ? { owner } : {})
          .catch((error: unknown) => {
            // Running under another owner, or already ended: not ours to run; the job is left as it is.
            if (!isServiceError(error) || error.code !== 'illegal_job_transition') throw error;
            return { status: 'NotStarted' as const, error: { code: error.code, message: error.message } };
          });
        if (outcome.status !== 'Done') failed++;
        io.stdout.write(
          `${JSON.stringify(
            outcome.status === 'Done'
              ? { jobId, status: 'Done', report: outcome.reportLocation, summary: outcome.report.summary }
              : { jobId, status: outcome.status, error: outcome.error },
          )}\n`,
        );
      }
      // Deliver the final metrics now; whatever cannot be delivered stays in the outbox for the relay.
      await jobs.deliverFinalMetrics().catch((error: unknown) => {
        logger.warn({ event: 'final_metrics_not_delivered', err: error }, 'final metrics left in the outbox');
      });
    } finally {
      await jobs.close();
    }
  } finally {
    close();
  }
  return failed === 0 ? EXIT_OK : EXIT_JOB_FAILED;
}

async function serve(settings: FileProcessingSettings, logger: Logger): Promise<number> {
  const rulesets = await loadRulesetCatalog(settings.DQ_RULESETS_FILE).catch((error: Error) => {
    throw new UsageError(error.message);
  });
  // Side by side: the database's WebAssembly compiles on V8's background threads while the rest loads.
  // The Kubernetes client and the SQS client take a few hundred ms to load: only when configured.
  const [jobs, tracing, kubernetes, sqs] = await Promise.all([
    import('./app/jobs-runtime.js').then(({ openJobsRuntime }) => openJobsRuntime(settings, logger)),
    configureTracing(settings),
    settings.DISPATCH_MODE === 'kubernetes' ? import('./adapters/kubernetes-dispatcher.js') : undefined,
    settings.INGEST_MODE === 'sqs' ? import('./adapters/sqs-poller.js') : undefined,
  ]);
  const app = await createFileProcessingService({
    settings,
    jobs: jobs.store,
    jobQueries: jobs.store,
    rulesets,
    logger,
    tracing,
    afterDispatcherClosed: () => jobs.close(),
    ...(kubernetes
      ? {
          dispatcher: () =>
            kubernetes.KubernetesDispatcher.fromSettings(settings, logger.child({ component: 'kubernetes' })),
        }
      : {}),
  });
  jobs.startRelay();
  if (sqs) {
    const poller = sqs.SqsPoller.fromSettings(
      settings,
      app.intake,
      logger.child({ component: 'sqs-poller' }),
    );
    poller.start();
    app.service.onShutdown('sqs-poller', () => poller.stop());
  }
  await app.service.run();
  // Jobs left Pending by a previous process (created, never run) are picked up again.
  if (app.dispatcher instanceof InProcessDispatcher || settings.DISPATCH_MODE === 'kubernetes') {
    for (const job of await jobs.store.list({ status: 'Pending' })) {
      if (job.type !== DATA_QUALITY_JOB_TYPE) continue;
      const source = (job.input as { source?: IncomingFile['source'] }).source;
      if (source) await app.dispatcher.dispatch({ jobId: job.id, source });
    }
  }
  return EXIT_OK;
}
