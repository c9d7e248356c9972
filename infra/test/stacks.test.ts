import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigMap, Job } from '../src/kubernetes/objects.js';
import { apiKeySecretName } from '../src/stacks/platform-stack.js';
import {
  appliedObjects,
  asList,
  objectOfKind,
  policyStatements,
  renderJoin,
  type SynthesizedApp,
  synthesizeAllEnvironments,
} from './synthesized-app.js';

let synthesized: SynthesizedApp;

const awsPartition = (intrinsic: unknown) =>
  JSON.stringify(intrinsic) === '{"Ref":"AWS::Partition"}' ? 'aws' : '<token>';

beforeAll(() => {
  synthesized = synthesizeAllEnvironments();
}, 120_000);

afterAll(() => synthesized?.cleanup());

const envs = () => synthesized.environments;
const everyTemplate = () =>
  envs().flatMap((env) => synthesized.allStacks(env).map((stack) => synthesized.template(stack)));

describe('all environments', () => {
  it('synthesizes six stacks for each of dev, test and prod', () => {
    expect(envs().map((env) => env.config.envName)).toEqual(['dev', 'test', 'prod']);
    expect(synthesized.assembly.stacks.map((stack) => stack.stackName).sort()).toEqual(
      ['dev', 'test', 'prod']
        .flatMap((env) =>
          ['network', 'file-processing', 'eval-metrics', 'platform', 'identity', 'job-metrics'].map(
            (part) => `stratus-${env}-${part}`,
          ),
        )
        .sort(),
    );
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged error or warning', () => {
    // synth already failed on any error; this reads the full report, warnings included.
    const report = new AwsSolutionsChecks(synthesized.app).validateScope(synthesized.app);
    const findings = report.violations.map((violation) => `${violation.ruleName} (${violation.severity})`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('turns on X-Ray active tracing on every Lambda function, CDK-made ones included', () => {
    let functions = 0;
    for (const template of everyTemplate()) {
      for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
        functions += 1;
        expect(fn.Properties?.TracingConfig).toEqual({ Mode: 'Active' });
      }
    }
    // identity 2 + platform 3 per environment, plus kubectl handler and custom-resource providers.
    expect(functions).toBeGreaterThanOrEqual(3 * 5);
  });

  it('allows no wildcard action on S3 or Secrets Manager anywhere', () => {
    const wildcard = /^(\*|s3:.*\*.*|secretsmanager:.*\*.*)$/;
    for (const template of everyTemplate()) {
      for (const { resource, statement } of policyStatements(template)) {
        if (statement.Effect !== 'Allow') continue;
        const actions = asList(statement.Action as string | string[] | undefined);
        const offending = actions.filter((action) => wildcard.test(action));
        expect(offending, `${resource}`).toEqual([]);
      }
    }
  });

  it('encrypts every bucket and blocks all public access to it', () => {
    let buckets = 0;
    for (const template of everyTemplate()) {
      for (const [id, bucket] of Object.entries(template.findResources('AWS::S3::Bucket'))) {
        buckets += 1;
        const props = bucket.Properties ?? {};
        expect(
          props.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault,
          id,
        ).toEqual(expect.objectContaining({ SSEAlgorithm: expect.stringMatching(/^(AES256|aws:kms)$/) }));
        expect(props.PublicAccessBlockConfiguration, id).toEqual({
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        });
      }
    }
    expect(buckets).toBeGreaterThanOrEqual(3 * 7);
  });

  it('acknowledges each cdk-nag finding with a reason', () => {
    let acknowledged = 0;
    for (const construct of synthesized.app.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== 'aws:cdk:acknowledged-rules') continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          // CDK acknowledges some of its own CloudFormation-Validate rules; ours are cdk-nag's.
          if (!id.includes('AwsSolutions-')) continue;
          acknowledged += 1;
          expect(id).toMatch(/::AwsSolutions-[A-Z]+\d+/);
          expect(reason.length, id).toBeGreaterThan(20);
        }
      }
    }
    expect(acknowledged).toBeGreaterThan(0);
  });
});

