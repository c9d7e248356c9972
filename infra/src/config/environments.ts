/**
 * Per-environment settings for every stack, typed so that a missing or misspelt field fails the build
 * rather than the deployment. Account ids are placeholders until an account is assigned to an
 * environment: override them with `-c account=<id>` (and `-c region=...`) or edit `defaultAccounts`.
 */

export const environmentNames = ['dev', 'test', 'prod'] as const;
export type EnvironmentName = (typeof environmentNames)[number];

/** A container image pinned by digest, never by tag, so a deployment is exactly reproducible. */
export interface ImageDigestReference {
  /** The ECR repository name inside the account, e.g. `stratus/file-processing`. */
  readonly repositoryName: string;
  /** `sha256:<64 hex>`; CI passes the pushed digest with `-c imageDigest.<service>=sha256:...`. */
  readonly digest: string;
}

export interface NetworkConfig {
  readonly cidr: string;
  readonly maxAzs: number;
  /** One NAT gateway per AZ in prod (no single-AZ egress failure); one in total elsewhere (cost). */
  readonly natGateways: number;
}

export interface EksConfig {
  readonly instanceType: string;
  readonly minSize: number;
  readonly desiredSize: number;
  readonly maxSize: number;
  /** CIDRs allowed to reach the public API endpoint (CI runners, operators); private access is always on. */
  readonly publicAccessCidrs: readonly string[];
}

export interface FileProcessingConfig {
  readonly namespace: string;
  readonly serviceAccountName: string;
  /** The bucket clients upload to; created by the stack under this name. */
  readonly inputBucketName: string;
  /** Only objects under this prefix are announced on SNS and readable by the service. */
  readonly inputPrefix: string;
  /** Where data-quality reports are written (same bucket). */
  readonly resultsPrefix: string;
  readonly replicas: number;
  readonly image: ImageDigestReference;
  /** When set, SNS delivers to this HTTPS endpoint (the listener behind a load balancer). */
  readonly httpsEndpoint?: string;
  /** SNS -> SQS (+ DLQ) delivery, the production recommendation for reliable delivery. */
  readonly sqsDelivery: boolean;
}

export interface EvalMetricsConfig {
  readonly namespace: string;
  readonly serviceAccountName: string;
  readonly groundTruthBucketName: string;
  readonly groundTruthPrefix: string;
  readonly langfuseBaseUrl: string;
  /** `traces` (self-hosted Langfuse v3) or `observations` (Langfuse Cloud's v2 API). */
  readonly langfuseReadApi: 'traces' | 'observations';
  /** The evaluation spec (YAML), relative to the repository root; mounted into the pods. */
  readonly specFile: string;
  readonly image: ImageDigestReference;
  /** The repository whose GitHub Actions workflow on `branch` may deploy. */
  readonly github: {
    readonly owner: string;
    readonly repository: string;
    readonly branch: string;
    /** An account has one provider per issuer: reuse it when it already exists. */
    readonly existingOidcProviderArn?: string;
  };
}

