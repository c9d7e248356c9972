import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { acknowledgeRules } from './rule-acknowledgements.js';

export interface SecureBucketProps {
  readonly bucketName?: string;
  readonly retain: boolean;
  /** Where S3 writes server access logs; omit only for the access-log bucket itself. */
  readonly serverAccessLogsBucket?: s3.IBucket;
  readonly encryption?: s3.BucketEncryption;
}

/**
 * The one way buckets are made here: encrypted, public access blocked, TLS only, ACLs disabled,
 * versioned, with server access logs. Retained on stack deletion where the environment keeps data.
 */
export function secureBucket(scope: Construct, id: string, props: SecureBucketProps): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    ...(props.bucketName ? { bucketName: props.bucketName } : {}),
    encryption: props.encryption ?? s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    ...(props.serverAccessLogsBucket
      ? {
          serverAccessLogsBucket: props.serverAccessLogsBucket,
          serverAccessLogsPrefix: `${id.toLowerCase()}/`,
        }
      : {}),
  });
  if (!props.serverAccessLogsBucket) {
    acknowledgeRules(bucket, [
      {
        id: 'AwsSolutions-S1',
        reason: 'This is the server access log bucket; logging it into itself would loop.',
      },
    ]);
  }
  return bucket;
}

/** The bucket that receives the server access logs of a stack's other buckets. */
export function accessLogsBucket(scope: Construct, retain: boolean): s3.Bucket {
  const bucket = secureBucket(scope, 'AccessLogs', { retain });
  bucket.addLifecycleRule({ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) });
  return bucket;
}
