import { Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apprunner from 'aws-cdk-lib/aws-apprunner';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { EnvironmentConfig, PlatformServiceConfig } from '../config/environments.js';
import { imageUri } from '../config/resolve-environment.js';
import { prebuiltBundle } from '../constructs/build-inputs.js';
import { acknowledgeRules, arnAsNagShowsIt } from '../constructs/rule-acknowledgements.js';
import { coreSettings } from '../constructs/runtime-settings.js';
import { accessLogsBucket, secureBucket } from '../constructs/secure-bucket.js';
import { tracedFunction } from '../constructs/traced-function.js';

export interface PlatformStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

interface ServiceIntegrations {
  /** For `/<service>` itself. */
  readonly root: apigateway.Integration;
  /** For `/<service>/{proxy+}`. */
  readonly proxy: apigateway.Integration;
}

export type PlatformServiceName = keyof EnvironmentConfig['platform']['services'];

/** `{project}/{env}/{service}/api-key`: where the service-to-service client finds a key. */
export function apiKeySecretName(config: EnvironmentConfig, service: string): string {
  return `${config.project}/${config.envName}/${service}/api-key`;
}

/**
 * The shared-library services behind one REST API: `/api` on App Runner, `/chat`, `/s3vector` and
 * `/runner` on Lambda. Each service has its own API key (value kept in Secrets Manager) bound to its
 * own usage plan, and reads only its own secret.
 */
export class PlatformStack extends Stack {
  readonly api: apigateway.RestApi;
  readonly functions: Partial<Record<PlatformServiceName, lambda.Function>> = {};
  readonly apiKeySecrets = {} as Record<PlatformServiceName, secretsmanager.Secret>;
  readonly vectorsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: config.logRetentionDays,
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${config.project}-${config.envName}-platform`,
      description: 'Stratus platform services',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: config.envName,
        tracingEnabled: true,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
      },
      defaultMethodOptions: { apiKeyRequired: true },
    });
    const validator = this.api.addRequestValidator('ValidateRequests', {
      validateRequestParameters: true,
      validateRequestBody: true,
    });

    const vectorsKey = new kms.Key(this, 'VectorsKey', {
      description: 'Vectors bucket',
      enableKeyRotation: true,
    });
    const logBucket = accessLogsBucket(this, config.retainData);
    this.vectorsBucket = secureBucket(this, 'VectorsBucket', {
      retain: config.retainData,
      serverAccessLogsBucket: logBucket,
      encryption: s3.BucketEncryption.KMS,
    });
    (this.vectorsBucket.node.defaultChild as s3.CfnBucket).addPropertyOverride(
      'BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault.KMSMasterKeyID',
      vectorsKey.keyArn,
    );

    const services = Object.entries(config.platform.services) as [
      PlatformServiceName,
      PlatformServiceConfig,
    ][];
    for (const [name, service] of services) {
      const secret = this.apiKeyWithUsagePlan(config, name, service);
      const resource = this.api.root.addResource(service.path);
      const integrations =
        service.runsOn === 'lambda'
          ? this.lambdaIntegration(config, name, secret)
          : this.appRunnerIntegration(config, name, secret);
      resource.addMethod('ANY', integrations.root, { requestValidator: validator });
      resource.addProxy({
        defaultIntegration: integrations.proxy,
        defaultMethodOptions: {
          requestValidator: validator,
          requestParameters: { 'method.request.path.proxy': true },
        },
        anyMethod: true,
      });
    }

    for (const name of ['s3vector', 'runner'] as const) {
      const fn = this.functions[name];
      if (!fn) continue;
      acknowledgeRules(fn, [
        {
          id: 'AwsSolutions-IAM5',
          finding: `Resource::${arnAsNagShowsIt(this.vectorsBucket)}/vectors/*`,
          reason: 'Objects under the vectors/ prefix only.',
        },
      ]);
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ReadWriteVectors',
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: [this.vectorsBucket.arnForObjects('vectors/*')],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'UseVectorsKey',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [vectorsKey.keyArn],
        }),
      );
    }

    acknowledgeRules(this.api, [
      {
        id: 'AwsSolutions-COG4',
        reason: 'Callers are services, authenticated by per-service API keys bound to usage plans.',
      },
      { id: 'AwsSolutions-APIG3', reason: 'WAF is attached per account by the network team, not per API.' },
      {
        id: 'AwsSolutions-APIG4',
        reason: 'Every method requires an API key bound to a usage plan; callers are services, not users.',
      },
      {
        id: 'AwsSolutions-IAM4',
        reason: 'The API Gateway account role needs AmazonAPIGatewayPushToCloudWatchLogs to write logs.',
        finding:
          'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      },
    ]);
  }

  private apiKeyWithUsagePlan(
    config: EnvironmentConfig,
    name: PlatformServiceName,
    service: PlatformServiceConfig,
  ): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, `${name}ApiKeySecret`, {
      secretName: apiKeySecretName(config, name),
      description: `API key of the ${name} service; also the value of its API Gateway key`,
      generateSecretString: { excludePunctuation: true, passwordLength: 40 },
    });
    acknowledgeRules(secret, [
      {
        id: 'AwsSolutions-SMG4',
        reason: 'Rotating means rotating the API Gateway key in step; done by the runbook procedure.',
      },
    ]);
    this.apiKeySecrets[name] = secret;
    const key = new apigateway.ApiKey(this, `${name}ApiKey`, {
      apiKeyName: `${config.project}-${config.envName}-${name}`,
      description: `Calls made by the ${name} service`,
      value: secret.secretValue.unsafeUnwrap(),
    });
    const plan = new apigateway.UsagePlan(this, `${name}UsagePlan`, {
      name: `${config.project}-${config.envName}-${name}`,
      quota: { limit: service.dailyQuota, period: apigateway.Period.DAY },
      throttle: { rateLimit: service.rateLimit, burstLimit: service.burstLimit },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    plan.addApiKey(key);
    return secret;
  }

  private lambdaIntegration(
    config: EnvironmentConfig,
    name: PlatformServiceName,
    secret: secretsmanager.Secret,
  ): ServiceIntegrations {
    const fn = tracedFunction(this, `${name}Function`, {
      config,
      serviceName: name,
      description: `Stratus ${name} service`,
      bundle: prebuiltBundle(this, `services/${name}/dist/lambda`, 'index'),
      environment: {
        // Built from the API id, not the stage, which depends on this function (a cycle otherwise).
        API_GATEWAY_URL: `https://${this.api.restApiId}.execute-api.${this.region}.${this.urlSuffix}/${config.envName}/`,
        API_KEY_SECRET_ID: secret.secretName,
      },
    });
    secret.grantRead(fn);
    this.functions[name] = fn;
    const integration = new apigateway.LambdaIntegration(fn);
    return { root: integration, proxy: integration };
  }

  private appRunnerIntegration(
    config: EnvironmentConfig,
    name: PlatformServiceName,
    secret: secretsmanager.Secret,
  ): ServiceIntegrations {
    const image = config.platform.appRunnerImage;
    const accessRole = new iam.Role(this, `${name}EcrAccessRole`, {
      assumedBy: new iam.ServicePrincipal('build.apprunner.amazonaws.com'),
      description: 'App Runner pulls the service image',
    });
    accessRole.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'ecr:BatchGetImage',
          'ecr:GetDownloadUrlForLayer',
          'ecr:BatchCheckLayerAvailability',
          'ecr:DescribeImages',
        ],
        resources: [
          this.formatArn({ service: 'ecr', resource: 'repository', resourceName: image.repositoryName }),
        ],
      }),
    );
    accessRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ecr:GetAuthorizationToken'],
        resources: ['*'],
      }),
    );
    acknowledgeRules(accessRole, [
      {
        id: 'AwsSolutions-IAM5',
        reason: 'ecr:GetAuthorizationToken supports no resource-level permissions.',
        finding: 'Resource::*',
      },
    ]);
    const instanceRole = new iam.Role(this, `${name}InstanceRole`, {
      assumedBy: new iam.ServicePrincipal('tasks.apprunner.amazonaws.com'),
      description: `The ${name} service at run time`,
    });
    secret.grantRead(instanceRole);

    const scaling = new apprunner.CfnAutoScalingConfiguration(this, `${name}Scaling`, {
      autoScalingConfigurationName: `${config.project}-${config.envName}-${name}`,
      minSize: 1,
      maxSize: 5,
      maxConcurrency: 100,
    });
    const observability = new apprunner.CfnObservabilityConfiguration(this, `${name}Observability`, {
      observabilityConfigurationName: `${config.project}-${config.envName}-${name}`,
      traceConfiguration: { vendor: 'AWSXRAY' },
    });
    const service = new apprunner.CfnService(this, `${name}Service`, {
      serviceName: `${config.project}-${config.envName}-${name}`,
      sourceConfiguration: {
        autoDeploymentsEnabled: false,
        authenticationConfiguration: { accessRoleArn: accessRole.roleArn },
        imageRepository: {
          imageRepositoryType: 'ECR',
          imageIdentifier: imageUri(config, image),
          imageConfiguration: {
            port: '8080',
            runtimeEnvironmentVariables: Object.entries({
              ...coreSettings(config, name),
              HOST: '0.0.0.0',
              PORT: '8080',
              ENABLE_TRACING: 'true',
              API_KEY_SECRET_ID: secret.secretName,
            }).map(([variable, value]) => ({ name: variable, value })),
          },
        },
      },
      instanceConfiguration: { cpu: '1 vCPU', memory: '2 GB', instanceRoleArn: instanceRole.roleArn },
      autoScalingConfigurationArn: scaling.attrAutoScalingConfigurationArn,
      observabilityConfiguration: {
        observabilityEnabled: true,
        observabilityConfigurationArn: observability.attrObservabilityConfigurationArn,
      },
      healthCheckConfiguration: { protocol: 'HTTP', path: '/health', interval: 10, timeout: 5 },
    });
    const url = Fn.join('', ['https://', service.attrServiceUrl]);
    return {
      root: new apigateway.HttpIntegration(Fn.join('', [url, '/']), { proxy: true, httpMethod: 'ANY' }),
      proxy: new apigateway.HttpIntegration(Fn.join('', [url, '/{proxy}']), {
        proxy: true,
        httpMethod: 'ANY',
        options: { requestParameters: { 'integration.request.path.proxy': 'method.request.path.proxy' } },
      }),
    };
  }
}