describe('file processing', () => {
  it('lets only the input bucket of this account publish to the topic', () => {
    for (const env of envs()) {
      const template = synthesized.template(env.fileProcessing);
      const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
      expect(policies).toHaveLength(1);
      const allows = (policies[0]!.Properties!.PolicyDocument.Statement as Record<string, unknown>[]).filter(
        (statement) => statement.Effect === 'Allow',
      );
      expect(allows).toHaveLength(1);
      expect(allows[0]).toMatchObject({
        Action: 'sns:Publish',
        Principal: { Service: 's3.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': env.config.account },
        },
      });
      const sourceArn = (allows[0]!.Condition as { ArnLike: Record<string, unknown> }).ArnLike[
        'aws:SourceArn'
      ];
      expect(
        renderJoin(sourceArn, (part) => (JSON.stringify(part) === '{"Ref":"AWS::Partition"}' ? 'aws' : '?')),
      ).toBe(`arn:aws:s3:::${env.config.fileProcessing.inputBucketName}`);
    }
  });

  it('announces objects created under the input prefix on the topic', () => {
    for (const env of envs()) {
      synthesized.template(env.fileProcessing).hasResourceProperties('AWS::S3::Bucket', {
        BucketName: env.config.fileProcessing.inputBucketName,
        NotificationConfiguration: {
          TopicConfigurations: [
            {
              Event: 's3:ObjectCreated:*',
              Filter: {
                S3Key: { Rules: [{ Name: 'prefix', Value: env.config.fileProcessing.inputPrefix }] },
              },
              Topic: Match.anyValue(),
            },
          ],
        },
      });
    }
  });

  it('trusts exactly one service account with audience sts.amazonaws.com (IRSA)', () => {
    for (const env of envs()) {
      const template = synthesized.template(env.fileProcessing);
      const providers = Object.keys(template.findResources('AWS::IAM::OIDCProvider'));
      expect(providers).toHaveLength(1);
      const issuerOf = { 'Fn::Select': [1, { 'Fn::Split': [':oidc-provider/', { Ref: providers[0] }] }] };
      const conditions = template.findResources('Custom::AWSCDKCfnJson');
      const [conditionId, condition] = Object.entries(conditions).find(([id]) =>
        id.startsWith('ServiceAccountRole'),
      )!;
      const rendered = renderJoin(condition.Properties!.Value, (intrinsic) =>
        JSON.stringify(intrinsic) === JSON.stringify(issuerOf) ? '<issuer>' : '<unexpected>',
      );
      const { namespace, serviceAccountName } = env.config.fileProcessing;
      expect(JSON.parse(rendered)).toEqual({
        '<issuer>:sub': `system:serviceaccount:${namespace}:${serviceAccountName}`,
        '<issuer>:aud': 'sts.amazonaws.com',
      });
      const roles = template.findResources('AWS::IAM::Role', {
        Properties: {
          AssumeRolePolicyDocument: { Statement: [{ Principal: { Federated: { Ref: providers[0] } } }] },
        },
      });
      expect(Object.values(roles)).toHaveLength(1);
      expect(Object.values(roles)[0]!.Properties!.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Action: 'sts:AssumeRoleWithWebIdentity',
          Effect: 'Allow',
          Principal: { Federated: { Ref: providers[0] } },
          Condition: { StringEquals: { 'Fn::GetAtt': [conditionId, 'Value'] } },
        },
      ]);
    }
  });

  it('gives the service prefix-scoped S3 access with explicit actions', () => {
    const env = envs()[0]!;
    const statements = policyStatements(synthesized.template(env.fileProcessing))
      .map(({ statement }) => statement)
      .filter((statement) => typeof statement.Sid === 'string');
    const bySid = Object.fromEntries(statements.map((statement) => [statement.Sid, statement]));
    expect(bySid.ReadClientFiles!.Action).toBe('s3:GetObject');
    expect(renderJoin(bySid.ReadClientFiles!.Resource)).toBe('<token>/from_client/*');
    expect(bySid.ListClientFiles!.Condition).toEqual({
      StringLike: { 's3:prefix': ['from_client/*', 'results/*'] },
    });
    expect(renderJoin(bySid.WriteReports!.Resource)).toBe('<token>/results/*');
  });

  it('deploys the listener by image digest with 2 replicas, probes, requests and limits', () => {
    for (const env of envs()) {
      const template = synthesized.template(env.fileProcessing);
      const objects = appliedObjects(template);
      expect(objects.map((object) => object.kind)).toEqual([
        'Namespace',
        'ServiceAccount',
        'ConfigMap',
        'ConfigMap',
        'Role',
        'RoleBinding',
        'Deployment',
        'Service',
      ]);
      const serviceAccount = objectOfKind(objects, 'ServiceAccount');
      expect(serviceAccount.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': '<token>' });
      const deployment = objectOfKind(objects, 'Deployment');
      expect(deployment.spec.replicas).toBe(2);
      const container = deployment.spec.template.spec.containers[0]!;
      expect(container.image).toBe(
        `${env.config.account}.dkr.ecr.${env.config.region}.amazonaws.com/stratus/file-processing@${env.config.fileProcessing.image.digest}`,
      );
      expect(container.livenessProbe?.httpGet.path).toBe('/health');
      expect(container.readinessProbe?.httpGet.path).toBe('/ready');
      expect(container.resources.requests).toBeDefined();
      expect(container.resources.limits).toBeDefined();
      const jobTemplate = objects.find((object) => object.metadata.name === 'file-processing-job-template');
      const job = JSON.parse((jobTemplate as ConfigMap).data['job.json']!) as Job;
      expect(job.spec.template.spec.restartPolicy).toBe('Never');
      expect(job.spec.backoffLimit).toBe(3);
    }
  });

  it('has a queue with a dead-letter queue and, where configured, an HTTPS subscription', () => {
    for (const env of envs()) {
      const template = synthesized.template(env.fileProcessing);
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sqs' });
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
      });
      const https = template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'https' } });
      expect(Object.keys(https).length).toBe(env.config.fileProcessing.httpsEndpoint ? 1 : 0);
    }
  });

  it('runs EKS with a managed node group and the workload applied through the cluster', () => {
    for (const env of envs()) {
      const template = synthesized.template(env.fileProcessing);
      template.hasResourceProperties('AWS::EKS::Cluster', { Version: '1.35' });
      template.hasResourceProperties('AWS::EKS::Nodegroup', {
        ScalingConfig: {
          MinSize: env.config.eks.minSize,
          MaxSize: env.config.eks.maxSize,
          DesiredSize: env.config.eks.desiredSize,
        },
      });
      template.resourceCountIs('Custom::AWSCDK-EKS-KubernetesResource', 1);
    }
  });
});