export interface PlatformServiceConfig {
  /** URL path under the REST API, e.g. `chat` for `/chat`. */
  readonly path: string;
  readonly runsOn: 'lambda' | 'app-runner';
  /** Requests per day for the service's API key. */
  readonly dailyQuota: number;
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface PlatformConfig {
  readonly services: Readonly<Record<'api' | 'chat' | 's3vector' | 'runner', PlatformServiceConfig>>;
  readonly appRunnerImage: ImageDigestReference;
}

export interface IdentityConfig {
  readonly firebaseProjectId: string;
  /** Lifetime of the credentials handed to a signed-in user. */
  readonly sessionDurationSeconds: number;
}

export interface JobMetricsConfig {
  /** Use an existing OpenSearch domain instead of creating one. */
  readonly existingDomainArn?: string;
  readonly existingDomainEndpoint?: string;
  readonly metricsIndex: string;
  /** The shared Google service account's unique id (the `sub` of its Google-signed ID token). */
  readonly googleServiceAccountUniqueId: string;
  /** The audience the Google side requests its ID token for. */
  readonly googleAudience: string;
  readonly instanceType: string;
  readonly instanceCount: number;
}

export interface EnvironmentConfig {
  readonly project: string;
  readonly envName: EnvironmentName;
  readonly account: string;
  readonly region: string;
  readonly network: NetworkConfig;
  readonly eks: EksConfig;
  readonly fileProcessing: FileProcessingConfig;
  readonly evalMetrics: EvalMetricsConfig;
  readonly platform: PlatformConfig;
  readonly identity: IdentityConfig;
  readonly jobMetrics: JobMetricsConfig;
  /** Days CloudWatch keeps logs. */
  readonly logRetentionDays: number;
  /** Retain data stores (buckets, tables, domain) when a stack is deleted. */
  readonly retainData: boolean;
}

const project = 'stratus';

/** Stands in until CI passes a real digest; a rollout of it fails visibly instead of running a wrong image. */
const unpublishedDigest = `sha256:${'0'.repeat(64)}`;

const platformServices = (scale: number): PlatformConfig['services'] => ({
  api: { path: 'api', runsOn: 'app-runner', dailyQuota: 100_000 * scale, rateLimit: 50, burstLimit: 100 },
  chat: { path: 'chat', runsOn: 'lambda', dailyQuota: 20_000 * scale, rateLimit: 20, burstLimit: 40 },
  s3vector: {
    path: 's3vector',
    runsOn: 'lambda',
    dailyQuota: 50_000 * scale,
    rateLimit: 50,
    burstLimit: 100,
  },
  runner: { path: 'runner', runsOn: 'lambda', dailyQuota: 10_000 * scale, rateLimit: 10, burstLimit: 20 },
});

function baseConfig(envName: EnvironmentName, account: string): EnvironmentConfig {
  const region = 'eu-west-1';
  const name = (suffix: string) => `${project}-${envName}-${suffix}-${account}`;
  return {
    project,
    envName,
    account,
    region,
    network: { cidr: '10.40.0.0/16', maxAzs: 2, natGateways: 1 },
    eks: {
      instanceType: 't3.large',
      minSize: 2,
      desiredSize: 2,
      maxSize: 4,
      publicAccessCidrs: ['0.0.0.0/0'],
    },
    fileProcessing: {
      namespace: 'file-processing',
      serviceAccountName: 'file-processing',
      inputBucketName: name('incoming'),
      inputPrefix: 'from_client/',
      resultsPrefix: 'results/',
      replicas: 2,
      image: { repositoryName: `${project}/file-processing`, digest: unpublishedDigest },
      sqsDelivery: true,
    },
    evalMetrics: {
      namespace: 'eval-metrics',
      serviceAccountName: 'eval-metrics',
      groundTruthBucketName: name('ground-truth'),
      groundTruthPrefix: 'ground-truth/',
      langfuseBaseUrl: 'https://cloud.langfuse.com',
      langfuseReadApi: 'observations',
      specFile: 'services/eval-metrics/spec/evaluation-spec.yaml',
      image: { repositoryName: `${project}/eval-metrics`, digest: unpublishedDigest },
      github: { owner: 'stratus-platform', repository: 'stratus', branch: 'main' },
    },
    platform: {
      services: platformServices(1),
      appRunnerImage: { repositoryName: `${project}/api`, digest: unpublishedDigest },
    },
    identity: { firebaseProjectId: `${project}-${envName}`, sessionDurationSeconds: 3600 },
    jobMetrics: {
      metricsIndex: 'job-metrics',
      googleServiceAccountUniqueId: '100000000000000000001',
      googleAudience: `https://sts.amazonaws.com/${project}-${envName}`,
      instanceType: 't3.small.search',
      instanceCount: 1,
    },
    logRetentionDays: 30,
    retainData: false,
  };
}

/** Placeholder account per environment until real ones are assigned (override with `-c account=`). */
export const defaultAccounts: Readonly<Record<EnvironmentName, string>> = {
  dev: '111111111111',
  test: '222222222222',
  prod: '333333333333',
};

/** Each environment's configuration for the account it deploys to (bucket names embed the account). */
export const environments: Readonly<Record<EnvironmentName, (account: string) => EnvironmentConfig>> = {
  dev: (account) => baseConfig('dev', account),
  test: (account) => ({
    ...baseConfig('test', account),
    network: { cidr: '10.41.0.0/16', maxAzs: 2, natGateways: 1 },
  }),
  prod: (account) => {
    const base = baseConfig('prod', account);
    return {
      ...base,
      network: { cidr: '10.42.0.0/16', maxAzs: 3, natGateways: 3 },
      eks: { ...base.eks, instanceType: 'm6i.large', minSize: 3, desiredSize: 3, maxSize: 10 },
      fileProcessing: {
        ...base.fileProcessing,
        httpsEndpoint: 'https://file-processing.stratus.example.com/',
      },
      platform: { ...base.platform, services: platformServices(10) },
      jobMetrics: { ...base.jobMetrics, instanceType: 'r6g.large.search', instanceCount: 3 },
      logRetentionDays: 365,
      retainData: true,
    };
  },
};
