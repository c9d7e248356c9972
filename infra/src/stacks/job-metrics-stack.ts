import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments.js';
import {
  acknowledgeLambdaBasicExecution,
  acknowledgeRules,
  textAsNagShowsIt,
} from '../constructs/rule-acknowledgements.js';

export interface JobMetricsStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/** At most 28 characters: OpenSearch's limit. */
export const metricsDomainName = (config: EnvironmentConfig) => `${config.project}-${config.envName}-metrics`;

/** Google's OIDC issuer as IAM names it in trust-policy condition keys. */
export const googleIssuer = 'accounts.google.com';

/**
 * Where final job metrics land (OpenSearch), and the role the shared Google service account assumes
 * with its Google-signed ID token (WIF) to write them: only the metrics index, nothing else.
 */
export class JobMetricsStack extends Stack {
  readonly domainArn: string;
  readonly domainEndpoint: string;
  readonly writerRole: iam.Role;
  readonly domain?: opensearch.Domain;

  constructor(scope: Construct, id: string, props: JobMetricsStackProps) {
    super(scope, id, props);
    const { config } = props;
    const settings = config.jobMetrics;

    // Condition keys for accounts.google.com (IAM user guide, "Available keys for AWS web identity
    // federation"): aud is the token's azp (the service account's unique id), oaud the token's aud,
    // sub the service account's unique id.
    this.writerRole = new iam.Role(this, 'GoogleMetricsWriterRole', {
      description: 'The shared Google service account writes final job metrics',
      assumedBy: new iam.FederatedPrincipal(
        googleIssuer,
        {
          StringEquals: {
            [`${googleIssuer}:aud`]: settings.googleServiceAccountUniqueId,
            [`${googleIssuer}:oaud`]: settings.googleAudience,
            [`${googleIssuer}:sub`]: settings.googleServiceAccountUniqueId,
          },
        },
        'sts:AssumeRoleWithWebIdentity',
      ),
    });

    if (settings.existingDomainArn && settings.existingDomainEndpoint) {
      this.domainArn = settings.existingDomainArn;
      this.domainEndpoint = settings.existingDomainEndpoint;
    } else {
      this.domain = this.createDomain(config);
      // Built from the name rather than referenced, so other stacks can scope policies to it
      // without a cross-stack export.
      this.domainArn = this.formatArn({
        service: 'es',
        resource: 'domain',
        resourceName: metricsDomainName(config),
      });
      this.domainEndpoint = this.domain.domainEndpoint;
    }

    const indexArn = `${this.domainArn}/${settings.metricsIndex}`;
    this.writerRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteMetricsIndexOnly',
        actions: ['es:ESHttpPut', 'es:ESHttpPost', 'es:ESHttpGet', 'es:ESHttpHead'],
        resources: [indexArn, `${indexArn}/*`],
      }),
    );
    new CfnOutput(this, 'WriterRoleArn', {
      value: this.writerRole.roleArn,
      description: 'AWS_ROLE_ARN of the Google-side writer (AWS_CREDENTIALS_SOURCE=google-wif)',
    });
    new CfnOutput(this, 'DomainEndpoint', { value: this.domainEndpoint, description: 'OPENSEARCH_URL host' });
    acknowledgeRules(this.writerRole, [
      {
        id: 'AwsSolutions-IAM5',
        reason: 'Documents of the metrics index only (`<domain>/<index>/*`: _doc and _update paths).',
        finding: `Resource::${textAsNagShowsIt(this, this.domainArn)}/${settings.metricsIndex}/*`,
      },
    ]);
  }

  private createDomain(config: EnvironmentConfig): opensearch.Domain {
    const settings = config.jobMetrics;
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const slowLogs = new logs.LogGroup(this, 'SlowLogs', {
      retention: config.logRetentionDays,
      removalPolicy,
    });
    const errorLogs = new logs.LogGroup(this, 'AppLogs', {
      retention: config.logRetentionDays,
      removalPolicy,
    });
    const multiNode = settings.instanceCount > 1;
    const domain = new opensearch.Domain(this, 'Domain', {
      domainName: metricsDomainName(config),
      version: opensearch.EngineVersion.OPENSEARCH_2_19,
      capacity: {
        dataNodeInstanceType: settings.instanceType,
        dataNodes: settings.instanceCount,
        ...(multiNode ? { masterNodes: 3, masterNodeInstanceType: settings.instanceType } : {}),
        multiAzWithStandbyEnabled: false,
      },
      ebs: { volumeSize: 20, volumeType: ec2.EbsDeviceVolumeType.GP3 },
      zoneAwareness: multiNode
        ? { enabled: true, availabilityZoneCount: Math.min(3, settings.instanceCount) }
        : undefined,
      encryptionAtRest: { enabled: true },
      nodeToNodeEncryption: true,
      enforceHttps: true,
      tlsSecurityPolicy: opensearch.TLSSecurityPolicy.TLS_1_2,
      logging: {
        slowSearchLogEnabled: true,
        slowSearchLogGroup: slowLogs,
        slowIndexLogEnabled: true,
        slowIndexLogGroup: slowLogs,
        appLogEnabled: true,
        appLogGroup: errorLogs,
      },
      removalPolicy,
    });
    // Access by signed requests of named principals only: the writer role and this account's admins.
    domain.addAccessPolicies(
      new iam.PolicyStatement({
        principals: [this.writerRole],
        actions: ['es:ESHttpPut', 'es:ESHttpPost', 'es:ESHttpGet', 'es:ESHttpHead'],
        resources: [
          `${domain.domainArn}/${settings.metricsIndex}`,
          `${domain.domainArn}/${settings.metricsIndex}/*`,
        ],
      }),
    );
    const suppressions = [
      {
        id: 'AwsSolutions-OS1',
        reason:
          'The writer runs in Google Cloud; it reaches the public endpoint with SigV4-signed requests only.',
      },
      {
        id: 'AwsSolutions-OS3',
        reason: 'Access is by IAM principal in the domain policy, not by source IP.',
      },
      { id: 'AwsSolutions-OS5', reason: 'The access policy names the writer role; no anonymous access.' },
      {
        id: 'AwsSolutions-IAM5',
        finding: 'Resource::*',
        reason:
          "CDK's log-group policy custom resource: logs:PutResourcePolicy has no resource-level permissions.",
      },
    ];
    if (!multiNode) {
      suppressions.push(
        { id: 'AwsSolutions-OS4', reason: 'Single-node domain outside prod: no dedicated masters.' },
        {
          id: 'AwsSolutions-OS7',
          reason: 'Single-node domain outside prod: zone awareness needs two nodes.',
        },
      );
    }
    acknowledgeRules(domain, suppressions);
    // The singleton Lambda behind that custom resource (CDK's AwsCustomResource).
    const customResourceHandler = this.node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
    if (customResourceHandler) acknowledgeLambdaBasicExecution(customResourceHandler);
    return domain;
  }
}
