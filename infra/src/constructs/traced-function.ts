import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments.js';
import type { FunctionBundle } from './build-inputs.js';
import { acknowledgeRules } from './rule-acknowledgements.js';
import { coreSettings, lambdaTelemetrySettings } from './runtime-settings.js';

export interface TracedFunctionProps {
  readonly config: EnvironmentConfig;
  readonly serviceName: string;
  readonly bundle: FunctionBundle;
  readonly environment?: Readonly<Record<string, string>>;
  readonly description: string;
}

/**
 * A Lambda function as every Stratus function is run: 512 MB, 30 s, X-Ray active tracing, the
 * OpenTelemetry and core settings, JSON logs with a retention, Node's source maps on.
 */
export function tracedFunction(scope: Construct, id: string, props: TracedFunctionProps): lambda.Function {
  const { config } = props;
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: config.logRetentionDays,
    removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  const fn = new lambda.Function(scope, id, {
    description: props.description,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    code: props.bundle.code,
    handler: props.bundle.handler,
    memorySize: 512,
    timeout: Duration.seconds(30),
    tracing: lambda.Tracing.ACTIVE,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    environment: {
      // Lambda sets AWS_REGION itself and refuses it as a variable.
      ...withoutRegion(coreSettings(props.config, props.serviceName)),
      ...lambdaTelemetrySettings(props.config, props.serviceName),
      NODE_OPTIONS: '--enable-source-maps',
      ...props.environment,
    },
  });
  if (fn.role) {
    acknowledgeRules(fn.role, [
      {
        id: 'AwsSolutions-IAM4',
        reason: 'AWSLambdaBasicExecutionRole only lets the function write its own logs.',
        finding: 'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      },
      {
        id: 'AwsSolutions-IAM5',
        reason: 'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
        finding: 'Resource::*',
      },
    ]);
  }
  return fn;
}

function withoutRegion(settings: Record<string, string>): Record<string, string> {
  const { AWS_REGION: _region, ...rest } = settings;
  return rest;
}
