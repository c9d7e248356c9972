import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseServiceSettings, envInteger, httpSettings, port, secret } from '@stratus/core';
import { ensurePgliteTemplateFolder } from '@stratus/jobs/database';
import { z } from 'zod';
import type { LocalService, ServicePlacement } from './local-services.js';
import type { LocalStandIns } from './stand-ins.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Made by `npm ci` and made again by the next one: what every local start can reuse. */
const LOCAL_CACHE_DIR = join(repoRoot, 'node_modules', '.cache', 'stratus');

/** The launcher's own settings: where each service listens, where local data and state live. */
export const localPlatformSettings = baseServiceSettings
  .extend(httpSettings.omit({ PORT: true }).shape)
  .extend({
    SERVICE_NAME: baseServiceSettings.shape.SERVICE_NAME.default('local-platform'),
    FILE_PROCESSING_PORT: port(8080),
    EVAL_METRICS_PORT: port(8081),
    IDENTITY_PORT: port(8082),
    DASHBOARD_PORT: port(8090),
    /** Stands in for S3: `<LOCAL_DATA_DIR>/<bucket>/<key>`. Files dropped here are delivered as S3 events. */
    LOCAL_DATA_DIR: z.string().min(1).default('data'),
    /** Job state (PGlite), traces, local keys. Delete it to start from scratch. */
    LOCAL_STATE_DIR: z.string().min(1).default('.stratus'),
    /** The bucket whose folder the delivery loop watches. */
    LOCAL_FILES_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
      .default('stratus-local-files'),
    /** How often the delivery loop looks for new files. */
    LOCAL_SCAN_INTERVAL_MS: envInteger(500, 50, 60_000),
    LOCAL_READY_TIMEOUT_MS: envInteger(60_000, 1),
    /**
     * The caller's own AWS credentials, if any: they reach the services (the environment wins), so the
     * local AWS stand-ins accept them too. A developer's shell with AWS keys set keeps working.
     */
    AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
    AWS_SECRET_ACCESS_KEY: secret(z.string().min(1)).optional(),
    AWS_SESSION_TOKEN: secret(z.string().min(1)).optional(),
    /** When all three are set, evaluation metrics reads and scores that Langfuse instead of the local one. */
    LANGFUSE_BASE_URL: z.url().optional(),
    LANGFUSE_PUBLIC_KEY: z.string().min(1).optional(),
    LANGFUSE_SECRET_KEY: secret(z.string().min(1)).optional(),
  });

export type LocalPlatformSettings = z.output<typeof localPlatformSettings>;

/** The topic local deliveries come from; only local mode trusts it. */
export const LOCAL_FILES_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:stratus-local-files';
/** The role local sign-ins assume; the local STS trusts the local Firebase key for it. */
export const LOCAL_AUTH_ROLE_ARN = 'arn:aws:iam::000000000000:role/stratus-local-user';
export const LOCAL_FIREBASE_PROJECT_ID = 'stratus-local';
export const LOCAL_GROUND_TRUTH_BUCKET = 'stratus-ground-truth';
export const LOCAL_USERS_TABLE = 'users';
/** Reports land in the watched bucket; like an S3 notification filter, the delivery loop skips them. */
export const LOCAL_RESULTS_PREFIX = 'dq-results/';

/**
 * The PGlite data folder made at install (bin/prepare-local.mjs): new local databases are copies of it
 * instead of running initdb. Under node_modules, so a fresh `npm ci` makes it again.
 */
export function localPgliteTemplate(): Promise<string> {
  return ensurePgliteTemplateFolder(LOCAL_CACHE_DIR);
}

/** The local SNS's certificates, made at install too; shared by every LOCAL_STATE_DIR. */
export const LOCAL_SNS_KEYS_FILE = join(LOCAL_CACHE_DIR, 'local-sns-keys.json');

const samplingRule = (name: string, priority: number, method: string, path: string, rate: number) => ({
  RuleName: name,
  Priority: priority,
  ReservoirSize: rate > 0 ? 1 : 0,
  FixedRate: rate,
  ServiceName: '*',
  ServiceType: '*',
  Host: '*',
  HTTPMethod: method,
  URLPath: path,
  ResourceARN: '*',
  Version: 1,
});

/**
 * Locally every request is traced, except the dashboard's own reads of the job API, which it makes
 * every second or two and which would bury the traces worth looking at.
 */
const LOCAL_SAMPLING_RULES = [
  samplingRule('local-dashboard-reads', 1, 'GET', '/jobs*', 0),
  samplingRule('Default', 10000, '*', '*', 1),
];

/** Where each local service writes its spans; the dashboard reads them back. */
export function tracesFileOf(settings: LocalPlatformSettings, service: string): string {
  return `${settings.LOCAL_STATE_DIR}/traces/${service}.jsonl`;
}

/** Where each local service's process comes from and listens: what the pre-flight check looks at. */
export function localServicePlacements(settings: LocalPlatformSettings): ServicePlacement[] {
  return [
    {
      name: 'file-processing',
      entry: 'services/file-processing/dist/main.js',
      args: ['serve'],
      portSetting: 'FILE_PROCESSING_PORT',
      port: settings.FILE_PROCESSING_PORT,
    },
    {
      name: 'eval-metrics',
      entry: 'services/eval-metrics/dist/main.js',
      args: [],
      portSetting: 'EVAL_METRICS_PORT',
      port: settings.EVAL_METRICS_PORT,
      // Its poller scores in the background from its first moment; the others' start-up comes first.
      niceness: 10,
    },
    {
      name: 'identity',
      entry: 'services/identity/dist/main.js',
      args: [],
      portSetting: 'IDENTITY_PORT',
      port: settings.IDENTITY_PORT,
    },
  ];
}