describe('evaluation metrics', () => {
  it('has a scanned, immutable ECR repository', () => {
    for (const env of envs()) {
      synthesized.template(env.evalMetrics).hasResourceProperties('AWS::ECR::Repository', {
        RepositoryName: 'stratus/eval-metrics',
        ImageScanningConfiguration: { ScanOnPush: true },
        ImageTagMutability: 'IMMUTABLE',
      });
    }
  });

  it('lets only the main branch of the repository assume the deploy role (GitHub OIDC)', () => {
    for (const env of envs()) {
      const { owner, repository, branch } = env.config.evalMetrics.github;
      const roles = synthesized.template(env.evalMetrics).findResources('AWS::IAM::Role', {
        Properties: { Description: Match.stringLikeRegexp('^GitHub Actions') },
      });
      const [role] = Object.values(roles);
      expect(role!.Properties!.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Action: 'sts:AssumeRoleWithWebIdentity',
          Effect: 'Allow',
          Principal: { Federated: { Ref: expect.stringMatching(/^GithubOidcProvider/) } },
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
              'token.actions.githubusercontent.com:sub': `repo:${owner}/${repository}:ref:refs/heads/${branch}`,
            },
          },
        },
      ]);
    }
  });

  it('gives the deploy role ECR push, EKS describe, the Langfuse secret and a namespaced access entry', () => {
    const env = envs()[0]!;
    const template = synthesized.template(env.evalMetrics);
    const sids = policyStatements(template).map(({ statement }) => statement.Sid);
    expect(sids).toEqual(
      expect.arrayContaining(['EcrLogin', 'EcrPush', 'EksDescribe', 'ReadLangfuseSecret']),
    );
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'stratus/dev/eval-metrics/langfuse',
    });
    const [entry] = Object.values(template.findResources('AWS::EKS::AccessEntry'));
    const [policy] = entry!.Properties!.AccessPolicies as { PolicyArn: unknown; AccessScope: unknown }[];
    expect(renderJoin(policy!.PolicyArn)).toMatch(/:eks::aws:cluster-access-policy\/AmazonEKSEditPolicy$/);
    expect(policy!.AccessScope).toEqual({
      Type: 'namespace',
      Namespaces: ['eval-metrics', 'file-processing'],
    });
  });

  it('runs the service with startup/liveness on /health, readiness on /ready, 256Mi/250m to 512Mi/500m', () => {
    for (const env of envs()) {
      const objects = appliedObjects(synthesized.template(env.evalMetrics));
      const container = objectOfKind(objects, 'Deployment').spec.template.spec.containers[0]!;
      expect(container.startupProbe?.httpGet.path).toBe('/health');
      expect(container.livenessProbe?.httpGet.path).toBe('/health');
      expect(container.readinessProbe?.httpGet.path).toBe('/ready');
      expect(container.resources).toEqual({
        requests: { cpu: '250m', memory: '256Mi' },
        limits: { cpu: '500m', memory: '512Mi' },
      });
      expect(container.image).toMatch(/@sha256:[a-f0-9]{64}$/);
      expect(objectOfKind(objects, 'Service').spec.type).toBe('ClusterIP');
    }
  });
});

