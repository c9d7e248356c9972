import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments.js';
import { imageUri } from '../config/resolve-environment.js';
import { repositoryFileText } from '../constructs/build-inputs.js';
import { IrsaRole } from '../constructs/irsa-role.js';
import { acknowledgeRules, arnAsNagShowsIt } from '../constructs/rule-acknowledgements.js';
import { coreSettings } from '../constructs/runtime-settings.js';
import { accessLogsBucket, secureBucket } from '../constructs/secure-bucket.js';
import { serviceRepository } from '../constructs/service-repository.js';
import { httpWorkload, inApplyOrder } from '../kubernetes/workloads.js';

export interface EvalMetricsStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly cluster: eks.Cluster;
  /** Other repositories the CI deploy role pushes to (file processing's). */
  readonly otherRepositories: readonly ecr.IRepository[];
}

/** Name of the Kubernetes Secret CI syncs from the Langfuse secret in Secrets Manager. */
export const langfuseKubernetesSecret = 'langfuse';
const specMountPath = '/etc/eval-metrics';
export const githubOidcIssuer = 'token.actions.githubusercontent.com';

/**
 * The evaluation-metrics service on the shared cluster, its ground truth, its Langfuse keys, and the
 * GitHub Actions deploy identity (OIDC, no stored AWS keys) that builds and rolls out both services.
 */
