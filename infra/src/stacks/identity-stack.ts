import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as xray from 'aws-cdk-lib/aws-xray';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments.js';
import { prebuiltBundle } from '../constructs/build-inputs.js';
import { acknowledgeRules, arnAsNagShowsIt } from '../constructs/rule-acknowledgements.js';
import { accessLogsBucket, secureBucket } from '../constructs/secure-bucket.js';
import { tracedFunction } from '../constructs/traced-function.js';

export interface IdentityStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/** `detail-type` and `source` of the sign-in event, as the identity service emits them. */
export const userSignedIn = { detailType: 'user.signed_in', source: 'stratus.identity' } as const;

/** Where `npm run bundle -w @stratus/identity` writes `<function>.mjs` (scripts/bundle-lambdas.mjs). */
export const identityBundleDir = 'services/identity/dist/lambda';

/**
 * Firebase sign-in -> AWS credentials -> `user.signed_in` on EventBridge -> profile in DynamoDB,
 * with the X-Ray sampling rules of the auth flow.
 */
export class IdentityStack extends Stack {
  readonly httpApi: apigwv2.HttpApi;
  readonly authExchange: lambda.Function;
  readonly userProfile: lambda.Function;
  readonly bus: events.EventBus;
  readonly usersTable: dynamodb.TableV2;
  readonly meetingsTable: dynamodb.TableV2;
  readonly recordingsBucket: s3.Bucket;
  readonly firebaseUserRole: iam.Role;

  constructor(scope: Construct, id: string, props: IdentityStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.usersTable = new dynamodb.TableV2(this, 'UsersTable', {
      tableName: 'users',
      partitionKey: { name: 'userId', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      deletionProtection: config.retainData,
      removalPolicy,
    });
    this.meetingsTable = new dynamodb.TableV2(this, 'MeetingsTable', {
      tableName: 'meetings',
      partitionKey: { name: 'userId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'meetingId', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      deletionProtection: config.retainData,
      removalPolicy,
    });

    const logBucket = accessLogsBucket(this, config.retainData);
    this.recordingsBucket = secureBucket(this, 'RecordingsBucket', {
      retain: config.retainData,
      serverAccessLogsBucket: logBucket,
    });

    this.bus = new events.EventBus(this, 'AuthEvents', { eventBusName: 'auth-events' });
    this.firebaseUserRole = this.createFirebaseUserRole(config);

    this.authExchange = tracedFunction(this, 'AuthExchange', {
      config,
      serviceName: 'identity',
      description: 'Firebase ID token -> temporary AWS credentials; emits user.signed_in',
      bundle: prebuiltBundle(this, identityBundleDir, 'auth-exchange'),
      // Names from services/identity/src/config/settings.ts.
      environment: {
        SERVICE_NAME: 'auth-exchange',
        FIREBASE_PROJECT_ID: config.identity.firebaseProjectId,
        AUTH_ROLE_ARN: this.firebaseUserRole.roleArn,
        AUTH_SESSION_DURATION_SECONDS: String(config.identity.sessionDurationSeconds),
        AUTH_EVENT_BUS_NAME: this.bus.eventBusName,
        AUTH_EVENT_SOURCE: userSignedIn.source,
      },
    });
    this.authExchange.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EmitSignIns',
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
      }),
    );

    this.userProfile = tracedFunction(this, 'UserProfile', {
      config,
      serviceName: 'identity',
      description: 'user.signed_in -> one UpdateItem on the users table',
      bundle: prebuiltBundle(this, identityBundleDir, 'user-profile'),
      environment: { SERVICE_NAME: 'user-profile', USERS_TABLE: this.usersTable.tableName },
    });
    this.userProfile.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'UpsertProfile',
        actions: ['dynamodb:UpdateItem'],
        resources: [this.usersTable.tableArn],
      }),
    );

    const undelivered = new sqs.Queue(this, 'UserSignedInUndelivered', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRules(undelivered, [
      { id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue of the user.signed_in rule.' },
    ]);
    new events.Rule(this, 'UserSignedInRule', {
      eventBus: this.bus,
      description: 'Each sign-in updates the user profile',
      eventPattern: { source: [userSignedIn.source], detailType: [userSignedIn.detailType] },
      targets: [
        new targets.LambdaFunction(this.userProfile, {
          deadLetterQueue: undelivered,
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });

    this.httpApi = this.createHttpApi(config);
    this.createSamplingRules(config);
    new CfnOutput(this, 'AuthExchangeUrl', { value: `${this.httpApi.apiEndpoint}/auth/exchange` });
  }

  private createHttpApi(config: EnvironmentConfig): apigwv2.HttpApi {
    const api = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: `${config.project}-${config.envName}-identity`,
      description: 'Firebase sign-in exchange',
      createDefaultStage: false,
    });
    api.addRoutes({
      path: '/auth/exchange',
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('AuthExchangeIntegration', this.authExchange),
    });
    const accessLogs = new logs.LogGroup(this, 'HttpApiAccessLogs', {
      retention: config.logRetentionDays,
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { burstLimit: 100, rateLimit: 50 },
      detailedMetricsEnabled: true,
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
    });
    // The route is the sign-in itself: callers hold only a Firebase ID token, which the function verifies.
    acknowledgeRules(api, [
      {
        id: 'AwsSolutions-APIG4',
        reason: 'The Firebase ID token in the body is the credential; the function verifies it.',
      },
    ]);
    return api;
  }

  /** The sampling of the original plan: 1/s + 5% by default; the auth flow 5/s + 10%. */
  private createSamplingRules(config: EnvironmentConfig): void {
    const rule = (
      name: string,
      priority: number,
      reservoirSize: number,
      fixedRate: number,
      method: string,
      path: string,
    ) =>
      new xray.CfnSamplingRule(this, `${name}SamplingRule`, {
        samplingRule: {
          ruleName: `${config.project}-${config.envName}-${name}`.slice(0, 32),
          priority,
          reservoirSize,
          fixedRate,
          httpMethod: method,
          urlPath: path,
          host: '*',
          serviceName: '*',
          serviceType: '*',
          resourceArn: '*',
          version: 1,
        },
      });
    rule('auth', 100, 5, 0.1, 'POST', '/auth/*');
    rule('default', 9000, 1, 0.05, '*', '*');
  }

  /** What a signed-in user's temporary credentials may do: their own recordings, nothing else. */
  private createFirebaseUserRole(config: EnvironmentConfig): iam.Role {
    const projectId = config.identity.firebaseProjectId;
    const issuer = `securetoken.google.com/${projectId}`;
    const provider = new iam.OidcProviderNative(this, 'FirebaseOidcProvider', {
      url: `https://${issuer}`,
      clientIds: [projectId],
    });
    const role = new iam.Role(this, 'FirebaseUserRole', {
      description: 'Assumed with a Firebase ID token through the auth exchange',
      maxSessionDuration: Duration.seconds(Math.max(3600, config.identity.sessionDurationSeconds)),
      assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        StringEquals: { [`${issuer}:aud`]: projectId },
      }),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OwnRecordings',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.recordingsBucket.arnForObjects(`recordings/\${${issuer}:sub}/*`)],
      }),
    );
    acknowledgeRules(role, [
      {
        id: 'AwsSolutions-IAM5',
        reason: "Objects under the signed-in user's own prefix, keyed by the token's sub.",
        finding: `Resource::${arnAsNagShowsIt(this.recordingsBucket)}/recordings/<${issuer}:sub>/*`,
      },
    ]);
    return role;
  }
}