/**
 * The Langfuse evaluation metrics and the dashboard both talk to: the caller's when all three LANGFUSE_*
 * settings are given, else the local one.
 */
export function langfuseConnection(
  settings: LocalPlatformSettings,
  standIns: { langfuse: { url: string; publicKey: string; secretKey: string } },
): { baseUrl: string; publicKey: string; secretKey: string; local: boolean } {
  const {
    LANGFUSE_BASE_URL: baseUrl,
    LANGFUSE_PUBLIC_KEY: publicKey,
    LANGFUSE_SECRET_KEY: secretKey,
  } = settings;
  return baseUrl && publicKey && secretKey
    ? { baseUrl, publicKey, secretKey, local: false }
    : {
        baseUrl: standIns.langfuse.url,
        publicKey: standIns.langfuse.publicKey,
        secretKey: standIns.langfuse.secretKey,
        local: true,
      };
}

/**
 * Every service the local platform runs, with the settings that make it work with no cloud account:
 * job state in PGlite under LOCAL_STATE_DIR, objects under LOCAL_DATA_DIR, AWS APIs answered by the
 * local stand-ins. A variable set in the launcher's own environment wins over these defaults, which is
 * how one service is pointed at real AWS or LocalStack (AWS_ENDPOINT_URL...).
 */
export function localServices(
  settings: LocalPlatformSettings,
  standIns: LocalStandIns,
  /** A PGlite data folder new local databases copy (see localPgliteTemplate). */
  pgliteTemplate: string,
): LocalService[] {
  const env = localServiceEnvironments(settings, standIns, pgliteTemplate);
  return localServicePlacements(settings).map((placement) => ({
    ...placement,
    env: env[placement.name] ?? {},
    // The local SNS serves its signing certificate over TLS with a certificate only this process trusts;
    // the bundle holds the caller's own NODE_EXTRA_CA_CERTS too.
    ...(placement.name === 'file-processing'
      ? { fixedEnv: { NODE_EXTRA_CA_CERTS: standIns.extraCaCertificatesFile } }
      : {}),
  }));
}

function localServiceEnvironments(
  settings: LocalPlatformSettings,
  standIns: LocalStandIns,
  pgliteTemplate: string,
): Record<string, Record<string, string>> {
  const state = settings.LOCAL_STATE_DIR;
  const common = {
    ENVIRONMENT: 'local',
    LOG_LEVEL: settings.LOG_LEVEL,
    AWS_REGION: 'us-east-1',
    ENABLE_TRACING: 'true',
    TRACING_EXPORTER: 'file',
    TRACING_SAMPLER: 'xray-local',
    XRAY_SAMPLING_RULES: JSON.stringify(LOCAL_SAMPLING_RULES),
    // Pretty output is for a person at a terminal; the launcher relays JSON lines.
    NO_COLOR: '1',
    // The SDK's notice that it will need Node 22 from 2027 (known: see DESIGN notes), once per process.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const connection = langfuseConnection(settings, standIns);
  const langfuse: Record<string, string> = {
    LANGFUSE_BASE_URL: connection.baseUrl,
    LANGFUSE_PUBLIC_KEY: connection.publicKey,
    LANGFUSE_SECRET_KEY: connection.secretKey,
    // The local Langfuse holds a sample of recent traces: score them as they come.
    ...(connection.local
      ? {
          POLL_INTERVAL: '2s',
          INGESTION_DELAY: '0s',
          POLL_START_AT: standIns.langfuse.tracesSince.toISOString(),
        }
      : {}),
  };
  return {
    'file-processing': {
      ...common,
      ...standIns.awsCredentials,
      SNS_TOPIC_ARN_ALLOWLIST: LOCAL_FILES_TOPIC_ARN,
      SNS_TRUSTED_CERT_HOST_PATTERN: '127\\.0\\.0\\.1',
      AWS_ENDPOINT_URL_SNS: standIns.sns.apiUrl,
      LOCAL_S3_ROOT: settings.LOCAL_DATA_DIR,
      JOBS_DATA_DIR: `${state}/file-processing/jobs`,
      PGLITE_TEMPLATE: pgliteTemplate,
      DQ_RULESETS_FILE: standIns.rulesetsFile,
      DQ_RESULTS_PREFIX: LOCAL_RESULTS_PREFIX,
      JOBS_API_ENABLED: 'true',
      TRACES_FILE: tracesFileOf(settings, 'file-processing'),
    },
    'eval-metrics': {
      ...common,
      ...langfuse,
      EVAL_SPEC_PATH: standIns.evalSpecFile,
      EVAL_DATA_DIR: `${state}/eval-metrics`,
      PGLITE_TEMPLATE: pgliteTemplate,
      // One replica: after a crash the next run takes the polling lease over at once.
      REPLICA_ID: 'local',
      GROUND_TRUTH_BUCKET: LOCAL_GROUND_TRUTH_BUCKET,
      LOCAL_S3_ROOT: settings.LOCAL_DATA_DIR,
      EMF_ENABLED: 'false',
      TRACES_FILE: tracesFileOf(settings, 'eval-metrics'),
    },
    identity: {
      ...common,
      ...standIns.awsCredentials,
      FIREBASE_PROJECT_ID: LOCAL_FIREBASE_PROJECT_ID,
      FIREBASE_KEY_SET_URL: standIns.firebase.keySetUrl,
      AUTH_ROLE_ARN: LOCAL_AUTH_ROLE_ARN,
      STS_ENDPOINT: standIns.sts.url,
      DYNAMODB_ENDPOINT: standIns.dynamoDb.url,
      USERS_TABLE: LOCAL_USERS_TABLE,
      TRACES_FILE: tracesFileOf(settings, 'identity'),
    },
  };
}
