import { RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type { Construct } from 'constructs';

/** An ECR repository for one service's images: scanned on push, tags immutable (deploys go by digest). */
export function serviceRepository(scope: Construct, id: string, repositoryName: string, retain: boolean) {
  return new ecr.Repository(scope, id, {
    repositoryName,
    imageScanOnPush: true,
    imageTagMutability: ecr.TagMutability.IMMUTABLE,
    encryption: ecr.RepositoryEncryption.AES_256,
    removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    emptyOnDelete: false,
    lifecycleRules: [
      {
        description: 'untagged layers of failed pushes',
        tagStatus: ecr.TagStatus.UNTAGGED,
        maxImageCount: 10,
      },
      { description: 'keep the last 100 images', tagStatus: ecr.TagStatus.ANY, maxImageCount: 100 },
    ],
  });
}