describe('platform', () => {
  it('serves /api, /chat, /s3vector and /runner with access logs', () => {
    for (const env of envs()) {
      const template = synthesized.template(env.platform);
      const paths = Object.values(template.findResources('AWS::ApiGateway::Resource')).map(
        (resource) => resource.Properties!.PathPart,
      );
      expect(paths).toEqual(expect.arrayContaining(['api', 'chat', 's3vector', 'runner']));
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
        TracingEnabled: true,
      });
    }
  });

  it('binds every API key to its own usage plan with a daily quota', () => {
    for (const env of envs()) {
      const template = synthesized.template(env.platform);
      const keys = Object.keys(template.findResources('AWS::ApiGateway::ApiKey'));
      expect(keys).toHaveLength(4);
      const bindings = Object.values(template.findResources('AWS::ApiGateway::UsagePlanKey'));
      const plans = template.findResources('AWS::ApiGateway::UsagePlan');
      for (const key of keys) {
        const binding = bindings.filter(
          (b) => JSON.stringify(b.Properties!.KeyId) === JSON.stringify({ Ref: key }),
        );
        expect(binding, key).toHaveLength(1);
        const plan = plans[(binding[0]!.Properties!.UsagePlanId as { Ref: string }).Ref]!;
        expect(plan.Properties!.Quota).toEqual({ Limit: expect.any(Number), Period: 'DAY' });
        expect(plan.Properties!.ApiStages).toHaveLength(1);
      }
      for (const method of Object.values(template.findResources('AWS::ApiGateway::Method'))) {
        if (method.Properties!.HttpMethod !== 'OPTIONS') expect(method.Properties!.ApiKeyRequired).toBe(true);
      }
    }
  });

  it('keeps each key in {project}/{env}/{service}/api-key and lets each function read only its own', () => {
    for (const env of envs()) {
      const template = synthesized.template(env.platform);
      const secrets = template.findResources('AWS::SecretsManager::Secret');
      const secretIdByName = new Map(
        Object.entries(secrets).map(([id, secret]) => [secret.Properties!.Name, id]),
      );
      for (const service of ['chat', 's3vector', 'runner'] as const) {
        const own = secretIdByName.get(apiKeySecretName(env.config, service));
        expect(own, service).toBeDefined();
        const fn = env.platform.functions[service]!;
        const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) =>
          JSON.stringify(p.Properties!.Roles).includes(
            env.platform.resolve((fn.role!.node.defaultChild as CfnElement).logicalId),
          ),
        )!;
        const secretStatements = (
          policy.Properties!.PolicyDocument.Statement as Record<string, unknown>[]
        ).filter((s) => asList(s.Action as string[]).some((action) => action.startsWith('secretsmanager:')));
        expect(secretStatements).toHaveLength(1);
        expect(secretStatements[0]!.Resource).toEqual({ Ref: own });
      }
    }
  });

  it('runs Lambdas with 512 MB, 30 s and OpenTelemetry settings, App Runner with 1 vCPU, 2 GB, 1-5 instances', () => {
    for (const env of envs()) {
      const template = synthesized.template(env.platform);
      const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((fn) =>
        String(fn.Properties!.Description ?? '').startsWith('Stratus'),
      );
      expect(functions).toHaveLength(3);
      for (const fn of functions) {
        expect(fn.Properties!.MemorySize).toBe(512);
        expect(fn.Properties!.Timeout).toBe(30);
        expect(fn.Properties!.Environment.Variables).toMatchObject({
          OTEL_PROPAGATORS: 'xray,tracecontext',
          OTEL_SERVICE_NAME: expect.any(String),
          ENABLE_TRACING: 'true',
        });
      }
      template.hasResourceProperties('AWS::AppRunner::Service', {
        InstanceConfiguration: { Cpu: '1 vCPU', Memory: '2 GB' },
      });
      template.hasResourceProperties('AWS::AppRunner::AutoScalingConfiguration', { MinSize: 1, MaxSize: 5 });
      template.hasResourceProperties('AWS::S3::Bucket', {
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } },
          ],
        },
      });
    }
  });
});

