import type { Agent } from 'node:https';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { SNSClientConfig } from '@aws-sdk/client-sns';
import { createAwsCredentialProvider } from '@stratus/aws/credentials';
import { createObjectReader, type ObjectReader } from '@stratus/aws/objects';
import { createSnsMessageVerifier } from '@stratus/aws/sns';
import {
  awsRegionOf,
  createLogger,
  createService,
  type Logger,
  type Service,
  type StatsRegistry,
  type Tracing,
} from '@stratus/core';
import { LocalFolderReportStore, type ReportStore, S3ReportStore } from '../adapters/report-store.js';
import {
  SdkSubscriptionConfirmer,
  SubscribeUrlConfirmer,
  type SubscriptionConfirmer,
} from '../adapters/subscription-confirmer.js';
import type { FileProcessingSettings } from '../config/settings.js';
import type { RulesetCatalog } from '../domain/ruleset-selection.js';
import { type JobQueries, jobRoutes } from '../handlers/job-routes.js';
import { snsDeliveryRoutes } from '../handlers/sns-delivery.js';
import { type DataQualityJobStore, DataQualityRunner } from './data-quality-job.js';
import { InProcessDispatcher } from './in-process-dispatcher.js';
import { type JobDispatcher, JobIntake } from './job-intake.js';

/** What the composition root is given besides settings; tests hand in loopback clients here. */
export interface FileProcessingDependencies {
  settings: FileProcessingSettings;
  jobs: DataQualityJobStore;
  /** Reads jobs for the job API (JOBS_API_ENABLED); usually the same store as `jobs`. */
  jobQueries?: JobQueries;
  rulesets: RulesetCatalog;
  logger?: Logger;
  /** Extra S3 client configuration (credentials for s3rver in tests). */
  s3Config?: S3ClientConfig;
  /** Extra SNS client configuration for ConfirmSubscription. */
  snsConfig?: SNSClientConfig;
  /** The https agent used to download SNS signing certificates (a loopback CA in tests). */
  certificateAgent?: Agent;
  /** Runs at shutdown after the dispatcher has finished its jobs (e.g. closing the job store). */
  afterDispatcherClosed?: () => Promise<void>;
  /** From `configureTracing`: each delivery gets a SERVER span continuing SNS's trace header. */
  tracing?: Tracing;
  /** Default: the in-process pool of WORKER_CONCURRENCY workers. */
  dispatcher?: (runner: DataQualityRunner) => JobDispatcher;
}

/** The credentials every AWS client of the process uses: the SDK chain (IRSA on EKS) or Google WIF. */
export function awsClientBase(settings: FileProcessingSettings) {
  const region = awsRegionOf(settings);
  return {
    ...(region ? { region } : {}),
    credentials: createAwsCredentialProvider(settings, region ? { region } : {}),
  };
}

export function createS3Client(settings: FileProcessingSettings, extra: S3ClientConfig = {}): S3Client {
  return new S3Client({
    ...awsClientBase(settings),
    ...(settings.AWS_ENDPOINT_URL_S3 ? { endpoint: settings.AWS_ENDPOINT_URL_S3 } : {}),
    forcePathStyle: settings.S3_FORCE_PATH_STYLE,
    ...extra,
  });
}

/** The runner the listener's workers and the CLI share: objects from S3 or LOCAL_S3_ROOT, DuckDB, reports. */
export function createDataQualityRunner(
  settings: FileProcessingSettings,
  rulesets: RulesetCatalog,
  logger: Logger,
  s3Config: S3ClientConfig = {},
): { runner: DataQualityRunner; objects: ObjectReader; close(): void } {
  let s3: S3Client | undefined;
  const s3Client = () => {
    s3 ??= createS3Client(settings, s3Config);
    return s3;
  };
  const objects = createObjectReader(settings, s3Client);
  const reports: ReportStore = settings.LOCAL_S3_ROOT
    ? new LocalFolderReportStore(settings.LOCAL_S3_ROOT)
    : new S3ReportStore(s3Client());
  const runner = new DataQualityRunner({
    objects,
    reports,
    rulesets,
    profiler: {
      memoryLimit: settings.DQ_DUCKDB_MEMORY_LIMIT,
      threads: settings.DQ_DUCKDB_THREADS,
      tempRoot: settings.DQ_TEMP_DIR,
      rejectedRowsListed: settings.DQ_REJECTED_ROWS_LISTED,
    },
    resultsPrefix: settings.DQ_RESULTS_PREFIX,
    ...(settings.DQ_RESULTS_BUCKET ? { resultsBucket: settings.DQ_RESULTS_BUCKET } : {}),
    logger,
  });
  return { runner, objects, close: () => s3?.destroy() };
}

