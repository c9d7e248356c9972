import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { STSClient } from '@aws-sdk/client-sts';
import { type AwsSettings, awsRegionOf } from '@stratus/core';

export interface AwsClientSettings extends AwsSettings {
  AWS_MAX_ATTEMPTS: number;
  AWS_REQUEST_TIMEOUT_MS: number;
}

/** Static credentials for tests and local peers; in AWS the SDK's default chain (the function's role) is used. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function clientConfig(
  settings: AwsClientSettings,
  endpoint: string | undefined,
  credentials?: AwsCredentials,
) {
  return {
    // Lambda always sets AWS_REGION; STS's global endpoint lives in us-east-1.
    region: awsRegionOf(settings) ?? 'us-east-1',
    maxAttempts: settings.AWS_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: settings.AWS_REQUEST_TIMEOUT_MS,
      requestTimeout: settings.AWS_REQUEST_TIMEOUT_MS,
    },
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  };
}

export const stsClientFor = (
  settings: AwsClientSettings & { STS_ENDPOINT?: string | undefined },
  credentials?: AwsCredentials,
) => new STSClient(clientConfig(settings, settings.STS_ENDPOINT, credentials));

export const eventBridgeClientFor = (
  settings: AwsClientSettings & { EVENTBRIDGE_ENDPOINT?: string | undefined },
  credentials?: AwsCredentials,
) => new EventBridgeClient(clientConfig(settings, settings.EVENTBRIDGE_ENDPOINT, credentials));

export const dynamoDbClientFor = (
  settings: AwsClientSettings & { DYNAMODB_ENDPOINT?: string | undefined },
  credentials?: AwsCredentials,
) => new DynamoDBClient(clientConfig(settings, settings.DYNAMODB_ENDPOINT, credentials));
