import { App, AspectPriority, Aspects, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { EnvironmentConfig, EnvironmentName } from './config/environments.js';
import { environmentNames } from './config/environments.js';
import {
  type EnvironmentOverrides,
  imageServices,
  resolveEnvironment,
} from './config/resolve-environment.js';
import { ActiveTracingForEveryFunction } from './constructs/active-tracing.js';
import { allowPlaceholdersContext } from './constructs/build-inputs.js';
import { EvalMetricsStack } from './stacks/eval-metrics-stack.js';
import { FileProcessingStack } from './stacks/file-processing-stack.js';
import { IdentityStack } from './stacks/identity-stack.js';
import { JobMetricsStack } from './stacks/job-metrics-stack.js';
import { NetworkStack } from './stacks/network-stack.js';
import { PlatformStack } from './stacks/platform-stack.js';

export interface EnvironmentStacks {
  readonly config: EnvironmentConfig;
  readonly network: NetworkStack;
  readonly fileProcessing: FileProcessingStack;
  readonly evalMetrics: EvalMetricsStack;
  readonly platform: PlatformStack;
  readonly identity: IdentityStack;
  readonly jobMetrics: JobMetricsStack;
}

export interface StratusAppOptions {
  /** Environments to build; all of them when omitted. */
  readonly environments?: readonly EnvironmentName[];
  readonly overrides?: EnvironmentOverrides;
  /** Synthesize with placeholder Lambda bundles when the real ones are not built (tests, offline synth). */
  readonly allowPlaceholders?: boolean;
  readonly outdir?: string;
  /** Run cdk-nag's AwsSolutions checks at synth (default true; the synth benchmark turns them off for its baseline). */
  readonly runChecks?: boolean;
}

/** Feature flags this app is written against (new apps get them from `cdk init`). */
const featureFlags = {
  '@aws-cdk/aws-eks:useNativeOidcProvider': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/core:checkSecretUsage': true,
  '@aws-cdk/aws-apigateway:disableCloudWatchRole': true,
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
};

export function stackName(config: EnvironmentConfig, part: string): string {
  return `${config.project}-${config.envName}-${part}`;
}

/** Every stack of one environment, wired together by direct references (no lookups: synth stays offline). */
export function addEnvironment(app: App, config: EnvironmentConfig): EnvironmentStacks {
  const env = { account: config.account, region: config.region };
  const common = (part: string, description: string) => ({
    env,
    config,
    stackName: stackName(config, part),
    description,
    terminationProtection: config.envName === 'prod',
  });
  const network = new NetworkStack(app, stackName(config, 'network'), common('network', 'VPC, subnets, NAT'));
  const jobMetrics = new JobMetricsStack(
    app,
    stackName(config, 'job-metrics'),
    common('job-metrics', 'OpenSearch metrics, WIF writer'),
  );
  const fileProcessing = new FileProcessingStack(app, stackName(config, 'file-processing'), {
    ...common('file-processing', 'EKS cluster; S3 -> SNS -> file-processing listener and jobs'),
    vpc: network.vpc,
    metricsDomain: { arn: jobMetrics.domainArn, endpoint: jobMetrics.domainEndpoint },
  });
  const evalMetrics = new EvalMetricsStack(app, stackName(config, 'eval-metrics'), {
    ...common('eval-metrics', 'Evaluation metrics service, Langfuse keys, CI deploy role'),
    cluster: fileProcessing.cluster,
    otherRepositories: [fileProcessing.repository],
  });
  const platform = new PlatformStack(
    app,
    stackName(config, 'platform'),
    common('platform', 'REST API, platform services'),
  );
  const identity = new IdentityStack(
    app,
    stackName(config, 'identity'),
    common('identity', 'Sign-in exchange and profiles'),
  );
  for (const stack of [network, fileProcessing, evalMetrics, platform, identity, jobMetrics]) {
    Tags.of(stack).add('project', config.project);
    Tags.of(stack).add('environment', config.envName);
  }
  return { config, network, fileProcessing, evalMetrics, platform, identity, jobMetrics };
}

/** The CDK app: the stacks of the chosen environments, X-Ray on every function, cdk-nag's AwsSolutions. */
export function createStratusApp(options: StratusAppOptions = {}): {
  app: App;
  environments: EnvironmentStacks[];
} {
  const app = new App({
    // CDK's built-in template validation takes ~35 s per environment here; cdk-nag checks the app and
    // `cdk deploy` has CloudFormation validate the templates anyway.
    builtinCloudFormationValidation: false,
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: { ...featureFlags, [allowPlaceholdersContext]: options.allowPlaceholders ?? false },
  });
  // The cdk CLI passes `-c env=... -c imageDigest.<service>=...` as context to the App.
  const contextEnv = app.node.tryGetContext('env') as unknown;
  const names = options.environments ?? (contextEnv === undefined ? environmentNames : [contextEnv]);
  const overrides = options.overrides ?? overridesFromContext(app);
  const environments = names.map((name) => addEnvironment(app, resolveEnvironment(name, overrides)));
  Aspects.of(app).add(new ActiveTracingForEveryFunction(), { priority: AspectPriority.MUTATING });
  if (options.runChecks ?? true)
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, environments };
}

function overridesFromContext(app: App): EnvironmentOverrides {
  const text = (key: string) => {
    const value = app.node.tryGetContext(key) as unknown;
    return value === undefined ? undefined : String(value);
  };
  const digests: NonNullable<EnvironmentOverrides['imageDigests']> = {};
  for (const service of imageServices) {
    const digest = text(`imageDigest.${service}`);
    if (digest !== undefined) digests[service] = digest;
  }
  const account = text('account');
  const region = text('region');
  return { ...(account ? { account } : {}), ...(region ? { region } : {}), imageDigests: digests };
}