export interface FileProcessingService {
  service: Service;
  intake: JobIntake;
  dispatcher: JobDispatcher;
  runner: DataQualityRunner;
}

/** The listener: SNS deliveries on POST /, probes, and the dispatcher that runs the jobs. */
export async function createFileProcessingService(
  deps: FileProcessingDependencies,
): Promise<FileProcessingService> {
  const { settings } = deps;
  if (settings.INGEST_MODE === 'sns-http' && settings.SNS_TOPIC_ARN_ALLOWLIST.length === 0)
    throw new Error(
      'SNS_TOPIC_ARN_ALLOWLIST: required to serve SNS deliveries (which topics may create jobs)',
    );
  const logger = deps.logger ?? createLogger(settings);
  const {
    runner,
    objects,
    close: closeRunner,
  } = createDataQualityRunner(settings, deps.rulesets, logger, deps.s3Config);
  const dispatcher =
    deps.dispatcher?.(runner) ??
    new InProcessDispatcher(
      runner,
      deps.jobs,
      settings.WORKER_CONCURRENCY,
      logger.child({ component: 'worker-pool' }),
    );
  const intake = new JobIntake(deps.jobs, dispatcher, logger.child({ component: 'job-intake' }));
  const verifier = createSnsMessageVerifier(
    settings,
    deps.certificateAgent ? { httpsAgent: deps.certificateAgent } : {},
  );
  const trustedHost = new RegExp(settings.SNS_TRUSTED_CERT_HOST_PATTERN);
  const sdkConfirmer =
    settings.SNS_CONFIRM_WITH === 'sdk'
      ? new SdkSubscriptionConfirmer({
          ...awsClientBase(settings),
          ...(settings.AWS_ENDPOINT_URL_SNS ? { endpoint: settings.AWS_ENDPOINT_URL_SNS } : {}),
          ...deps.snsConfig,
        })
      : undefined;
  const confirmer: SubscriptionConfirmer =
    sdkConfirmer ??
    new SubscribeUrlConfirmer(trustedHost, settings.SNS_CERT_FETCH_TIMEOUT_MS, deps.certificateAgent);

  let stats: StatsRegistry | undefined;
  const service = await createService({
    settings,
    logger,
    ...(deps.tracing ? { tracing: deps.tracing } : {}),
    routes: async (app) => {
      if (settings.JOBS_API_ENABLED) {
        if (!deps.jobQueries) throw new Error('JOBS_API_ENABLED: the job store cannot be queried here');
        jobRoutes(app, {
          jobs: deps.jobQueries,
          objects,
          resultsPrefix: settings.DQ_RESULTS_PREFIX,
          ...(settings.DQ_RESULTS_BUCKET ? { resultsBucket: settings.DQ_RESULTS_BUCKET } : {}),
        });
      }
      await snsDeliveryRoutes(app, {
        verifier,
        confirmer,
        intake,
        bodyLimitBytes: settings.SNS_BODY_LIMIT_BYTES,
        serviceName: settings.SERVICE_NAME,
        logger: logger.child({ component: 'sns-listener' }),
        stats: () => stats as StatsRegistry,
      });
    },
  });
  stats = service.stats;
  if (dispatcher instanceof InProcessDispatcher) {
    service.stats.gauge('jobs_queued', () => dispatcher.queued);
    service.stats.gauge('jobs_running', () => dispatcher.active);
  }
  // One hook, in this order: running jobs finish and commit, then their clients and the store close.
  service.onShutdown('dispatcher', async () => {
    await dispatcher.close();
    sdkConfirmer?.close();
    closeRunner();
    await deps.afterDispatcherClosed?.();
  });
  return { service, intake, dispatcher, runner };
}