describe('identity', () => {
  it('throttles POST /auth/exchange at burst 100, rate 50 with detailed metrics', () => {
    for (const env of envs()) {
      const template = synthesized.template(env.identity);
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /auth/exchange' });
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        DefaultRouteSettings: {
          ThrottlingBurstLimit: 100,
          ThrottlingRateLimit: 50,
          DetailedMetricsEnabled: true,
        },
        AccessLogSettings: Match.anyValue(),
      });
    }
  });

  it("configures both functions with the identity service's own setting names", () => {
    const env = envs()[0]!;
    const template = synthesized.template(env.identity);
    const variables = (id: string) =>
      template.toJSON().Resources[
        env.identity.resolve((env.identity.node.findChild(id).node.defaultChild as CfnElement).logicalId)
      ].Properties.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(variables('AuthExchange'))).toEqual(
      expect.arrayContaining([
        'FIREBASE_PROJECT_ID',
        'AUTH_ROLE_ARN',
        'AUTH_EVENT_BUS_NAME',
        'AUTH_EVENT_SOURCE',
      ]),
    );
    expect(variables('AuthExchange').SERVICE_NAME).toBe('auth-exchange');
    expect(Object.keys(variables('UserProfile'))).toContain('USERS_TABLE');
  });

  it('routes user.signed_in on the auth-events bus to the profile function', () => {
    const template = synthesized.template(envs()[0]!.identity);
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'auth-events' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['stratus.identity'], 'detail-type': ['user.signed_in'] },
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue() })],
    });
  });

  it('keeps users and meetings with point-in-time recovery and encryption', () => {
    const template = synthesized.template(envs()[0]!.identity);
    for (const name of ['users', 'meetings']) {
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TableName: name,
        SSESpecification: { SSEEnabled: true },
        Replicas: [
          Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
        ],
      });
    }
  });

  it('has the sampling rules of the plan and a Firebase role trusted for this project only', () => {
    for (const env of envs()) {
      const template = synthesized.template(env.identity);
      template.hasResourceProperties('AWS::XRay::SamplingRule', {
        SamplingRule: Match.objectLike({
          HTTPMethod: 'POST',
          URLPath: '/auth/*',
          ReservoirSize: 5,
          FixedRate: 0.1,
        }),
      });
      template.hasResourceProperties('AWS::XRay::SamplingRule', {
        SamplingRule: Match.objectLike({ ReservoirSize: 1, FixedRate: 0.05 }),
      });
      const project = env.config.identity.firebaseProjectId;
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Action: 'sts:AssumeRoleWithWebIdentity',
              Effect: 'Allow',
              Principal: { Federated: Match.anyValue() },
              Condition: { StringEquals: { [`securetoken.google.com/${project}:aud`]: project } },
            },
          ],
        },
      });
    }
  });
});

describe('job metrics', () => {
  it('trusts exactly the shared Google service account for the audience (WIF)', () => {
    for (const env of envs()) {
      const { googleServiceAccountUniqueId, googleAudience } = env.config.jobMetrics;
      const roles = synthesized.template(env.jobMetrics).findResources('AWS::IAM::Role', {
        Properties: {
          AssumeRolePolicyDocument: { Statement: [{ Principal: { Federated: 'accounts.google.com' } }] },
        },
      });
      expect(Object.values(roles)).toHaveLength(1);
      expect(Object.values(roles)[0]!.Properties!.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Action: 'sts:AssumeRoleWithWebIdentity',
          Effect: 'Allow',
          Principal: { Federated: 'accounts.google.com' },
          Condition: {
            StringEquals: {
              'accounts.google.com:aud': googleServiceAccountUniqueId,
              'accounts.google.com:oaud': googleAudience,
              'accounts.google.com:sub': googleServiceAccountUniqueId,
            },
          },
        },
      ]);
    }
  });

  it('lets the writer write only the metrics index', () => {
    const env = envs()[0]!;
    const statement = policyStatements(synthesized.template(env.jobMetrics)).find(
      ({ statement }) => statement.Sid === 'WriteMetricsIndexOnly',
    )!.statement;
    expect(
      asList(statement.Action as string[]).every((action) => /^es:ESHttp(Put|Post|Get|Head)$/.test(action)),
    ).toBe(true);
    const domain = `arn:aws:es:${env.config.region}:${env.config.account}:domain/stratus-dev-metrics`;
    expect(asList(statement.Resource).map((resource) => renderJoin(resource, awsPartition))).toEqual([
      `${domain}/job-metrics`,
      `${domain}/job-metrics/*`,
    ]);
    const fileProcessing = policyStatements(synthesized.template(env.fileProcessing)).find(
      ({ statement }) => statement.Sid === 'WriteJobMetrics',
    )!.statement;
    expect(asList(fileProcessing.Resource).map((resource) => renderJoin(resource, awsPartition))).toEqual([
      `${domain}/job-metrics`,
      `${domain}/job-metrics/*`,
    ]);
  });
});