export class EvalMetricsStack extends Stack {
  readonly repository: ecr.Repository;
  readonly groundTruthBucket: s3.Bucket;
  readonly serviceRole: iam.Role;
  readonly deployRole: iam.Role;
  readonly langfuseSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: EvalMetricsStackProps) {
    super(scope, id, props);
    const { config, cluster } = props;
    const settings = config.evalMetrics;

    this.repository = serviceRepository(this, 'Repository', settings.image.repositoryName, config.retainData);
    const logs = accessLogsBucket(this, config.retainData);
    this.groundTruthBucket = secureBucket(this, 'GroundTruthBucket', {
      bucketName: settings.groundTruthBucketName,
      retain: config.retainData,
      serverAccessLogsBucket: logs,
    });

    this.langfuseSecret = new secretsmanager.Secret(this, 'LangfuseKeys', {
      secretName: `${config.project}/${config.envName}/eval-metrics/langfuse`,
      description: 'Langfuse public and secret API keys (LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY)',
      // Created with placeholders; the real keys are issued by Langfuse and put here by an operator.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ LANGFUSE_PUBLIC_KEY: 'pk-lf-replace-me' }),
        generateStringKey: 'LANGFUSE_SECRET_KEY',
        excludePunctuation: true,
      },
    });
    acknowledgeRules(this.langfuseSecret, [
      {
        id: 'AwsSolutions-SMG4',
        reason: 'Langfuse keys are issued by Langfuse; they are rotated there, not by a Lambda.',
      },
    ]);

    const irsa = new IrsaRole(this, 'ServiceAccountRole', {
      cluster,
      namespace: settings.namespace,
      serviceAccountName: settings.serviceAccountName,
      description: 'eval-metrics pods: read versioned ground truth',
    });
    this.serviceRole = irsa.role;
    acknowledgeRules(this.serviceRole, [
      {
        id: 'AwsSolutions-IAM5',
        finding: `Resource::${arnAsNagShowsIt(this.groundTruthBucket)}/${settings.groundTruthPrefix}*`,
        reason: 'Objects under one prefix of the bucket only.',
      },
    ]);
    this.serviceRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadGroundTruth',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [`${this.groundTruthBucket.bucketArn}/${settings.groundTruthPrefix}*`],
      }),
    );
    this.serviceRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListGroundTruth',
        actions: ['s3:ListBucket'],
        resources: [this.groundTruthBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${settings.groundTruthPrefix}*`] } },
      }),
    );

    this.deployRole = this.createDeployRole(config, cluster, [this.repository, ...props.otherRepositories]);

    new CfnOutput(this, 'DeployRoleArn', {
      value: this.deployRole.roleArn,
      description: 'GitHub repository variable AWS_DEPLOY_ROLE_ARN',
    });
    const workload = httpWorkload({
      name: 'eval-metrics',
      namespace: settings.namespace,
      serviceAccountName: settings.serviceAccountName,
      roleArn: this.serviceRole.roleArn,
      image: imageUri(config, settings.image),
      // Two replicas score without doubling: score ids are deterministic and writes are upserts.
      replicas: 2,
      port: 8080,
      // Names from services/eval-metrics/src/config/settings.ts.
      settings: {
        ...coreSettings(config, 'eval-metrics'),
        LANGFUSE_BASE_URL: settings.langfuseBaseUrl,
        LANGFUSE_READ_API: settings.langfuseReadApi,
        GROUND_TRUTH_BUCKET: settings.groundTruthBucketName,
        GROUND_TRUTH_LATEST_KEY: `${settings.groundTruthPrefix}LATEST`,
        EVAL_SPEC_PATH: `${specMountPath}/spec.yaml`,
        EVAL_DATA_DIR: '/tmp/eval-metrics',
        EMF_ENABLED: 'true',
      },
      files: {
        configMapName: 'eval-metrics-spec',
        mountPath: specMountPath,
        data: {
          'spec.yaml': repositoryFileText(this, settings.specFile, '# placeholder: no evaluation spec\n'),
        },
      },
      secretEnvFrom: [langfuseKubernetesSecret],
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { cpu: '500m', memory: '512Mi' },
    });
    const manifest = new eks.KubernetesManifest(this, 'Workload', {
      cluster,
      manifest: inApplyOrder([
        workload.namespace,
        workload.serviceAccount,
        workload.configMap,
        ...(workload.filesConfigMap ? [workload.filesConfigMap] : []),
        workload.deployment,
        workload.service,
      ]),
    });
    manifest.node.addDependency(this.serviceRole);
  }

  /** GitHub Actions on the configured branch assumes this role through OIDC: no long-lived AWS keys. */
  private createDeployRole(config: EnvironmentConfig, cluster: eks.Cluster, repositories: ecr.IRepository[]) {
    const { owner, repository, branch } = config.evalMetrics.github;
    const { existingOidcProviderArn } = config.evalMetrics.github;
    const provider = existingOidcProviderArn
      ? iam.OidcProviderNative.fromOidcProviderArn(this, 'GithubOidcProvider', existingOidcProviderArn)
      : new iam.OidcProviderNative(this, 'GithubOidcProvider', {
          url: `https://${githubOidcIssuer}`,
          clientIds: ['sts.amazonaws.com'],
        });
    const role = new iam.Role(this, 'GithubDeployRole', {
      description: `GitHub Actions deploys from ${owner}/${repository}@${branch}`,
      assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        StringEquals: {
          [`${githubOidcIssuer}:aud`]: 'sts.amazonaws.com',
          [`${githubOidcIssuer}:sub`]: `repo:${owner}/${repository}:ref:refs/heads/${branch}`,
        },
      }),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EcrLogin',
        actions: ['ecr:GetAuthorizationToken'],
        // GetAuthorizationToken is account-wide: it supports no resource-level permissions.
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EcrPush',
        actions: [
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:CompleteLayerUpload',
          'ecr:DescribeImages',
          'ecr:InitiateLayerUpload',
          'ecr:PutImage',
          'ecr:UploadLayerPart',
        ],
        resources: repositories.map((r) => r.repositoryArn),
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EksDescribe',
        actions: ['eks:DescribeCluster'],
        resources: [cluster.clusterArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadLangfuseSecret',
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [this.langfuseSecret.secretArn],
      }),
    );
    // `cdk deploy` runs through the bootstrap roles; CloudFormation acts with their permissions.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CdkDeploy',
        actions: ['sts:AssumeRole'],
        resources: [
          `arn:${this.partition}:iam::${this.account}:role/cdk-hnb659fds-*-${this.account}-${this.region}`,
        ],
      }),
    );
    acknowledgeRules(role, [
      {
        id: 'AwsSolutions-IAM5',
        reason: 'ecr:GetAuthorizationToken supports no resource-level permissions.',
        finding: 'Resource::*',
      },
      {
        id: 'AwsSolutions-IAM5',
        reason: 'The CDK bootstrap roles of this account and region (deploy, file/image publishing, lookup).',
        finding: `Resource::arn:<AWS::Partition>:iam::${this.account}:role/cdk-hnb659fds-*-${this.account}-${this.region}`,
      },
    ]);
    // Namespace-scoped edit rights: apply the Langfuse secret, watch rollouts; nothing cluster-wide.
    new eks.AccessEntry(this, 'GithubDeployAccess', {
      cluster,
      principal: role.roleArn,
      accessPolicies: [
        eks.AccessPolicy.fromAccessPolicyName('AmazonEKSEditPolicy', {
          accessScopeType: eks.AccessScopeType.NAMESPACE,
          namespaces: [config.evalMetrics.namespace, config.fileProcessing.namespace],
        }),
      ],
    });
    return role;
  }
}
