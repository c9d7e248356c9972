import { tmpdir } from 'node:os';
import { awsCredentialSettings, objectReaderSettings, snsVerificationSettings } from '@stratus/aws/settings';
import { envBoolean, envInteger, fullSettings, httpSettings, port, xrayTracingSettings } from '@stratus/core';
import { finalMetricsSettings, jobStoreSettings } from '@stratus/jobs';
import { z } from 'zod';

const duckDbSize = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'must be a size such as 512MB or 2GiB');

const optionalName = z.string().min(1).optional();

/** Every setting of the file-processing service, keyed by environment variable. */
export const fileProcessingSettings = fullSettings
  .extend(httpSettings.shape)
  .extend(xrayTracingSettings.shape)
  .extend(awsCredentialSettings.shape)
  .extend(objectReaderSettings.shape)
  .extend(snsVerificationSettings.shape)
  .extend(jobStoreSettings.shape)
  .extend(finalMetricsSettings.shape)
  .extend({
    SERVICE_NAME: fullSettings.shape.SERVICE_NAME.default('file-processing'),
    PORT: port(8080),
    /** SNS messages are at most 256 KiB; the envelope adds a few KiB of signature and URLs. */
    SNS_BODY_LIMIT_BYTES: envInteger(300 * 1024, 1024),
    /** `sdk`: ConfirmSubscription with the token. `subscribe-url`: GET SubscribeURL, only on a trusted SNS host. */
    SNS_CONFIRM_WITH: z.enum(['sdk', 'subscribe-url']).default('sdk'),
    /** The SDK's own endpoint overrides (VPC endpoints, loopback peers in tests). */
    AWS_ENDPOINT_URL_S3: z.url().optional(),
    AWS_ENDPOINT_URL_SNS: z.url().optional(),
    AWS_ENDPOINT_URL_SQS: z.url().optional(),
    /** Path-style S3 URLs (s3rver, MinIO). */
    S3_FORCE_PATH_STYLE: envBoolean(false),

    /** `sns-http`: SNS POSTs to this listener. `sqs`: long-poll SQS_QUEUE_URL (recommended for production). */
    INGEST_MODE: z.enum(['sns-http', 'sqs']).default('sns-http'),
    SQS_QUEUE_URL: z.url().optional(),
    SQS_WAIT_TIME_SECONDS: envInteger(20, 0, 20),
    SQS_MAX_MESSAGES: envInteger(10, 1, 10),
    SQS_VISIBILITY_TIMEOUT_SECONDS: envInteger(60, 0, 43_200),

    /** `in-process`: a bounded worker pool in this process. `kubernetes`: one batch/v1 Job per file. */
    DISPATCH_MODE: z.enum(['in-process', 'kubernetes']).default('in-process'),
    WORKER_CONCURRENCY: envInteger(2, 1, 64),
    K8S_NAMESPACE: z.string().min(1).default('default'),
    K8S_JOB_IMAGE: optionalName,
    K8S_SERVICE_ACCOUNT: optionalName,
    K8S_ENV_SECRET: optionalName,
    K8S_ENV_CONFIGMAP: optionalName,
    K8S_BACKOFF_LIMIT: envInteger(3, 0, 20),
    K8S_TTL_SECONDS_AFTER_FINISHED: envInteger(3600, 0),
    K8S_JOB_CPU: z.string().min(1).default('1'),
    K8S_JOB_MEMORY: z.string().min(1).default('2Gi'),
    /**
     * Who runs the job of `run --job-id`: in a Kubernetes Job's pod, the Job's uid (the manifest sets it
     * from the pod's controller-uid label). A pod retried after a crash has the same owner and resumes
     * the job its predecessor left Running; any other runner is refused.
     */
    JOB_OWNER: optionalName,
    /** A kubeconfig file; absent: the in-cluster service account, else ~/.kube/config. */
    KUBECONFIG: optionalName,

    /** Where final job metrics go (SigV4); absent: they wait in the job store's outbox. */
    OPENSEARCH_URL: z.url().optional(),
    /** `es` for an OpenSearch Service domain, `aoss` for OpenSearch Serverless. */
    OPENSEARCH_SERVICE: z.enum(['es', 'aoss']).default('es'),

    /** GET /jobs, /jobs/:id and /jobs/:id/report: read-only, unauthenticated; only where the listener is not public. */
    JOBS_API_ENABLED: envBoolean(false),
    /** Reports go here; default the source object's bucket. */
    DQ_RESULTS_BUCKET: optionalName,
    DQ_RESULTS_PREFIX: z.string().default('dq-results/'),
    /** A JSON file: [{ "name", "prefix", "bucket"?, "dqdl" | "dqdlFile" }]. Absent: profile only, no rules. */
    DQ_RULESETS_FILE: optionalName,
    DQ_DUCKDB_MEMORY_LIMIT: duckDbSize.default('512MB'),
    DQ_DUCKDB_THREADS: envInteger(2, 1, 64),
    /** Spooled objects and DuckDB's spill files; needs room for the largest file plus spill. */
    DQ_TEMP_DIR: z.string().min(1).default(tmpdir()),
    DQ_REJECTED_ROWS_LISTED: envInteger(100, 0, 100_000),
  })
  .superRefine((settings, context) => {
    if (settings.AWS_CREDENTIALS_SOURCE === 'google-wif' && !settings.AWS_ROLE_ARN)
      context.addIssue({
        code: 'custom',
        path: ['AWS_ROLE_ARN'],
        message: 'required when AWS_CREDENTIALS_SOURCE=google-wif',
      });
    if (settings.IMPERSONATE_FOR_AWS_WIF && !settings.SHARED_SA_EMAIL)
      context.addIssue({
        code: 'custom',
        path: ['SHARED_SA_EMAIL'],
        message: 'required when IMPERSONATE_FOR_AWS_WIF=true',
      });
    if (settings.INGEST_MODE === 'sqs' && !settings.SQS_QUEUE_URL)
      context.addIssue({ code: 'custom', path: ['SQS_QUEUE_URL'], message: 'required when INGEST_MODE=sqs' });
    if (settings.DISPATCH_MODE === 'kubernetes' && !settings.K8S_JOB_IMAGE)
      context.addIssue({
        code: 'custom',
        path: ['K8S_JOB_IMAGE'],
        message: 'required when DISPATCH_MODE=kubernetes',
      });
  });

export type FileProcessingSettings = z.output<typeof fileProcessingSettings>;
